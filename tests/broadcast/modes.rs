//! The two modes in one process: lossy subscribers that are overtaken learn exactly how
//! much they lost and never see a torn message; lossless ones are waited for, unless
//! evicted.

use crate::common::{is_message, message, watchdog, RingGuard};
use ipcring::broadcast::{Builder, HeapTopic, Subscriber};
use ipcring::{RecvError, WaitStrategy};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn an_overtaken_lossy_subscriber_learns_exactly_how_many_it_lost() {
    let ring = RingGuard::new("lagged");
    let mut tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .lossy(true)
        .create_publisher()
        .expect("create");
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    for v in 0..10u64 {
        tx.try_send_value(&v).expect("a lossy topic never fills");
    }
    assert_eq!(rx.recv_value::<u64>(), Err(RecvError::Lagged { missed: 6 }));
    for v in 6..10u64 {
        assert_eq!(rx.recv_value::<u64>(), Ok(v));
    }
    assert_eq!(rx.try_recv_value::<u64>(), Err(RecvError::Empty));
    let s = rx.stats();
    assert_eq!(
        (s.published, s.received, s.missed, s.high_water),
        (10, 4, 6, 4)
    );
}

#[test]
fn a_slow_lossy_subscriber_sees_received_plus_missed_equal_published_and_nothing_torn() {
    let _w = watchdog("a_slow_lossy_subscriber", LIMIT);
    const N: u64 = 200_000;
    let topic = HeapTopic::new(64, 64, (2, 2), true, None, u64::MAX - 1000);
    let mut tx = topic.publisher(WaitStrategy::BusySpin).expect("publisher");
    let mut rx = topic
        .subscriber(WaitStrategy::default(), false)
        .expect("subscriber");
    let reader = std::thread::spawn(move || {
        let (mut received, mut missed, mut next, mut reported) = (0u64, 0u64, 0u64, 0u64);
        let mut buf = Vec::new();
        while received + missed < N {
            match rx.recv_into(&mut buf) {
                Ok(len) => {
                    let seq = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
                    assert!(seq >= next, "order: {seq} after {next}");
                    assert!(is_message(seq, len, &buf), "message {seq} is torn");
                    missed += seq - next;
                    next = seq + 1;
                    received += 1;
                    if received % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
                Err(RecvError::Lagged { missed: m }) => {
                    // Counted when the next message arrives (its number says how many
                    // were skipped); the reports must add up to the same.
                    reported += m;
                }
                Err(e) => panic!("receive: {e}"),
            }
        }
        assert_eq!(reported, missed, "the Lagged reports add up to the gaps");
        (received, missed, rx.own_stats())
    });
    for seq in 0..N {
        let len = 8 + (seq % 57) as usize;
        tx.send(&message(seq, len)).expect("send");
    }
    let (received, missed, own) = reader.join().expect("reader");
    assert_eq!(received + missed, N);
    assert_eq!((own.received, own.missed), (received, missed));
    assert!(
        missed > 0,
        "the reader was never overtaken: the test proves nothing"
    );
}

#[test]
fn a_stopped_lossless_subscriber_is_evicted_after_max_lag_and_told_so() {
    let ring = RingGuard::new("evict");
    let mut tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .max_lag(Duration::from_millis(30))
        .create_publisher()
        .expect("create");
    let mut stuck = Subscriber::open(ring.name()).expect("subscribe");
    let mut live = Subscriber::open(ring.name()).expect("subscribe");
    for v in 0..4u64 {
        tx.send_value(&v).expect("send");
    }
    for v in 0..4u64 {
        assert_eq!(live.recv_value::<u64>(), Ok(v));
    }
    // `stuck` read nothing and holds the topic full; after max_lag the publisher evicts
    // it.
    assert_eq!(tx.try_send_value(&4u64), Err(ipcring::SendError::Full));
    tx.send_value(&4u64).expect("send once stuck is evicted");
    assert_eq!(tx.stats().evicted, 1);
    assert_eq!(live.recv_value::<u64>(), Ok(4));
    assert_eq!(stuck.recv_value::<u64>(), Err(RecvError::Evicted));
    tx.send_value(&5u64).expect("send");
    assert_eq!(stuck.recv_value::<u64>(), Ok(5));
    assert_eq!(live.recv_value::<u64>(), Ok(5));
    assert_eq!(stuck.own_stats().evicted, 1);
}

#[test]
fn lossless_subscribers_on_threads_see_identical_sequences() {
    let _w = watchdog("lossless_subscribers_on_threads", LIMIT);
    const N: u64 = 20_000;
    let topic = HeapTopic::new(16, 32, (3, 3), false, None, u64::MAX - 100);
    // Five threads on few CPUs: spinning would only burn the time slices of the threads
    // that are waited for.
    let s = WaitStrategy::Park;
    let subs: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = topic.subscriber(s, false).expect("subscriber");
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut digest = 0u64;
                for _ in 0..2 * N {
                    rx.recv_into(&mut buf).expect("receive");
                    let v = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
                    digest = digest.rotate_left(5) ^ v;
                }
                digest
            })
        })
        .collect();
    let pubs: Vec<_> = (0..2u64)
        .map(|id| {
            let mut tx = topic.publisher(s).expect("publisher");
            std::thread::spawn(move || {
                for i in 0..N {
                    tx.send_value(&(id << 32 | i)).expect("send");
                }
            })
        })
        .collect();
    for p in pubs {
        p.join().expect("publisher");
    }
    let digests: Vec<u64> = subs.into_iter().map(|s| s.join().expect("sub")).collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:x?}");
}

