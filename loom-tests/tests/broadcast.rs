//! Broadcast topics: publishers claim positions by compare-and-swap, subscribers read
//! every position in order. Lossless: publishers wait for the slowest subscriber's
//! cursor. Lossy: publishers overwrite, and a subscriber's copy that raced with an
//! overwrite is dropped (the seqlock), never returned. A "death" is a handle that leaves
//! without finishing its claim (`WriteGrant::leak_claim`, then dropped): in one process
//! its slot's flag is the lock.
#![cfg(ipcring_loom)]

use ipcring::broadcast::{HeapTopic, Subscriber};
use ipcring::{RecvError, WaitStrategy};
use ipcring_loom_tests::{message, model};
use loom::thread;

const PARK: WaitStrategy = WaitStrategy::Park;

/// Two cells of 16 bytes (two words: a copy can be torn between them) whose positions
/// start 3 before the end of the `u64` range, so that the models cross it and wrap.
fn topic(lossy: bool) -> HeapTopic {
    HeapTopic::new(2, 16, (2, 2), lossy, None, u64::MAX - 2)
}

/// Receives until `Disconnected`: the messages, and the positions reported lost.
fn drain(rx: &mut Subscriber) -> (Vec<Vec<u8>>, u64) {
    let (mut got, mut missed) = (Vec::new(), 0);
    let mut buf = Vec::new();
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => got.push(buf.clone()),
            Err(RecvError::Lagged { missed: m }) => missed += m,
            Err(RecvError::Disconnected) => return (got, missed),
            Err(e) => panic!("{e}"),
        }
    }
}

/// Lossless, one publisher and two subscribers, three messages through two cells: the
/// main thread publishes and reads as the first subscriber between its sends; the third
/// publish waits for the other subscriber's cursor, on another thread. Both receive all
/// three, in order, bytes intact.
#[test]
fn lossless_subscribers_each_receive_every_message_in_order() {
    model(|| {
        let t = topic(false);
        let mut tx = t.publisher(PARK).unwrap();
        let mut a = t.subscriber(PARK, false).unwrap();
        let mut b = t.subscriber(PARK, false).unwrap();
        let other = thread::spawn(move || drain(&mut a));
        let mut buf = Vec::new();
        for seq in 0..3 {
            tx.send(&message(seq, 16)).unwrap();
            b.recv_into(&mut buf).unwrap();
            assert_eq!(buf, message(seq, 16));
        }
        drop(tx);
        let want: Vec<_> = (0..3).map(|s| message(s, 16)).collect();
        assert_eq!(other.join().unwrap(), (want, 0));
    });
}

/// Lossless, a topic of one publisher slot, whose holder claims with a store of the tail
/// and, from the second lap of its own claims on, without a look at the cell (see
/// `Topic::claim_alone`): four messages through two cells to a subscriber on another
/// thread, every one received, in order, intact.
#[test]
fn a_lone_publisher_s_messages_all_arrive_in_order() {
    model(|| {
        let t = HeapTopic::new(2, 16, (1, 1), false, None, u64::MAX - 2);
        let mut tx = t.publisher(PARK).unwrap();
        let mut rx = t.subscriber(PARK, false).unwrap();
        let reader = thread::spawn(move || drain(&mut rx));
        for seq in 0..4 {
            tx.send(&message(seq, 16)).unwrap();
        }
        drop(tx);
        let want: Vec<_> = (0..4).map(|s| message(s, 16)).collect();
        assert_eq!(reader.join().unwrap(), (want, 0));
    });
}

/// A lone publisher dies holding a claim (its grant leaked, then dropped) after one
/// message; a successor takes its slot and sends three on another thread: the second
/// into the dead claim's cell, which it must look at (the claim a lap before is not its
/// own), the third into a cell of its own, without a look. The subscriber passes the dead
/// claim (counted as skipped) and receives the four messages, in order.
#[test]
fn a_lone_publisher_s_successor_passes_its_dead_claim() {
    model(|| {
        let t = HeapTopic::new(2, 16, (1, 1), false, None, u64::MAX - 2);
        let mut rx = t.subscriber(PARK, false).unwrap();
        let mut dead = t.publisher(PARK).unwrap();
        dead.send(&message(0, 16)).unwrap();
        let mut g = dead.reserve(16).unwrap();
        g.copy_from_slice(&message(7, 16));
        g.leak_claim();
        drop(dead);
        // Attached before the subscriber looks: with no publisher at all, it would take
        // the topic for deserted.
        let mut tx = t.publisher(PARK).unwrap();
        let next = thread::spawn(move || {
            for seq in 1..4 {
                tx.send(&message(seq, 16)).unwrap();
            }
        });
        let want: Vec<_> = (0..4).map(|s| message(s, 16)).collect();
        assert_eq!(drain(&mut rx), (want, 0));
        next.join().unwrap();
        assert_eq!(rx.stats().skipped, 1);
    });
}

