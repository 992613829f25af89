//! The non-blocking calls: `Full` and `Empty` are exact, and a dead peer is reported by
//! them within a few polls, not only by blocking calls.

use crate::common::full::{copied, settles_within_a_few_polls, TryPair};
use crate::common::{hear, say, spawn, watchdog, RingGuard};
use ipcring::mpmc::{Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn full_means_full_and_a_drained_queue_takes_as_many_as_a_fresh_one() {
    let _w = watchdog("full means full", LIMIT);
    for len in [0, 8, 40] {
        let ring = RingGuard::new("full-means-full");
        let mut tx = Producer::create(ring.name(), 32, 40).expect("create");
        let mut rx = Consumer::open(ring.name()).expect("open");
        TryPair {
            send: |m: &[u8]| tx.try_send(m),
            recv: |b: &mut Vec<u8>| rx.try_recv_into(b),
        }
        .full_means_full(len);
    }
    let ring = RingGuard::new("full-grants");
    let mut tx = Producer::create(ring.name(), 16, 40).expect("create");
    let mut rx = Consumer::open(ring.name()).expect("open");
    TryPair {
        send: |m: &[u8]| {
            let mut g = tx.try_reserve(m.len())?;
            g.write_at(0, m);
            g.commit(m.len())
        },
        recv: |b: &mut Vec<u8>| Ok(copied(&*rx.try_read()?, b)),
    }
    .full_means_full(24);
}

/// Child: opens the role named by `arg` (`producer` or `consumer`), says `attached`, and
/// does nothing more until it is killed or its stdin closes.
pub fn idle(queue: &str, arg: &str) {
    let held = match arg {
        "producer" => (Some(Producer::open(queue).expect("open a producer")), None),
        _ => (None, Some(Consumer::open(queue).expect("open a consumer"))),
    };
    say("attached", "");
    while hear().is_some() {}
    drop(held);
}

/// `try_send` on a full queue says `Disconnected` within a few polls of the `kill -9` of
/// its only consumer.
#[test]
fn a_try_send_on_a_full_queue_sees_the_consumers_killed() {
    let _w = watchdog("consumer killed under try_send", LIMIT);
    let ring = RingGuard::new("try-consumer-killed");
    let mut tx = Producer::create(ring.name(), 8, 16).expect("create");
    let mut child = spawn("idle", ring.name(), "consumer");
    child.expect("attached", WAIT);
    while tx.try_send(b"job").is_ok() {}
    assert_eq!(tx.try_send(b"job"), Err(SendError::Full));
    child.kill9();
    settles_within_a_few_polls(SendError::Full, Err(SendError::Disconnected), || {
        tx.try_send(b"job")
    });
    assert_eq!(tx.try_reserve(3).err(), Some(SendError::Disconnected));
}

/// `try_recv_into` on an empty queue says `Disconnected` within a few polls of the
/// `kill -9` of its only producer.
#[test]
fn a_polling_consumer_sees_the_producers_killed() {
    let _w = watchdog("producer killed under try_recv", LIMIT);
    let ring = RingGuard::new("try-producer-killed");
    let mut rx = Consumer::create(ring.name(), 8, 16).expect("create");
    let mut child = spawn("idle", ring.name(), "producer");
    child.expect("attached", WAIT);
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    child.kill9();
    settles_within_a_few_polls(RecvError::Empty, Err(RecvError::Disconnected), || {
        rx.try_recv_into(&mut buf)
    });
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
}
