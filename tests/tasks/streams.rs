//! Streams and sinks: a topic published to through a `Sink` and read by subscriber
//! processes, an MPMC queue drained through a `Stream`, and many tasks awaiting many rings
//! on the one helper thread of the process.

use crate::common::{checked, fill, len_of, say, seq_of, spawn, watchdog, RingGuard, SLOT};
use futures_util::{SinkExt, StreamExt};
use ipcring::{broadcast, mpmc, spsc, RecvError};
use std::time::Duration;

/// Child: subscribes to the topic, says `ready`, reads it as a stream until it ends,
/// checking each message and the order; says how many it got.
pub fn subscriber(topic: &str, _arg: &str) {
    let mut rx = broadcast::Subscriber::open(topic).expect("subscribe");
    say("ready", "");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let n = rt.block_on(async move {
        let mut n = 0u64;
        let mut messages = rx.messages();
        while let Some(m) = messages.next().await {
            let m = m.expect("a message");
            assert_eq!(checked(&m), seq_of(0, n));
            n += 1;
        }
        n
    });
    say("got", n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_feeds_a_topic_that_subscriber_processes_read_as_streams() {
    const MESSAGES: u64 = 20_000;
    let _w = watchdog("sink to streams", Duration::from_secs(120));
    let ring = RingGuard::new("task-topic");
    let mut tx = broadcast::Builder::new(ring.name())
        .capacity(64)
        .slot_size(SLOT)
        .create_publisher()
        .expect("create the topic");
    let subs: Vec<_> = (0..2)
        .map(|_| spawn("subscriber", ring.name(), ""))
        .collect();
    for s in &subs {
        s.expect("ready", Duration::from_secs(20));
    }
    let mut sink = tx.sends();
    let mut buf = [0u8; SLOT];
    for n in 0..MESSAGES {
        let seq = seq_of(0, n);
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        sink.send(&*msg).await.expect("send");
    }
    sink.close().await.expect("flush");
    drop(tx);
    for s in subs {
        let got: u64 = s
            .expect("got", Duration::from_secs(30))
            .trim()
            .parse()
            .unwrap();
        assert_eq!(got, MESSAGES);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_queue_drains_as_a_stream() {
    let _w = watchdog("queue stream", Duration::from_secs(60));
    let ring = RingGuard::new("task-queue");
    let mut rx = mpmc::Consumer::create(ring.name(), 16, SLOT).expect("create");
    let name = ring.name().to_owned();
    let feeder = tokio::spawn(async move {
        let mut tx = mpmc::Producer::open(&name).expect("open");
        let mut buf = [0u8; SLOT];
        for n in 0..5_000 {
            let seq = seq_of(1, n);
            let msg = &mut buf[..len_of(seq)];
            fill(seq, msg);
            tx.send_async(msg).await.expect("send");
            if n % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    let mut n = 0;
    let mut messages = rx.messages();
    while let Some(m) = messages.next().await {
        assert_eq!(checked(&m.expect("a message")), seq_of(1, n));
        n += 1;
    }
    assert_eq!(n, 5_000);
    feeder.await.expect("feeder");
}

/// The threads of this process named like the helper thread.
fn helper_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("list threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim() == "ipcring-waits")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_on_more_rings_than_one_sleep_takes_share_one_helper_thread() {
    // More than the 127 words the helper thread sleeps on at once: it naps on windows.
    const TASKS: usize = 160;
    let _w = watchdog("many tasks", Duration::from_secs(60));
    let rings: Vec<RingGuard> = (0..TASKS).map(|_| RingGuard::new("task-many")).collect();
    let mut txs = Vec::new();
    let mut tasks = Vec::new();
    for g in &rings {
        let mut rx = spsc::Consumer::create(g.name(), 4096).expect("create");
        txs.push(spsc::Producer::open(g.name()).expect("open"));
        tasks.push(tokio::spawn(async move {
            let mut got = 0u64;
            loop {
                match rx.recv_value_async::<u64>().await {
                    Ok(v) => {
                        assert_eq!(v, got);
                        got += 1;
                    }
                    Err(RecvError::Disconnected) => return got,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    // Every task waits now (their rings are empty).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(helper_threads(), 1);
    for round in 0..100u64 {
        for tx in &mut txs {
            tx.send_value(&round).expect("send");
        }
        if round % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    txs.clear();
    for t in tasks {
        assert_eq!(t.await.expect("task"), 100);
    }
    assert_eq!(helper_threads(), 1);
}

/// `read_async` of every kind waits for a message sent later and lends it in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_async_of_every_kind_lends_a_message_sent_later() {
    let _w = watchdog("read_async", Duration::from_secs(60));
    let later = Duration::from_millis(20);
    let g = RingGuard::new("task-read-spsc");
    let mut rx = spsc::Consumer::create(g.name(), 4096).expect("create");
    let mut tx = spsc::Producer::open(g.name()).expect("open");
    let sender = tokio::spawn(async move {
        tokio::time::sleep(later).await;
        tx.send(b"spsc").expect("send");
        tx
    });
    assert_eq!(rx.read_async().await.expect("read").to_vec(), b"spsc");
    drop(sender.await);

    let g = RingGuard::new("task-read-mpmc");
    let mut rx = mpmc::Consumer::create(g.name(), 8, SLOT).expect("create");
    let mut tx = mpmc::Producer::open(g.name()).expect("open");
    let sender = tokio::spawn(async move {
        tokio::time::sleep(later).await;
        tx.send(b"mpmc").expect("send");
        tx
    });
    assert_eq!(rx.read_async().await.expect("read").to_vec(), b"mpmc");
    drop(sender.await);

    let g = RingGuard::new("task-read-topic");
    let mut tx = broadcast::Builder::new(g.name())
        .capacity(8)
        .slot_size(SLOT)
        .create_publisher()
        .expect("create");
    let mut rx = broadcast::Subscriber::open(g.name()).expect("subscribe");
    let sender = tokio::spawn(async move {
        tokio::time::sleep(later).await;
        tx.send(b"topic").expect("send");
        tx
    });
    assert_eq!(rx.read_async().await.expect("read").to_vec(), b"topic");
    drop(sender.await);
}
