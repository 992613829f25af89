//! Messages in a file-backed ring outlive every process: producers are killed with
//! SIGKILL in the middle of a stream, consumers while receiving; then new processes open
//! the same path and every committed message is delivered, in order, every byte checked
//! (exactly once for SPSC; at least once for MPMC, where a message that a killed consumer
//! held lent comes again).
//!
//! The children receive through lent grants and say `got <seq>` while they still hold the
//! message, so every message that a consumer released was reported: what the parent
//! counts as delivered before the kills is exact, up to the one message held at the kill.

use crate::common::{checked, len_of, message, say, seq_of, spawn, watchdog, ChildProc, TestDir};
use ipcring::{mpmc, spsc, RecvError};
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Sequence numbers of the senders that start after the restart.
const AFTER: u64 = 1 << 40;

/// Child: an SPSC producer that sends messages `arg..` (stamped, every byte known) until
/// killed, or `count` of them then exits if the argument is `first,count`; says `sent n`
/// every 16 messages.
pub fn spsc_producer(path: &str, arg: &str) {
    let (first, count) = range(arg);
    let mut tx = spsc::Builder::at(path)
        .open_producer()
        .expect("open the producer");
    say("opened", "");
    for seq in first..first.saturating_add(count) {
        tx.send(&message(seq, len_of(seq))).expect("send");
        if (seq - first) % 16 == 15 {
            say("sent", seq - first + 1);
        }
    }
}

