//! Crash points (`--features crash-points`): a publisher or a subscriber process that dies
//! at each step of a lossless topic's protocol where a cell or a cursor is between two
//! states. Subscribers must see every committed message once, intact and in order; a dead
//! claim is skipped; a dead subscriber's cursor stops holding publishers back; new handles
//! carry on. (A death between the payload and the commit is
//! `process::a_publisher_that_dies_inside_send_is_skipped`.)

use crate::common::crashes::{self, died_at_the_point};
use crate::common::{checked, len_of, message, say, spawn, watchdog, RingGuard};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::crash::Point;
use ipcring::RecvError;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const CELLS: usize = 16;

fn point(name: &str) -> Point {
    match name {
        "attach" => Point::AttachBeforeFlag,
        "after-claim" => Point::BroadcastAfterClaim,
        "before-cursor" => Point::BroadcastBeforeCursor,
        other => panic!("no crash point {other:?}"),
    }
}

fn topic(ring: &RingGuard) -> Builder {
    Builder::new(ring.name())
        .capacity(CELLS)
        .slot_size(crate::common::SLOT)
        .publishers(2)
        .max_subscribers(2)
}

/// Child: publishes stamped messages 0, 1, ... until its crash point kills it.
pub fn crashing_publisher(ring: &str, arg: &str) {
    crashes::arm_from(arg, point);
    let mut tx = Publisher::open(ring).expect("open a publisher");
    for seq in 0.. {
        tx.send(&message(seq, len_of(seq))).expect("send");
    }
}

/// Child: says when it has joined, then receives until its crash point kills it.
pub fn crashing_subscriber(ring: &str, arg: &str) {
    crashes::arm_from(arg, point);
    let mut rx = Subscriber::open(ring).expect("open a subscriber");
    say("joined", "");
    let mut buf = Vec::new();
    loop {
        rx.recv_into(&mut buf).expect("receive");
        checked(&buf);
    }
}

/// Receives with `rx` until an error, checking that the messages are `from`, `from + 1`,
/// ...; returns the error and the next number.
fn receive_in_order(rx: &mut Subscriber, from: u64, what: &str) -> (RecvError, u64) {
    let mut buf = Vec::new();
    let mut next = from;
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => {
                assert_eq!(checked(&buf), next, "{what}: in order, once");
                next += 1;
            }
            Err(e) => return (e, next),
        }
    }
}

/// A publisher dies after it claimed a position, before it marked the cell: the
/// subscriber receives what it committed, in order, then `Disconnected`; a new
/// publisher's messages come after, past the dead claim (skipped).
fn publisher_dies_after_claim(passes: u64) {
    let what = format!("publisher after its claim, after {passes}");
    let ring = RingGuard::new("crash-pub");
    let mut rx = topic(&ring).create_subscriber().expect("create");
    let child = spawn(
        "crashing-publisher",
        ring.name(),
        &format!("after-claim {passes}"),
    );
    let (end, next) = receive_in_order(&mut rx, 0, &what);
    assert_eq!((end, next), (RecvError::Disconnected, passes), "{what}");
    died_at_the_point(child.wait_exit(LIMIT), &what);
    let mut tx = Publisher::open(ring.name()).expect("a new publisher");
    let after = 1000 + CELLS as u64 / 2;
    for seq in 1000..after {
        tx.send(&message(seq, len_of(seq)))
            .expect("send after the death");
    }
    drop(tx);
    let (end, next) = receive_in_order(&mut rx, 1000, &what);
    assert_eq!((end, next), (RecvError::Disconnected, after), "{what}");
    assert_eq!(rx.stats().skipped, 1, "{what}: the dead claim");
}

/// A subscriber dies after it read a message, before it published its cursor past it:
/// the publisher, which that cursor holds back a lap later, evicts it and goes on; the
/// other subscriber receives everything.
fn subscriber_dies_before_cursor(passes: u64) {
    let what = format!("subscriber before its cursor, after {passes}");
    let ring = RingGuard::new("crash-sub");
    let mut tx = topic(&ring).create_publisher().expect("create");
    let mut rx = Subscriber::open(ring.name()).expect("a subscriber");
    let child = spawn(
        "crashing-subscriber",
        ring.name(),
        &format!("before-cursor {passes}"),
    );
    child.expect("joined", LIMIT);
    let count = 10 * CELLS as u64;
    let reader = std::thread::spawn(move || receive_in_order(&mut rx, 0, "the survivor"));
    for seq in 0..count {
        tx.send(&message(seq, len_of(seq)))
            .expect("send past the dead cursor");
    }
    died_at_the_point(child.wait_exit(LIMIT), &what);
    assert_eq!(tx.stats().evicted, 1, "{what}: the dead subscriber");
    drop(tx);
    let (end, next) = reader.join().expect("the surviving subscriber");
    assert_eq!((end, next), (RecvError::Disconnected, count), "{what}");
}

/// A handle of `role` dies while it attaches (its slot's lock held, its flag not set):
/// nobody waits for it, and the topic works with a new one.
fn attach_dies(role: &str) {
    let what = format!("{role} at attach");
    let ring = RingGuard::new("crash-attach");
    let (mut tx, mut rx): (Publisher, Subscriber) = if role == "publisher" {
        let rx = topic(&ring).create_subscriber().expect("create");
        died_at_the_point(
            spawn("crashing-publisher", ring.name(), "attach 0").wait_exit(LIMIT),
            &what,
        );
        (Publisher::open(ring.name()).expect("a new publisher"), rx)
    } else {
        let tx = topic(&ring).create_publisher().expect("create");
        died_at_the_point(
            spawn("crashing-subscriber", ring.name(), "attach 0").wait_exit(LIMIT),
            &what,
        );
        (tx, Subscriber::open(ring.name()).expect("a new subscriber"))
    };
    // Two laps: a subscriber that died attaching holds nobody back.
    let reader = std::thread::spawn(move || receive_in_order(&mut rx, 0, "the subscriber"));
    for seq in 0..2 * CELLS as u64 {
        tx.send(&message(seq, len_of(seq))).expect("send");
    }
    drop(tx);
    let (end, next) = reader.join().expect("the subscriber");
    assert_eq!((end, next), (RecvError::Disconnected, 2 * CELLS as u64));
}

#[test]
fn a_publisher_dying_at_any_step_is_skipped_and_loses_nothing_committed() {
    let _w = watchdog("publisher crash points", Duration::from_secs(120));
    for passes in [0, 1, 7, 100] {
        publisher_dies_after_claim(passes);
    }
    attach_dies("publisher");
}

#[test]
fn a_subscriber_dying_at_any_step_holds_nobody_back() {
    let _w = watchdog("subscriber crash points", Duration::from_secs(120));
    for passes in [0, 1, 7, 100] {
        subscriber_dies_before_cursor(passes);
    }
    attach_dies("subscriber");
}
