//! The non-blocking calls: `Full` and `Empty` are exact, and a dead peer is dealt with by
//! them within a few polls, not only by blocking calls.

use crate::common::full::{settles_within_a_few_polls, TryPair};
use crate::common::{hear, say, spawn, watchdog, RingGuard};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::{RecvError, SendError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);

fn lossless(ring: &RingGuard, capacity: usize) -> Publisher {
    Builder::new(ring.name())
        .capacity(capacity)
        .slot_size(40)
        .create_publisher()
        .expect("create the topic")
}

#[test]
fn full_means_full_and_a_drained_topic_takes_as_many_as_a_fresh_one() {
    let _w = watchdog("full means full", LIMIT);
    for len in [0, 8, 40] {
        let ring = RingGuard::new("full-means-full");
        let mut tx = lossless(&ring, 32);
        let mut rx = Subscriber::open(ring.name()).expect("subscribe");
        TryPair {
            send: |m: &[u8]| tx.try_send(m),
            recv: |b: &mut Vec<u8>| rx.try_recv_into(b),
        }
        .full_means_full(len);
    }
}

/// With two subscribers, the slower one decides; each receive of the pair (one message to
/// each) frees one slot.
#[test]
fn full_means_full_for_the_slowest_of_two_subscribers_and_for_grants() {
    let _w = watchdog("full means full, two subscribers", LIMIT);
    let ring = RingGuard::new("full-two");
    let mut tx = lossless(&ring, 16);
    let mut a = Subscriber::open(ring.name()).expect("subscribe");
    let mut b = Subscriber::open(ring.name()).expect("subscribe");
    let mut other = Vec::new();
    TryPair {
        send: |m: &[u8]| {
            let mut g = tx.try_reserve(m.len())?;
            g.write_at(0, m);
            g.commit(m.len())
        },
        recv: |buf: &mut Vec<u8>| {
            let n = a.try_recv_into(buf)?;
            let g = b.try_read().expect("the other subscriber has it too");
            g.copy_into(&mut other);
            assert_eq!(&other[..], &buf[..]);
            Ok(n)
        },
    }
    .full_means_full(24);
}

/// Child: opens the role named by `arg` (`publisher` or `subscriber`), says `attached`,
/// and does nothing more until it is killed or its stdin closes.
pub fn idle(topic: &str, arg: &str) {
    let held = match arg {
        "publisher" => (
            Some(Publisher::open(topic).expect("open a publisher")),
            None,
        ),
        _ => (None, Some(Subscriber::open(topic).expect("subscribe"))),
    };
    say("attached", "");
    while hear().is_some() {}
    drop(held);
}

/// `try_send` on a lossless topic held full by a subscriber that was killed evicts it
/// within a few polls and goes on.
#[test]
fn a_try_send_passes_a_killed_subscriber_that_held_the_topic_full() {
    let _w = watchdog("subscriber killed under try_send", LIMIT);
    let ring = RingGuard::new("try-subscriber-killed");
    let mut tx = lossless(&ring, 8);
    let mut child = spawn("idle", ring.name(), "subscriber");
    child.expect("attached", WAIT);
    while tx.try_send(b"news").is_ok() {}
    assert_eq!(tx.try_send(b"news"), Err(SendError::Full));
    child.kill9();
    settles_within_a_few_polls(SendError::Full, Ok(()), || tx.try_send(b"news"));
    assert_eq!(tx.stats().evicted, 1);
}

/// `try_recv_into` on an empty topic says `Disconnected` within a few polls of the
/// `kill -9` of its only publisher.
#[test]
fn a_polling_subscriber_sees_the_publishers_killed() {
    let _w = watchdog("publisher killed under try_recv", LIMIT);
    let ring = RingGuard::new("try-publisher-killed");
    let mut rx = Builder::new(ring.name())
        .capacity(8)
        .slot_size(16)
        .create_subscriber()
        .expect("create the topic");
    let mut child = spawn("idle", ring.name(), "publisher");
    child.expect("attached", WAIT);
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    child.kill9();
    settles_within_a_few_polls(RecvError::Empty, Err(RecvError::Disconnected), || {
        rx.try_recv_into(&mut buf)
    });
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
}