/// Child: an SPSC consumer that receives slowly (so that the ring stays full) and says
/// `got <seq>` for each message while it holds it lent.
pub fn spsc_consumer(path: &str, _arg: &str) {
    let mut rx = spsc::Builder::at(path)
        .open_consumer()
        .expect("open the consumer");
    say("opened", "");
    loop {
        match rx.read() {
            Ok(msg) => {
                let seq = checked(&msg.to_vec());
                say("got", seq);
            }
            Err(RecvError::Disconnected) => {
                say("disconnected", "");
                std::thread::sleep(Duration::from_secs(60));
            }
            Err(e) => panic!("receive: {e}"),
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Child: an MPMC producer; the argument is `id,count` (count 0: until killed).
pub fn mpmc_producer(path: &str, arg: &str) {
    let (id, count) = range(arg);
    let mut tx = mpmc::Builder::at(path)
        .open_producer()
        .expect("open the producer");
    say("opened", "");
    let count = if count == 0 { u64::MAX } else { count };
    for n in 0..count {
        let seq = seq_of(id, n);
        tx.send(&message(seq, len_of(seq))).expect("send");
        if n % 16 == 15 {
            say("sent", n + 1);
        }
    }
}

/// Child: an MPMC consumer, as [`spsc_consumer`].
pub fn mpmc_consumer(path: &str, _arg: &str) {
    let mut rx = mpmc::Builder::at(path)
        .open_consumer()
        .expect("open the consumer");
    say("opened", "");
    loop {
        match rx.read() {
            Ok(msg) => {
                let seq = checked(&msg.to_vec());
                say("got", seq);
            }
            Err(RecvError::Disconnected) => {
                say("disconnected", "");
                std::thread::sleep(Duration::from_secs(60));
            }
            Err(e) => panic!("receive: {e}"),
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// `a,b` (`b` absent: unbounded).
fn range(arg: &str) -> (u64, u64) {
    let mut parts = arg.split(',').map(|p| p.parse::<u64>().expect("a number"));
    let a = parts.next().unwrap_or(0);
    (a, parts.next().unwrap_or(u64::MAX))
}

/// Waits until `child` has said `got` at least `n` times; returns what it got.
fn got_at_least(child: &ChildProc, n: usize) -> Vec<u64> {
    let mut got = Vec::new();
    while got.len() < n {
        got.push(
            child
                .expect("got", WAIT)
                .parse()
                .expect("a sequence number"),
        );
    }
    got
}

/// Kills `child` and returns the rest of what it said under `key`.
fn kill_and_collect(child: &mut ChildProc, key: &str) -> Vec<u64> {
    child.kill9();
    child
        .remaining(WAIT)
        .iter()
        .filter_map(|l| l.strip_prefix(key))
        .filter_map(|rest| rest.trim().parse().ok())
        .collect()
}

/// Receives in this process until the producers have all gone and the ring is empty.
fn drain_spsc(rx: &mut spsc::Consumer) -> Vec<u64> {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    loop {
        match rx.recv_timeout_into(&mut buf, WAIT) {
            Ok(_) => got.push(checked(&buf)),
            Err(RecvError::Disconnected) => return got,
            Err(e) => panic!("receive after the restart: {e}"),
        }
    }
}

#[test]
fn an_spsc_file_ring_delivers_every_committed_message_once_across_kills_and_restarts() {
    let _watchdog = watchdog("spsc restart", Duration::from_secs(120));
    let dir = TestDir::new("spsc-restart");
    let path = dir.join("q.ring");
    let p = path.to_str().expect("a UTF-8 path");
    spsc::Builder::at(&path)
        .capacity(1 << 12)
        .create_detached()
        .expect("create");
    let mut producer = spawn("spsc-producer", p, "0");
    producer.expect("opened", WAIT);
    let mut consumer = spawn("spsc-consumer", p, "");
    consumer.expect("opened", WAIT);
    let mut got = got_at_least(&consumer, 200);
    // The ring is full (the consumer is slow): the producer is killed in or between
    // sends, then the consumer while it receives.
    let sent_reported = kill_and_collect(&mut producer, "sent")
        .into_iter()
        .max()
        .unwrap_or(0);
    got.extend(kill_and_collect(&mut consumer, "got"));
    assert!(
        got.iter().copied().eq(0..got.len() as u64),
        "the first consumer got the messages in order"
    );
    // Nobody has the file open now. A new consumer and a new producer take the roles
    // over (the consumer first: a producer that finds the ring full and its consumer
    // dead says `Disconnected`); the new producer sends messages of its own and leaves.
    let mut rx = spsc::Builder::at(&path)
        .open_consumer()
        .expect("take the consumer role over");
    let extra = 100;
    let producer = spawn("spsc-producer", p, &format!("{AFTER},{extra}"));
    producer.expect("opened", WAIT);
    let after = drain_spsc(&mut rx);
    producer.wait_success(WAIT);
    let split = after
        .iter()
        .position(|&s| s >= AFTER)
        .unwrap_or(after.len());
    let (old, new) = after.split_at(split);
    let held = got.len() as u64 - 1;
    let first = old.first().copied().unwrap_or(got.len() as u64);
    assert!(
        first == held || first == held + 1,
        "resumed at message {first}; the killed consumer had got 0..={held} (the last one \
         perhaps still held)"
    );
    assert!(
        old.iter().copied().eq(first..first + old.len() as u64),
        "the old messages come in order, none lost, none twice"
    );
    let committed = first + old.len() as u64;
    eprintln!(
        "spsc restart: {} got before the kills, {} old messages after the restart, \
         {committed} committed, {sent_reported} reported sent",
        got.len(),
        old.len()
    );
    assert!(
        committed >= sent_reported,
        "{committed} messages delivered; the killed producer had reported {sent_reported} sent"
    );
    assert!(
        new.iter().copied().eq(AFTER..AFTER + extra),
        "the new producer's messages follow"
    );
    drop(rx);
    ipcring::remove_file_ring(&path).expect("remove");
}

#[test]
fn an_mpmc_file_ring_delivers_every_committed_message_across_kills_and_restarts() {
    let _watchdog = watchdog("mpmc restart", Duration::from_secs(120));
    let dir = TestDir::new("mpmc-restart");
    let path = dir.join("q.ring");
    let p = path.to_str().expect("a UTF-8 path");
    mpmc::Builder::at(&path)
        .capacity(64)
        .slot_size(crate::common::SLOT)
        .create_detached()
        .expect("create");
    let mut producers: Vec<ChildProc> = (1..=2)
        .map(|id| spawn("mpmc-producer", p, &format!("{id},0")))
        .collect();
    let mut consumers: Vec<ChildProc> = (0..2).map(|_| spawn("mpmc-consumer", p, "")).collect();
    for c in producers.iter().chain(&consumers) {
        c.expect("opened", WAIT);
    }
    let mut seen: Vec<u64> = Vec::new();
    for c in &consumers {
        seen.extend(got_at_least(c, 100));
    }
    let mut reported = BTreeMap::new();
    for (id, c) in (1u64..).zip(producers.iter_mut()) {
        let sent = kill_and_collect(c, "sent").into_iter().max().unwrap_or(0);
        reported.insert(id, sent);
    }
    for c in consumers.iter_mut() {
        seen.extend(kill_and_collect(c, "got"));
    }
    // Restart: this process takes a consumer role over (first: a producer that finds
    // the queue full and every consumer dead says `Disconnected`), two new producers send
    // messages of their own and leave, and this process receives until they have gone.
    let mut rx = mpmc::Builder::at(&path)
        .open_consumer()
        .expect("take a consumer role over");
    let extra = 50;
    let producers: Vec<ChildProc> = (3..=4)
        .map(|id| spawn("mpmc-producer", p, &format!("{id},{extra}")))
        .collect();
    for c in &producers {
        c.expect("opened", WAIT);
    }
    let mut buf = Vec::new();
    loop {
        match rx.recv_timeout_into(&mut buf, WAIT) {
            Ok(_) => seen.push(checked(&buf)),
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("receive after the restart: {e}"),
        }
    }
    for c in producers {
        c.wait_success(WAIT);
    }
    // Per producer: messages 0..k, each at least once, twice at most for the one that
    // each killed consumer held; k at least what the killed producer reported.
    let mut by_id: BTreeMap<u64, BTreeMap<u64, u32>> = BTreeMap::new();
    for seq in seen {
        *by_id
            .entry(seq >> 32)
            .or_default()
            .entry(seq & 0xffff_ffff)
            .or_default() += 1;
    }
    let mut twice = 0;
    for id in 1..=4u64 {
        let counts = by_id.remove(&id).unwrap_or_default();
        eprintln!("mpmc restart: producer {id}: {} delivered", counts.len());
        let k = counts.len() as u64;
        assert!(
            counts.keys().copied().eq(0..k),
            "producer {id}: a committed message is missing"
        );
        let floor = reported.get(&id).copied().unwrap_or(extra);
        assert!(k >= floor, "producer {id}: {k} delivered, {floor} sent");
        if id > 2 {
            assert_eq!(k, extra, "producer {id}: every message after the restart");
        }
        for (n, c) in counts {
            assert!(c <= 2, "producer {id}: message {n} delivered {c} times");
            twice += u32::from(c == 2);
        }
    }
    assert!(by_id.is_empty(), "messages of unknown producers: {by_id:?}");
    eprintln!("mpmc restart: reported sent {reported:?}, {twice} delivered twice");
    assert!(
        twice <= 2,
        "{twice} messages came twice; 2 consumers were killed"
    );
    drop(rx);
    ipcring::remove_file_ring(&path).expect("remove");
}