/// Lossy, one publisher four messages through two cells, one subscriber: what it
/// receives is intact and in order, and what it does not is reported lost, exactly:
/// received + lost = 4. A copy that raced with an overwrite is never returned.
#[test]
fn a_lossy_subscriber_never_returns_a_torn_message_and_counts_every_lost_one() {
    lossy_reader_model(2);
}

/// As above, in a topic of one publisher slot (claims by store, without a look at the
/// cell from the second lap on).
#[test]
fn a_lossy_subscriber_of_a_lone_publisher_never_returns_a_torn_message() {
    lossy_reader_model(1);
}

fn lossy_reader_model(roles: usize) {
    model(move || {
        let t = HeapTopic::new(2, 16, (roles, roles), true, None, u64::MAX - 2);
        let mut tx = t.publisher(PARK).unwrap();
        let mut rx = t.subscriber(PARK, false).unwrap();
        let pubs = thread::spawn(move || {
            for seq in 0..4 {
                tx.send(&message(seq, 16)).unwrap();
            }
        });
        let (got, missed) = drain(&mut rx);
        assert_eq!(got.len() as u64 + missed, 4);
        // Intact, in order: a subsequence of the four messages.
        let mut want = (0..4).map(|s| message(s, 16));
        for m in &got {
            assert!(want.any(|w| w == *m), "torn or out of order: {m:?}");
        }
        assert_eq!(rx.own_stats().missed, missed);
        pubs.join().unwrap();
    });
}

/// Two publishers and one subscriber: one publisher abandons a claim (its grant dropped)
/// and then sends; the other claims, writes and dies holding its claim. The subscriber
/// passes both positions without a message (the dead one counted as skipped) and
/// receives the one message, once.
#[test]
fn aborted_and_dead_claims_are_passed() {
    model(|| {
        let t = topic(false);
        let mut live = t.publisher(PARK).unwrap();
        let mut dead = t.publisher(PARK).unwrap();
        let mut rx = t.subscriber(PARK, false).unwrap();
        let one = thread::spawn(move || {
            drop(live.reserve(16).unwrap());
            live.send(&message(1, 16)).unwrap();
        });
        let two = thread::spawn(move || {
            let mut g = dead.reserve(16).unwrap();
            g.copy_from_slice(&message(2, 16));
            g.leak_claim();
            drop(dead);
        });
        assert_eq!(drain(&mut rx), (vec![message(1, 16)], 0));
        one.join().unwrap();
        two.join().unwrap();
        assert_eq!(rx.stats().skipped, 1);
    });
}

/// Lossless, one cell: a subscriber joins on another thread while the main thread
/// publishes three messages. What it receives is a suffix of the three (it starts at the
/// message after its join and misses none after), intact: a publisher that looked at the
/// cursors while it joined never overwrites the cell it reads (the fences of `join` and
/// `room`).
#[test]
fn a_subscriber_that_joins_while_a_publisher_sends_gets_an_intact_suffix() {
    model(|| {
        let t = HeapTopic::new(1, 16, (2, 2), false, None, u64::MAX);
        let mut tx = t.publisher(PARK).unwrap();
        let joiner = {
            let t = t.clone();
            thread::spawn(move || {
                let mut rx = t.subscriber(PARK, false).unwrap();
                drain(&mut rx)
            })
        };
        for seq in 0..3 {
            tx.send(&message(seq, 16)).unwrap();
        }
        drop(tx);
        let (got, missed) = joiner.join().unwrap();
        assert_eq!(missed, 0);
        let first = 3 - got.len();
        let want: Vec<_> = (first..3).map(|s| message(s, 16)).collect();
        assert_eq!(got, want);
    });
}
