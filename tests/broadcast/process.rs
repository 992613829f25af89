//! Broadcast across real processes: lossless subscribers see identical sequences of a
//! million messages, every byte checked; a slow lossy subscriber accounts for every
//! message; a killed subscriber no longer holds the publishers; a publisher that dies
//! between claim and commit is skipped.

use crate::common::{
    checked, fill, hear, is_message, len_of, mix, say, seq_of, spawn, watchdog, RingGuard, SLOT,
};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::{RecvError, SendError, WaitStrategy};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn numbers(arg: &str) -> Vec<u64> {
    arg.split_whitespace()
        .map(|w| w.parse().expect("a number"))
        .collect()
}

/// Child: opens a publisher and sends `count` messages as publisher `id` (argument `id
/// count`), then says `done`.
pub fn publisher(topic: &str, arg: &str) {
    let (id, count) = match numbers(arg)[..] {
        [id, count] => (id, count),
        _ => panic!("arguments: id count"),
    };
    let mut tx = Publisher::open(topic).expect("open a publisher");
    let mut buf = [0u8; SLOT];
    for n in 0..count {
        let seq = seq_of(id, n);
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        tx.send(msg).expect("send");
    }
    say("done", count);
}

/// Child: subscribes, says `ready`, receives `count` messages (argument), checking every
/// byte and each publisher's order, and says the digest of the sequence it saw.
pub fn subscriber(topic: &str, arg: &str) {
    let count = numbers(arg)[0];
    let mut rx = Subscriber::open(topic).expect("subscribe");
    say("ready", "");
    let mut buf = Vec::with_capacity(SLOT);
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut digest = 0u64;
    for _ in 0..count {
        rx.recv_into(&mut buf).expect("receive");
        let seq = checked(&buf);
        let (id, n) = (seq >> 32, seq & 0xffff_ffff);
        if let Some(prev) = last.insert(id, n) {
            assert_eq!(n, prev + 1, "publisher {id}: message {n} after {prev}");
        }
        digest = digest.wrapping_mul(0x100_0000_01b3) ^ mix(seq);
    }
    say("got", digest);
}