#[test]
fn a_stalled_publishers_claim_is_passed_and_its_late_commit_refused() {
    let _w = watchdog("a_stalled_publishers_claim", LIMIT);
    let ring = RingGuard::new("stall");
    let mut fast = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .stall_timeout(Duration::from_millis(30))
        .create_publisher()
        .expect("create");
    let mut slow = ipcring::broadcast::Publisher::open(ring.name()).expect("a publisher");
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    let mut g = slow.reserve(8).expect("claim the first position");
    g.copy_from_slice(&7u64.to_le_bytes());
    fast.send_value(&1u64).expect("send behind the claim");
    assert_eq!(rx.recv_value::<u64>(), Ok(1), "the stalled claim is passed");
    assert_eq!(rx.stats().skipped, 1);
    assert_eq!(g.commit(8), Err(ipcring::SendError::Skipped));
    assert_eq!(rx.try_recv_value::<u64>(), Err(RecvError::Empty));
    // The refused claim's cell is free again: a whole lap goes through it.
    for v in 2..7u64 {
        fast.send_value(&v).expect("send");
        assert_eq!(rx.recv_value::<u64>(), Ok(v));
    }
}

#[test]
fn max_lag_counts_from_when_the_slowest_subscriber_last_read_on() {
    let ring = RingGuard::new("lag-reset");
    let lag = Duration::from_millis(40);
    let mut a = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .max_lag(lag)
        .create_publisher()
        .expect("create");
    let mut b = ipcring::broadcast::Publisher::open(ring.name()).expect("a publisher");
    let mut slow = Subscriber::open(ring.name()).expect("subscribe");
    for v in 0..4u64 {
        a.try_send_value(&v).expect("room");
    }
    assert_eq!(a.try_send_value(&9u64), Err(ipcring::SendError::Full));
    // The slow subscriber reads on, and another publisher takes the room it freed.
    assert_eq!(slow.recv_value::<u64>(), Ok(0));
    b.try_send_value(&4u64).expect("room");
    std::thread::sleep(lag * 2);
    // Full again, but only just: nobody has kept `a` waiting for `lag` yet.
    assert_eq!(a.try_send_value(&9u64), Err(ipcring::SendError::Full));
    assert_eq!(a.stats().evicted, 0);
    assert_eq!(slow.recv_value::<u64>(), Ok(1));
}
