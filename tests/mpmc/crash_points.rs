//! Crash points (`--features crash-points`): a producer or a consumer process that dies at
//! each step of the MPMC protocol where a cell is between two states. The survivors must
//! see every committed message once (a message taken and not released: again, counted),
//! intact and in order per producer; a dead claim is skipped; new handles carry on.
//! (A death between the payload and the commit is `crash::a_producer_killed_between_…`.)

use crate::common::crashes::{self, died_at_the_point};
use crate::common::{checked, len_of, message, say, spawn, watchdog, RingGuard};
use ipcring::crash::Point;
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const CELLS: usize = 16;

fn point(name: &str) -> Point {
    match name {
        "attach" => Point::AttachBeforeFlag,
        "after-claim" => Point::MpmcAfterClaim,
        "before-release" => Point::MpmcBeforeRelease,
        other => panic!("no crash point {other:?}"),
    }
}

fn queue(ring: &RingGuard) -> Builder {
    Builder::new(ring.name())
        .capacity(CELLS)
        .slot_size(crate::common::SLOT)
        .producers(2)
        .consumers(2)
}

/// Child: sends stamped messages 0, 1, ... until its crash point kills it.
pub fn crashing_producer(ring: &str, arg: &str) {
    crashes::arm_from(arg, point);
    let mut tx = Producer::open(ring).expect("open a producer");
    for seq in 0.. {
        tx.send(&message(seq, len_of(seq))).expect("send");
    }
}

/// Child: receives, saying each message's number once it has it (and released it),
/// until its crash point kills it.
pub fn crashing_consumer(ring: &str, arg: &str) {
    crashes::arm_from(arg, point);
    let mut rx = Consumer::open(ring).expect("open a consumer");
    let mut buf = Vec::new();
    loop {
        rx.recv_into(&mut buf).expect("receive");
        say("got", checked(&buf));
    }
}

/// A producer dies at `name` after `passes` passes: the consumer receives the messages
/// it committed, in order, then `Disconnected`; a new producer's messages come after,
/// past the dead claim (skipped).
fn producer_dies_at(name: &str, passes: u64) {
    let what = format!("producer at {name} after {passes}");
    let ring = RingGuard::new("crash-tx");
    let mut rx = queue(&ring).create_consumer().expect("create");
    let child = spawn(
        "crashing-producer",
        ring.name(),
        &format!("{name} {passes}"),
    );
    let mut buf = Vec::new();
    let mut next = 0;
    let end = loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => {
                assert_eq!(checked(&buf), next, "{what}: in order, once");
                next += 1;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(end, RecvError::Disconnected, "{what}");
    died_at_the_point(child.wait_exit(LIMIT), &what);
    let mut tx = Producer::open(ring.name()).expect("a new producer");
    for seq in 1000..1000 + 2 * CELLS as u64 {
        tx.send(&message(seq, len_of(seq)))
            .expect("send after the death");
        rx.recv_into(&mut buf).expect("receive after the death");
        assert_eq!(checked(&buf), seq, "{what}: the new producer's messages");
    }
    let skipped = rx.stats().skipped;
    assert_eq!(
        skipped,
        u64::from(name == "after-claim"),
        "{what}: skipped claims"
    );
    println!("{what}: {next} messages before the death, {skipped} skipped");
}

/// A consumer dies at `name` after `passes` passes: the producer's waiting send returns
/// `Disconnected`; a new consumer receives every message the dead one did not finish,
/// once: the others in order, and the one it held (counted as redelivered) among them.
fn consumer_dies_at(name: &str, passes: u64) {
    let what = format!("consumer at {name} after {passes}");
    let ring = RingGuard::new("crash-rx");
    let mut tx = queue(&ring).create_producer().expect("create");
    let child = spawn(
        "crashing-consumer",
        ring.name(),
        &format!("{name} {passes}"),
    );
    let mut sent = 0;
    let end = loop {
        match tx.send(&message(sent, len_of(sent))) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(end, SendError::Disconnected, "{what}");
    let got = child.remaining(LIMIT).len() as u64;
    died_at_the_point(child.wait_exit(LIMIT), &what);
    let mut rx = Consumer::open(ring.name()).expect("a new consumer");
    let mut buf = Vec::new();
    let mut seqs: Vec<u64> = (got..sent)
        .map(|_| {
            rx.recv_into(&mut buf).expect("receive after the death");
            checked(&buf)
        })
        .collect();
    let others: Vec<u64> = seqs.iter().copied().filter(|&s| s != got).collect();
    assert!(
        others.windows(2).all(|w| w[0] < w[1]),
        "{what}: in order, {seqs:?}"
    );
    seqs.sort_unstable();
    assert_eq!(seqs, (got..sent).collect::<Vec<_>>(), "{what}: each once");
    drop(tx);
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    let redelivered = rx.stats().redelivered;
    assert_eq!(redelivered, u64::from(name == "before-release"), "{what}");
    println!("{what}: {got} received before the death, {sent} sent");
}

/// A handle of `role` dies while it attaches (its slot's lock held, its flag not set):
/// the slot is free again, and the queue works.
fn attach_dies(role: &str) {
    let what = format!("{role} at attach");
    let ring = RingGuard::new("crash-attach");
    let first = if role == "producer" {
        let rx = queue(&ring).create_consumer().expect("create");
        died_at_the_point(
            spawn("crashing-producer", ring.name(), "attach 0").wait_exit(LIMIT),
            &what,
        );
        (Producer::open(ring.name()).expect("a new producer"), rx)
    } else {
        let tx = queue(&ring).create_producer().expect("create");
        died_at_the_point(
            spawn("crashing-consumer", ring.name(), "attach 0").wait_exit(LIMIT),
            &what,
        );
        (tx, Consumer::open(ring.name()).expect("a new consumer"))
    };
    let (mut tx, mut rx) = first;
    let mut buf = Vec::new();
    for seq in 0..2 * CELLS as u64 {
        tx.send(&message(seq, len_of(seq))).expect("send");
        rx.recv_into(&mut buf).expect("receive");
        assert_eq!(checked(&buf), seq, "{what}");
    }
}

#[test]
fn a_producer_dying_at_any_step_is_skipped_and_loses_nothing_committed() {
    let _w = watchdog("producer crash points", Duration::from_secs(120));
    for passes in [0, 1, 7, 100] {
        producer_dies_at("after-claim", passes);
    }
    attach_dies("producer");
}

#[test]
fn a_consumer_dying_at_any_step_loses_nothing_it_did_not_release() {
    let _w = watchdog("consumer crash points", Duration::from_secs(120));
    for passes in [0, 1, 7, 100] {
        consumer_dies_at("before-release", passes);
    }
    attach_dies("consumer");
}
