//! The MPMC queue: claims and commits by compare-and-swap on the cells, with the abort,
//! skip (dead producer) and redelivery (dead consumer) paths. A "death" is a handle that
//! leaves without finishing (its grant forgotten, then dropped): in one process its slot's
//! flag is the lock, so the others see it gone as they would see a process die.
#![cfg(ipcring_loom)]

use ipcring::mpmc::{Consumer, HeapQueue, Producer};
use ipcring::WaitStrategy;
use ipcring_loom_tests::{drain, message, model};
use loom::thread;

const PARK: WaitStrategy = WaitStrategy::Park;

/// Two cells of 8 bytes whose positions start 3 before the end of the `u64` range, so
/// that the models cross it and wrap the cells.
fn queue() -> HeapQueue {
    HeapQueue::new(2, 8, 2, u64::MAX - 2)
}

/// Two producers send one message each (one of them after abandoning a claim), two
/// consumers take one each: both messages arrive, each exactly once, bytes intact. The
/// main thread is the second producer, then the second consumer.
#[test]
fn two_producers_two_consumers_each_message_once() {
    model(|| {
        let q = queue();
        let mut p1 = q.producer(PARK).unwrap();
        let mut p2 = q.producer(PARK).unwrap();
        let mut c1 = q.consumer(PARK).unwrap();
        let mut c2 = q.consumer(PARK).unwrap();
        let t1 = thread::spawn(move || {
            drop(p1.reserve(8).unwrap()); // abandoned: consumers pass it
            p1.send(&message(1, 8)).unwrap();
        });
        let other = thread::spawn(move || {
            let mut buf = Vec::new();
            c1.recv_into(&mut buf).unwrap();
            buf
        });
        p2.send(&message(2, 5)).unwrap();
        let mut buf = Vec::new();
        c2.recv_into(&mut buf).unwrap();
        let mut got = vec![buf, other.join().unwrap()];
        got.sort();
        assert_eq!(got, vec![message(1, 8), message(2, 5)]);
        t1.join().unwrap();
    });
}

/// One producer, one consumer, four messages through two cells: order, laps, waits on
/// both sides.
#[test]
fn one_producer_one_consumer_in_order_across_laps() {
    model(|| {
        let q = queue();
        let mut tx = q.producer(PARK).unwrap();
        let mut rx = q.consumer(PARK).unwrap();
        let t = thread::spawn(move || {
            for seq in 0..4 {
                tx.send(&message(seq, 8)).unwrap();
            }
        });
        let got = drain(&mut rx);
        assert_eq!(got, (0..4).map(|s| message(s, 8)).collect::<Vec<_>>());
        t.join().unwrap();
    });
}

/// A producer dies between claim and commit while another one sends: the consumer passes
/// the dead claim (counted) and receives the other message; the dead claim's bytes are
/// never delivered.
#[test]
fn a_dead_producers_claim_is_skipped() {
    model(|| {
        let q = queue();
        let mut dead = q.producer(PARK).unwrap();
        let mut live = q.producer(PARK).unwrap();
        let mut rx = q.consumer(PARK).unwrap();
        let t1 = thread::spawn(move || {
            let mut g = dead.reserve(8).unwrap();
            g.copy_from_slice(&message(6, 8));
            std::mem::forget(g);
            drop(dead);
        });
        let t2 = thread::spawn(move || live.send(&message(2, 8)).unwrap());
        let got = drain(&mut rx);
        assert_eq!(got, vec![message(2, 8)]);
        t1.join().unwrap();
        t2.join().unwrap();
        let s = rx.stats();
        assert_eq!((s.sent, s.received, s.skipped), (1, 1, 1));
    });
}

/// A fresh queue, full with messages 1 and 2 of 8 bytes, and its producer and two
/// consumers (the first one to die holding a message).
fn two_sent_and_two_readers() -> (Producer, Consumer, Consumer) {
    let q = queue();
    let mut tx = q.producer(PARK).unwrap();
    let dead = q.consumer(PARK).unwrap();
    let rx = q.consumer(PARK).unwrap();
    tx.send(&message(1, 8)).unwrap();
    tx.send(&message(2, 8)).unwrap();
    (tx, dead, rx)
}

/// A consumer dies while it holds a message lent by `read`, racing the other consumer for
/// the two messages that the (gone) producer left: the survivor receives both, the dead
/// reader's again (counted). Until the holder dies, the survivor may see `Disconnected`
/// (the producer is gone and nothing is left that a live consumer does not hold); a look
/// after the death adopts the message.
#[test]
fn a_dead_consumers_message_is_delivered_again() {
    model(|| {
        let (tx, mut dead, mut rx) = two_sent_and_two_readers();
        drop(tx);
        let t = thread::spawn(move || {
            if let Ok(g) = dead.read() {
                std::mem::forget(g);
            }
            drop(dead);
        });
        let mut got = Vec::new();
        while got.len() < 2 {
            got.extend(drain(&mut rx));
            thread::yield_now();
        }
        got.sort();
        assert_eq!(got, vec![message(1, 8), message(2, 8)]);
        t.join().unwrap();
        let s = rx.stats();
        assert_eq!(s.received, 2);
        assert!(s.redelivered <= 1);
    });
}

/// A consumer died holding the first of two messages in a full queue; then a producer
/// needs that cell for a third message while the survivor drains: the producer turns the
/// dead reader's message into the message of its own position, or the survivor adopts it
/// first (one compare-and-swap decides); either way the survivor receives all three, each
/// once, bytes intact.
#[test]
fn a_producer_redelivers_a_dead_readers_message_at_a_full_queue() {
    model(|| {
        let (mut tx, mut dead, mut rx) = two_sent_and_two_readers();
        // `keep` ends the loan (so loom's tracker of the bytes is not leaked, as with a
        // forgotten grant: the cell is written again here) but not the claim.
        dead.read().unwrap().keep();
        drop(dead);
        let p = thread::spawn(move || tx.send(&message(3, 8)).unwrap());
        let got = drain(&mut rx);
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=3).map(|s| message(s, 8)).collect::<Vec<_>>());
        p.join().unwrap();
        let s = rx.stats();
        assert_eq!((s.received, s.redelivered), (3, 1));
    });
}