/// Child: subscribes to a lossy topic, says `ready`, and reads slowly until it has
/// accounted for `count` messages (argument), received or reported lost; every message
/// must be intact and later than the one before. Says `got received missed`.
pub fn slow_subscriber(topic: &str, arg: &str) {
    let count = numbers(arg)[0];
    let mut rx = Subscriber::open(topic).expect("subscribe");
    say("ready", "");
    let mut buf = Vec::new();
    let (mut received, mut missed, mut next) = (0u64, 0u64, 0u64);
    while received + missed < count {
        match rx.recv_into(&mut buf) {
            Ok(len) => {
                let seq = u64::from_le_bytes(buf[..8].try_into().expect("a stamp"));
                assert_eq!(
                    seq, next,
                    "a message after {next} that no Lagged accounts for"
                );
                assert!(is_message(seq, len, &buf), "message {seq} is torn");
                next += 1;
                received += 1;
                if received % 256 == 0 {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
            Err(RecvError::Lagged { missed: m }) => {
                missed += m;
                next += m;
            }
            Err(e) => panic!("receive: {e}"),
        }
    }
    let own = rx.own_stats();
    assert_eq!((own.received, own.missed), (received, missed));
    say("got", format!("{received} {missed}"));
}

/// Child: subscribes, says `ready`, and reads nothing until it is killed.
pub fn stuck_subscriber(topic: &str, _arg: &str) {
    let _rx = Subscriber::open(topic).expect("subscribe");
    say("ready", "");
    while hear().is_some() {}
}

#[test]
fn three_subscriber_processes_see_the_same_million_messages_in_the_same_order() {
    const PUBLISHERS: u64 = 2;
    const PER_PUBLISHER: u64 = 500_000;
    let _w = watchdog(
        "three subscribers, a million messages",
        Duration::from_secs(300),
    );
    let ring = RingGuard::new("bc-million");
    let creator = Builder::new(ring.name())
        .capacity(1024)
        .slot_size(SLOT)
        .create_publisher()
        .expect("create the topic");
    let total = PUBLISHERS * PER_PUBLISHER;
    let subs: Vec<_> = (0..3)
        .map(|_| spawn("subscriber", ring.name(), &total.to_string()))
        .collect();
    for s in &subs {
        s.expect("ready", Duration::from_secs(30));
    }
    let start = Instant::now();
    let pubs: Vec<_> = (0..PUBLISHERS)
        .map(|id| spawn("publisher", ring.name(), &format!("{id} {PER_PUBLISHER}")))
        .collect();
    for p in pubs {
        p.expect("done", Duration::from_secs(250));
        p.wait_success(Duration::from_secs(30));
    }
    let digests: Vec<String> = subs
        .into_iter()
        .map(|s| {
            let d = s.expect("got", Duration::from_secs(60));
            s.wait_success(Duration::from_secs(30));
            d
        })
        .collect();
    let took = start.elapsed();
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
    let stats = creator.stats();
    assert_eq!((stats.published, stats.received), (total, 3 * total));
    assert_eq!((stats.skipped, stats.evicted, stats.missed), (0, 0, 0));
    println!("{total} messages, {PUBLISHERS} publishers -> 3 subscribers, in {took:?}");
}

#[test]
fn a_slow_lossy_subscriber_process_accounts_for_every_message() {
    const N: u64 = 300_000;
    let _w = watchdog("slow lossy subscriber", Duration::from_secs(200));
    let ring = RingGuard::new("bc-lossy");
    let mut tx = Builder::new(ring.name())
        .capacity(256)
        .slot_size(SLOT)
        .lossy(true)
        .create_publisher()
        .expect("create the topic");
    let slow = spawn("slow-subscriber", ring.name(), &N.to_string());
    slow.expect("ready", Duration::from_secs(30));
    let mut buf = [0u8; SLOT];
    for seq in 0..N {
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        tx.try_send(msg).expect("a lossy topic never fills");
    }
    let got = slow.expect("got", Duration::from_secs(150));
    slow.wait_success(Duration::from_secs(30));
    let v = numbers(&got);
    assert_eq!(v[0] + v[1], N);
    assert!(
        v[1] > 0,
        "the subscriber was never overtaken: the test proves nothing"
    );
    let s = tx.stats();
    assert_eq!((s.published, s.received, s.missed), (N, v[0], v[1]));
    println!("received {} and lost {} of {N}", v[0], v[1]);
}

#[test]
fn a_killed_subscriber_no_longer_holds_a_lossless_topic() {
    let _w = watchdog("killed subscriber", Duration::from_secs(60));
    let ring = RingGuard::new("bc-kill-sub");
    let mut tx = Builder::new(ring.name())
        .capacity(8)
        .slot_size(SLOT)
        .wait_strategy(WaitStrategy::default())
        .create_publisher()
        .expect("create the topic");
    let mut stuck = spawn("stuck-subscriber", ring.name(), "");
    stuck.expect("ready", Duration::from_secs(30));
    for n in 0..8u64 {
        tx.send_value(&n).expect("room");
    }
    assert_eq!(
        tx.send_timeout(b"x", Duration::from_millis(100)),
        Err(SendError::Timeout),
        "a live subscriber is waited for"
    );
    let killed = stuck.kill9();
    tx.send(b"after the death").expect("send");
    let took = killed.elapsed();
    assert_eq!(tx.stats().evicted, 1);
    println!("the publisher resumed {took:?} after the kill");
    // Generous: the check that finds a dead subscriber runs every 20 ms slice at the
    // latest, but this machine is shared and the test must not measure its load.
    assert!(
        took < Duration::from_secs(2),
        "a death held the topic for {took:?}"
    );
}

/// Child: opens a publisher, arms the crash point so that it dies inside its `passes +
/// 1`th send (argument `passes`), says `ready`, and sends messages of publisher 1 until
/// it dies there.
#[cfg(feature = "crash-points")]
pub fn crasher(topic: &str, arg: &str) {
    let passes = numbers(arg)[0];
    let mut tx = Publisher::open(topic).expect("open a publisher");
    ipcring::crash::arm(ipcring::crash::Point::BroadcastBeforeCommit, passes);
    say("ready", "");
    let mut buf = [0u8; SLOT];
    for n in 0..=passes {
        let seq = seq_of(1, n);
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        tx.send(msg).expect("send");
    }
    unreachable!("the crash point let the last send through");
}

/// A publisher that dies inside `send`, between its claim and its commit (the test-only
/// crash point, which a random kill almost never hits): subscribers pass the dead claim
/// and receive what was sent before and behind it, never the dead send's bytes.
#[cfg(feature = "crash-points")]
#[test]
fn a_publisher_that_dies_inside_send_is_skipped() {
    use std::os::unix::process::ExitStatusExt;
    let _w = watchdog("publisher dies inside send", Duration::from_secs(60));
    let ring = RingGuard::new("bc-crash-point");
    let mut rx = Builder::new(ring.name())
        .capacity(8)
        .slot_size(SLOT)
        .create_subscriber()
        .expect("create the topic");
    let mut tx = Publisher::open(ring.name()).expect("a live publisher");
    let crasher = spawn("crasher", ring.name(), "2");
    crasher.expect("ready", Duration::from_secs(30));
    let status = crasher.wait_exit(Duration::from_secs(30));
    let seen = Instant::now();
    assert_eq!(status.signal(), Some(9), "the crash point killed the child");
    tx.send(b"behind the dead claim").expect("send");
    let mut buf = Vec::new();
    for n in 0..2 {
        rx.recv_into(&mut buf)
            .expect("a message sent before the death");
        assert_eq!(checked(&buf), seq_of(1, n));
    }
    assert_eq!(rx.recv_into(&mut buf), Ok(21));
    let took = seen.elapsed();
    assert_eq!(buf, b"behind the dead claim");
    let s = rx.stats();
    assert_eq!((s.published, s.received, s.skipped), (3, 3, 1));
    println!("the dead send's claim was passed {took:?} after the death was seen");
    // Generous, as in the other liveness tests: this machine is shared.
    assert!(
        took < Duration::from_secs(2),
        "a death stalled the topic for {took:?}"
    );
    drop(tx);
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}

/// Child: opens a publisher, claims a slot and writes it, says `claimed`, and commits when
/// told (`commit` on stdin): says `refused` if the commit fails with `Skipped`.
pub fn holder(topic: &str, _arg: &str) {
    let mut tx = Publisher::open(topic).expect("open a publisher");
    let mut g = tx.reserve(8).expect("claim a slot");
    g.copy_from_slice(b"too late");
    say("claimed", "");
    while hear().is_some_and(|l| l != "commit") {}
    match g.commit(8) {
        Err(SendError::Skipped) => say("refused", ""),
        other => panic!("a late commit: {other:?}"),
    }
}

/// A publisher stopped (SIGSTOP) between claim and commit, on a topic with a stall
/// timeout: subscribers pass its claim; when it resumes, its commit is refused and the
/// message is never delivered; its slot is free again afterwards.
#[test]
fn a_stopped_publishers_late_commit_is_refused() {
    let _w = watchdog("stopped publisher", Duration::from_secs(60));
    let ring = RingGuard::new("bc-stop");
    let mut rx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(SLOT)
        .stall_timeout(Duration::from_millis(50))
        .create_subscriber()
        .expect("create the topic");
    let mut tx = Publisher::open(ring.name()).expect("a live publisher");
    let mut holder = spawn("holder", ring.name(), "");
    holder.expect("claimed", Duration::from_secs(30));
    let pid = rustix::process::Pid::from_raw(holder.pid() as i32).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).expect("SIGSTOP");
    tx.send(b"after the stall").expect("send");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(15));
    assert_eq!(buf, b"after the stall");
    assert_eq!(rx.stats().skipped, 1);
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).expect("SIGCONT");
    holder.tell("commit");
    holder.expect("refused", Duration::from_secs(30));
    holder.wait_success(Duration::from_secs(30));
    assert_eq!(
        rx.recv_timeout_into(&mut buf, Duration::from_millis(100)),
        Err(RecvError::Timeout),
        "the late message is never delivered"
    );
    // Every slot is usable again, the refused one included.
    for n in 0..4u64 {
        tx.send_value(&n).expect("send");
        assert_eq!(rx.recv_value::<u64>(), Ok(n));
    }
}
