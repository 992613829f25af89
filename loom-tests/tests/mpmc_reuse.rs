//! The MPMC queue after an abort or a death: a cell written again by another producer
//! than the one that gave it up, and a role slot taken over by a new holder. A producer
//! "dies" between claim and commit through `WriteGrant::leak_claim` (the loan ends, the
//! claim stays), a consumer while it holds a message through `read().keep()`; then its
//! handle is dropped (in one process the slot's flag is the lock).
#![cfg(ipcring_loom)]

use ipcring::mpmc::HeapQueue;
use ipcring::WaitStrategy;
use ipcring_loom_tests::{drain, message, model};
use loom::thread;

const PARK: WaitStrategy = WaitStrategy::Park;

/// A producer aborts a claim and leaves; another one sends two messages through two
/// cells, the second of them into the aborted cell's next lap. Both arrive in order, and
/// the second producer's bytes never race the aborter's (the abort's `Release`).
#[test]
fn an_aborted_cell_is_written_next_by_another_producer() {
    model(|| {
        let q = HeapQueue::new(2, 8, 2, u64::MAX - 2);
        let mut p1 = q.producer(PARK).unwrap();
        let mut p2 = q.producer(PARK).unwrap();
        let mut rx = q.consumer(PARK).unwrap();
        let t1 = thread::spawn(move || {
            drop(p1.reserve(8).unwrap());
            drop(p1);
        });
        let t2 = thread::spawn(move || {
            p2.send(&message(1, 8)).unwrap();
            p2.send(&message(2, 8)).unwrap();
        });
        assert_eq!(drain(&mut rx), vec![message(1, 8), message(2, 8)]);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

/// Three producer slots: the main thread claims a cell, writes it and dies; P sends two
/// messages (at the full queue it frees the dead claim's cell), R tries one. What was
/// sent arrives, the dead claim's bytes never do, and whoever writes the freed cell next
/// does not race the dead writer (the `AcqRel` of `unblock`, which hands the dead one's
/// writes on). The yield in the dying thread lets the others run between its detach and
/// the fence after it, within two preemptions.
#[test]
fn a_dead_claim_freed_by_one_producer_is_written_by_another() {
    model(|| {
        let q = HeapQueue::new(2, 8, 3, u64::MAX - 6);
        let mut dead = q.producer(PARK).unwrap();
        let mut p = q.producer(PARK).unwrap();
        let mut r = q.producer(PARK).unwrap();
        let mut rx = q.consumer(PARK).unwrap();
        let tp = thread::spawn(move || {
            p.send(&message(1, 8)).unwrap();
            p.send(&message(2, 8)).unwrap();
        });
        let tr = thread::spawn(move || r.try_send(&message(3, 8)).is_ok());
        if let Ok(mut g) = dead.try_reserve(8) {
            g.copy_from_slice(&message(6, 8));
            g.leak_claim();
        }
        thread::yield_now();
        drop(dead);
        let sent3 = tr.join().unwrap();
        let mut got = drain(&mut rx);
        got.sort();
        let mut want = vec![message(1, 8), message(2, 8)];
        if sent3 {
            want.push(message(3, 8));
        }
        assert_eq!(got, want);
        tp.join().unwrap();
    });
}

/// One consumer slot: its holder dies with a message taken; the producer leaves on
/// another thread while a new consumer takes the slot. The new holder inherits the dead
/// one's mark and delivers that message again, then the other one (the `fresh` hook of
/// the slot's attach).
#[test]
fn a_new_holder_of_a_dead_readers_slot_delivers_its_message() {
    model(|| {
        let q = HeapQueue::new(2, 8, 1, u64::MAX - 2);
        let mut tx = q.producer(PARK).unwrap();
        let mut dead = q.consumer(PARK).unwrap();
        tx.send(&message(1, 8)).unwrap();
        tx.send(&message(2, 8)).unwrap();
        dead.read().unwrap().keep();
        drop(dead);
        let p = thread::spawn(move || drop(tx));
        let mut rx = q.consumer(PARK).unwrap();
        let mut got = drain(&mut rx);
        got.sort();
        assert_eq!(got, vec![message(1, 8), message(2, 8)]);
        p.join().unwrap();
        assert_eq!(rx.stats().redelivered, 1);
    });
}
