//! Crash points (`--features crash-points`): a producer or a consumer process that dies at
//! each step of the protocol where the shared memory is between two states. The survivor
//! must see every committed message once, intact and in order, then the death; a new
//! handle must continue where the dead one left off.

use crate::common::crashes::{self, died_at_the_point};
use crate::common::{check, message, say, spawn, stream_len, watchdog, RingGuard, XorShift};
use crate::process::{send_one, StreamReader};
use ipcring::crash::Point;
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// The smallest ring whose largest message (a quarter of it) takes every `stream_len`: a
/// few messages a lap, so that they often wrap around its end (padding).
const CAPACITY: usize = 16384;

fn point(name: &str) -> Point {
    match name {
        "attach" => Point::AttachBeforeFlag,
        "after-claim" => Point::SpscAfterClaim,
        "before-header" => Point::SpscBeforeHeader,
        "before-padding" => Point::SpscBeforePadding,
        "mid-batch" => Point::SpscMidBatch,
        "before-release" => Point::SpscBeforeRelease,
        other => panic!("no crash point {other:?}"),
    }
}

/// Child: streams messages through every send path until its crash point kills it.
pub fn crashing_producer(ring: &str, arg: &str) {
    let passes = crashes::arm_from(arg, point);
    let mut tx = Producer::open(ring).expect("open the producer");
    let mut rng = XorShift::new(passes + 1);
    let mut seq = 0;
    loop {
        seq += send_one(&mut tx, &mut rng, seq, u64::MAX - seq, false).expect("send");
    }
}

/// Child: receives through every receive path, saying how many messages it has received
/// (and released), until its crash point kills it.
pub fn crashing_consumer(ring: &str, arg: &str) {
    let passes = crashes::arm_from(arg, point);
    let mut rx = Consumer::open(ring).expect("open the consumer");
    let mut reader = StreamReader::new(0, false, passes + 1);
    loop {
        reader.recv_one(&mut rx).expect("receive");
        say("got", reader.next);
    }
}

/// A producer dies at `name` after `passes` passes: the consumer receives a strict prefix
/// of the stream, every byte checked, then `Disconnected`; a new producer continues
/// after the last commit.
fn producer_dies_at(name: &str, passes: u64) {
    let what = format!("producer at {name} after {passes}");
    let ring = RingGuard::new("crash-tx");
    let mut rx = Builder::new(ring.name())
        .capacity(CAPACITY)
        .create_consumer()
        .expect("create");
    let child = spawn(
        "crashing-producer",
        ring.name(),
        &format!("{name} {passes}"),
    );
    let mut reader = StreamReader::new(0, false, passes);
    let end = loop {
        if let Err(e) = reader.recv_one(&mut rx) {
            break e;
        }
    };
    assert_eq!(end, RecvError::Disconnected, "{what}");
    died_at_the_point(child.wait_exit(LIMIT), &what);
    let mut tx = Producer::open(ring.name()).expect("a new producer");
    for seq in reader.next..reader.next + 50 {
        tx.send(&message(seq, stream_len(seq, false)))
            .expect("send after the takeover");
        reader
            .recv_one(&mut rx)
            .expect("receive after the takeover");
    }
    drop(tx);
    assert_eq!(reader.recv_one(&mut rx), Err(RecvError::Disconnected));
    println!("{what}: {} messages before the death", reader.next - 50);
}

/// A consumer dies at `name` after `passes` passes: the producer's waiting send returns
/// `Disconnected`; a new consumer resumes at the first message the dead one did not
/// release, and receives the rest in order.
fn consumer_dies_at(name: &str, passes: u64) {
    let what = format!("consumer at {name} after {passes}");
    let ring = RingGuard::new("crash-rx");
    let mut tx = Builder::new(ring.name())
        .capacity(CAPACITY)
        .create_producer()
        .expect("create");
    let child = spawn(
        "crashing-consumer",
        ring.name(),
        &format!("{name} {passes}"),
    );
    let mut seq = 0;
    let end = loop {
        match tx.send(&message(seq, stream_len(seq, false))) {
            Ok(()) => seq += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(end, SendError::Disconnected, "{what}");
    let lines = child.remaining(LIMIT);
    died_at_the_point(child.wait_exit(LIMIT), &what);
    let released: u64 = lines.last().map_or(0, |l| {
        l.strip_prefix("got")
            .expect("got N")
            .trim()
            .parse()
            .expect("N")
    });
    let mut rx = Consumer::open(ring.name()).expect("a new consumer");
    let mut buf = Vec::new();
    for want in released..seq {
        rx.recv_into(&mut buf).expect("receive after the takeover");
        check(want, stream_len(want, false), &buf);
    }
    drop(tx);
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    println!("{what}: {released} released, {seq} sent");
}

/// A handle of `role` dies while it attaches, holding its slot's lock with the flag not
/// yet set: the slot is free again (the kernel released the lock), and a pair made of a
/// new handle of that role and the survivor works.
fn attach_dies(role: &str) {
    let what = format!("{role} at attach");
    let ring = RingGuard::new("crash-attach");
    let (mut tx, mut rx) = if role == "producer" {
        let rx = Builder::new(ring.name())
            .capacity(CAPACITY)
            .create_consumer()
            .expect("create");
        let child = spawn("crashing-producer", ring.name(), "attach 0");
        died_at_the_point(child.wait_exit(LIMIT), &what);
        (Producer::open(ring.name()).expect("a new producer"), rx)
    } else {
        let tx = Builder::new(ring.name())
            .capacity(CAPACITY)
            .create_producer()
            .expect("create");
        let child = spawn("crashing-consumer", ring.name(), "attach 0");
        died_at_the_point(child.wait_exit(LIMIT), &what);
        (tx, Consumer::open(ring.name()).expect("a new consumer"))
    };
    let mut buf = Vec::new();
    for seq in 0..50 {
        tx.send(&message(seq, stream_len(seq, false)))
            .expect("send");
        rx.recv_into(&mut buf).expect("receive");
        check(seq, stream_len(seq, false), &buf);
    }
}

#[test]
fn a_producer_dying_at_any_step_leaves_a_prefix_and_a_ring_to_take_over() {
    let _w = watchdog("producer crash points", Duration::from_secs(240));
    for name in [
        "after-claim",
        "before-header",
        "before-padding",
        "mid-batch",
    ] {
        for passes in [0, 1, 7, 100] {
            producer_dies_at(name, passes);
        }
    }
    attach_dies("producer");
}

#[test]
fn a_consumer_dying_at_any_step_loses_nothing_it_did_not_release() {
    let _w = watchdog("consumer crash points", Duration::from_secs(240));
    for passes in [0, 1, 7, 100] {
        consumer_dies_at("before-release", passes);
    }
    attach_dies("consumer");
}
