//! The MPMC API in one process: order, sizes, full and empty, grants, values, bad input,
//! role slots, counters, and many threads at once.

use crate::common::full::disconnects;
use crate::common::scribbler::{corrupted_stays, verdict_is_shared};
use crate::common::waits::{blocking_calls_under_signals, futex_words_wrap};
use crate::common::{check, erase_slot, forge_each_word, message, watchdog, RingGuard};
use ipcring::mpmc::{Builder, Consumer, HeapQueue, Producer};
use ipcring::{OpenError, RecvError, Role, SendError, WaitStrategy};
use std::collections::HashMap;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn pair(ring: &RingGuard, capacity: usize, slot_size: usize) -> (Producer, Consumer) {
    let tx = Builder::new(ring.name())
        .capacity(capacity)
        .slot_size(slot_size)
        .create_producer()
        .expect("create the producer");
    let rx = Consumer::open(ring.name()).expect("open a consumer");
    (tx, rx)
}

#[test]
fn one_producer_arrives_in_order_across_many_laps_with_every_size() {
    let _w = watchdog("one_producer_arrives_in_order", LIMIT);
    let ring = RingGuard::new("order");
    let (mut tx, mut rx) = pair(&ring, 8, 40);
    let mut buf = Vec::new();
    for seq in 0..999u64 {
        let len = (seq % 33) as usize + 8;
        tx.send(&message(seq, len)).expect("send");
        if seq % 3 == 2 {
            for back in (seq - 2)..=seq {
                assert_eq!(rx.recv_into(&mut buf), Ok((back % 33) as usize + 8));
                check(back, (back % 33) as usize + 8, &buf);
            }
        }
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    let s = rx.stats();
    assert_eq!((s.sent, s.received, s.rejected), (999, 999, 0));
}

#[test]
fn empty_and_full_size_messages_round_trip_and_larger_ones_are_refused() {
    let ring = RingGuard::new("sizes");
    let (mut tx, mut rx) = pair(&ring, 4, 13);
    let mut buf = vec![1, 2, 3];
    tx.send(b"").expect("empty message");
    tx.send(&[7; 13]).expect("a message of the slot size");
    assert_eq!(
        tx.send(&[0; 14]),
        Err(SendError::TooLarge { len: 14, max: 13 })
    );
    assert_eq!(
        tx.try_reserve(14).map(drop),
        Err(SendError::TooLarge { len: 14, max: 13 })
    );
    assert_eq!(rx.recv_into(&mut buf), Ok(0));
    assert!(buf.is_empty());
    assert_eq!(rx.recv_into(&mut buf), Ok(13));
    assert_eq!(buf, [7; 13]);
    assert_eq!(tx.max_message(), 13);
    assert_eq!(rx.capacity(), 4);
}

#[test]
fn a_full_queue_rejects_at_once_and_counts_it_then_takes_one_per_free_slot() {
    let ring = RingGuard::new("full");
    let (mut tx, mut rx) = pair(&ring, 4, 8);
    for seq in 0..4 {
        tx.try_send(&message(seq, 8)).expect("room");
    }
    assert_eq!(tx.try_send(b"x"), Err(SendError::Full));
    assert_eq!(tx.try_send_value(&1u8), Err(SendError::Full));
    assert_eq!(
        tx.send_timeout(b"x", Duration::from_millis(20)),
        Err(SendError::Timeout)
    );
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("one out");
    tx.try_send(&message(4, 8)).expect("one slot free again");
    assert_eq!(tx.try_send(b"x"), Err(SendError::Full));
    let s = tx.stats();
    assert_eq!((s.sent, s.rejected, s.high_water), (5, 3, 4));
    for seq in 1..5 {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, 8, &buf);
    }
    assert_eq!(
        rx.recv_timeout_into(&mut buf, Duration::from_millis(20)),
        Err(RecvError::Timeout)
    );
}

#[test]
fn grants_commit_abort_and_keep() {
    let ring = RingGuard::new("grants");
    let (mut tx, mut rx) = pair(&ring, 4, 16);
    let mut g = tx.reserve(16).expect("reserve");
    g.write_at(0, b"hello");
    g.commit(5).expect("commit");
    let mut g = tx.reserve(16).expect("reserve");
    g.write_at(0, b"lost");
    drop(g); // abandoned: consumers pass it
    tx.send(b"after").expect("send");
    let g = rx.read().expect("read");
    assert_eq!(&*g, b"hello");
    g.keep();
    assert_eq!(&*rx.try_read().expect("kept message again"), b"hello");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(5));
    assert_eq!(buf, b"after");
    assert_eq!(rx.try_read().map(|g| g.len()), Err(RecvError::Empty));
    // The abandoned slot is usable again: four more fill the queue.
    for seq in 0..4 {
        tx.try_send(&message(seq, 16)).expect("room");
    }
    assert_eq!(tx.try_send(b"x"), Err(SendError::Full));
}

#[test]
fn values_of_the_wrong_size_stay_for_the_next_receive() {
    let ring = RingGuard::new("values");
    let (mut tx, mut rx) = pair(&ring, 4, 8);
    tx.send_value(&0x1122_3344_u32).expect("send");
    tx.send_value(&7u64).expect("send");
    assert_eq!(
        rx.recv_value::<u64>(),
        Err(RecvError::WrongSize {
            found: 4,
            expected: 8
        })
    );
    assert_eq!(rx.try_recv_value::<u32>(), Ok(0x1122_3344));
    assert_eq!(rx.recv_value::<u64>(), Ok(7));
}

#[test]
fn bad_geometry_gets_its_own_error() {
    let ring = RingGuard::new("geometry");
    let invalid = |b: Builder, what: &str| match b.create_producer() {
        Err(OpenError::InvalidGeometry { what: w, .. }) => assert_eq!(w, what),
        other => panic!("{what}: {other:?}"),
    };
    let b = || Builder::new(ring.name());
    invalid(b().capacity(0), "capacity");
    invalid(b().capacity(3), "capacity");
    invalid(b().capacity(1 << 25), "capacity");
    invalid(b().slot_size(0), "slot_size");
    invalid(b().slot_size((1 << 28) + 1), "slot_size");
    invalid(b().capacity(1 << 24).slot_size(1 << 20), "capacity");
    invalid(b().producers(0), "producers");
    invalid(b().producers(65), "producers");
    invalid(b().consumers(0), "consumers");
    invalid(b().consumers(65), "consumers");
    assert!(!ring.path().exists(), "nothing is created for bad input");
    // The smallest queue works.
    let (mut tx, mut rx) = pair(&ring, 1, 1);
    tx.send(b"a").expect("send");
    assert_eq!(tx.try_send(b"b"), Err(SendError::Full));
    assert_eq!(&*rx.read().expect("read"), b"a");
}

#[test]
fn more_handles_than_role_slots_are_refused_with_the_slot_count() {
    let ring = RingGuard::new("slots");
    let b = || Builder::new(ring.name()).producers(2).consumers(1);
    let p1 = b().create_producer().expect("first producer");
    let p2 = Producer::open(ring.name()).expect("second producer");
    match Producer::open(ring.name()) {
        Err(OpenError::RoleTaken {
            role: Role::Producer,
            slots: 2,
        }) => {}
        other => panic!("third producer: {other:?}"),
    }
    let c1 = Consumer::open(ring.name()).expect("one consumer");
    assert!(matches!(
        Consumer::open(ring.name()),
        Err(OpenError::RoleTaken {
            role: Role::Consumer,
            slots: 1
        })
    ));
    drop(p1);
    let _p3 = Producer::open(ring.name()).expect("a freed slot is taken again");
    drop((p2, c1));
}

#[test]
fn an_spsc_ring_is_not_an_mpmc_queue_and_back() {
    let ring = RingGuard::new("kinds");
    let _tx = ipcring::spsc::Producer::create(ring.name(), 4096).expect("spsc");
    assert!(matches!(
        Consumer::open(ring.name()),
        Err(OpenError::KindMismatch {
            found: 1,
            expected: 2
        })
    ));
    let other = RingGuard::new("kinds");
    let _q = Producer::create(other.name(), 4, 8).expect("mpmc");
    assert!(matches!(
        ipcring::spsc::Consumer::open(other.name()),
        Err(OpenError::KindMismatch {
            found: 2,
            expected: 1
        })
    ));
}

#[test]
fn producers_left_disconnect_the_drained_queue_and_consumers_left_a_full_one() {
    let ring = RingGuard::new("disconnect");
    let (mut tx, mut rx) = pair(&ring, 2, 8);
    tx.send(b"last").expect("send");
    drop(tx);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(4));
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    disconnects(|| rx.try_recv_into(&mut buf));
    let mut tx = Producer::open(ring.name()).expect("a new producer");
    tx.send(b"a").expect("room");
    tx.send(b"b").expect("room");
    drop(rx);
    assert_eq!(tx.send(b"c"), Err(SendError::Disconnected));
}

/// A producer that erased its slot (generation and flag zeroed, as if never held) before
/// it left is gone to a consumer that received its messages, not awaited forever.
#[test]
fn a_producer_that_erases_its_slot_is_seen_gone() {
    let _w = watchdog("erased producer slot", LIMIT);
    let ring = RingGuard::new("erased");
    let (mut tx, mut rx) = pair(&ring, 4, 8);
    tx.send(b"last").expect("send");
    drop(tx);
    // The first role slot, after the 6 header lines.
    erase_slot(&ring, 6 * 128);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(4));
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}

/// A consumer that found a cell corrupted says so on every later call, even once the
/// cell was put right; a producer likewise.
#[test]
fn handles_that_found_the_queue_corrupted_stay_corrupted() {
    let _w = watchdog("poisoned handles", LIMIT);
    let ring = RingGuard::new("poison");
    let b = || {
        Builder::new(ring.name())
            .capacity(4)
            .slot_size(8)
            .producers(1)
            .consumers(1)
    };
    let tx = b().create_producer().expect("create");
    let rx = Consumer::open(ring.name()).expect("open a consumer");
    // The first cell's state word, after 6 header lines and 2 role slots of 2 lines.
    corrupted_stays!(&ring, tx, rx, (6 + 2 * 2) * 128);
}

/// A consumer's `Corrupted` is the queue's: a producer that waits for room is told, and
/// the queue is not opened again.
#[test]
fn a_consumers_verdict_reaches_a_waiting_producer_and_openers() {
    let _w = watchdog("shared verdict", LIMIT);
    let ring = RingGuard::new("verdict");
    let tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .producers(1)
        .consumers(1)
        .create_producer()
        .expect("create");
    let rx = Consumer::open(ring.name()).expect("open a consumer");
    verdict_is_shared!(&ring, tx, rx, (6 + 2 * 2) * 128, Consumer::open);
}

/// Every word of the identity and geometry lines forged with values at the edges of the
/// integer types: opening fails with an error or works, never a panic (these tests run
/// with overflow checks) or a hang.
#[test]
fn forged_header_words_give_errors_never_panics() {
    let _w = watchdog("forged header words", LIMIT);
    let ring = RingGuard::new("forged");
    drop(
        Builder::new(ring.name())
            .capacity(4)
            .slot_size(8)
            .stall_timeout(Duration::from_millis(5))
            .create_producer()
            .expect("create"),
    );
    forge_each_word(&ring, (0..256).step_by(8), &|| {
        if let Ok(mut tx) = Producer::open(ring.name()) {
            let _ = tx.try_send(b"forged");
            if let Ok(mut rx) = Consumer::open(ring.name()) {
                let _ = rx.try_recv_into(&mut Vec::new());
                let _ = rx.recv_timeout_into(&mut Vec::new(), Duration::from_millis(1));
            }
        }
        let _ = Consumer::open(ring.name()).map(drop);
    });
}

/// Positions near `u64::MAX`: laps and indices wrap.
#[test]
fn positions_crossing_u64_max_keep_order() {
    let q = HeapQueue::new(4, 8, 2, u64::MAX - 9);
    let mut tx = q.producer(WaitStrategy::Park).expect("producer");
    let mut rx = q.consumer(WaitStrategy::Park).expect("consumer");
    let mut buf = Vec::new();
    for seq in 0..40u64 {
        tx.send(&message(seq, 8)).expect("send");
        if seq % 4 == 3 {
            for back in seq - 3..=seq {
                rx.recv_into(&mut buf).expect("recv");
                check(back, 8, &buf);
            }
        }
    }
}

/// Four producer threads, four consumer threads: every message exactly once, in order
/// per producer.
#[test]
fn many_threads_deliver_every_message_exactly_once_in_order_per_producer() {
    let _w = watchdog("many_threads_deliver", LIMIT);
    let q = HeapQueue::new(64, 24, 8, u64::MAX - 1000);
    stream_and_check(&q, 4, 4, 20_000, WaitStrategy::default());
}

/// Two producers and two consumers, all busy-spinning (more threads than this machine's
/// CPUs, so that claims and takes are preempted half-way), through queues of two and four
/// cells: every message exactly once, in order per producer.
#[test]
fn busy_threads_through_tiny_queues_deliver_every_message_exactly_once() {
    let _w = watchdog("busy_threads_through_tiny_queues", LIMIT);
    for capacity in [2, 4] {
        let q = HeapQueue::new(capacity, 24, 2, u64::MAX - 100);
        stream_and_check(&q, 2, 2, 50_000, WaitStrategy::BusySpin);
    }
}

/// Streams `per_producer` messages from each of `producers` threads to `consumers`
/// threads through `q`, all waiting with `strategy`, and checks that every message
/// arrives exactly once, intact, and in order per producer.
fn stream_and_check(
    q: &HeapQueue,
    producers: u64,
    consumers: usize,
    per_producer: u64,
    strategy: WaitStrategy,
) {
    let senders: Vec<_> = (0..producers)
        .map(|p| {
            let mut tx = q.producer(strategy).expect("producer");
            std::thread::spawn(move || {
                for n in 0..per_producer {
                    let seq = p << 32 | n;
                    tx.send(&message(seq, 8 + (n % 17) as usize)).expect("send");
                }
            })
        })
        .collect();
    let receivers: Vec<_> = (0..consumers)
        .map(|_| {
            let mut rx = q.consumer(strategy).expect("consumer");
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut last: HashMap<u64, u64> = HashMap::new();
                let mut got = Vec::new();
                loop {
                    match rx.recv_into(&mut buf) {
                        Ok(_) => {}
                        Err(RecvError::Disconnected) => break,
                        Err(e) => panic!("receive: {e}"),
                    }
                    let seq = u64::from_le_bytes(buf[..8].try_into().expect("stamp"));
                    check(seq, 8 + ((seq & 0xffff_ffff) % 17) as usize, &buf);
                    let (p, n) = (seq >> 32, seq & 0xffff_ffff);
                    if let Some(&prev) = last.get(&p) {
                        assert!(n > prev, "producer {p}: {n} after {prev}");
                    }
                    last.insert(p, n);
                    got.push(seq);
                }
                got
            })
        })
        .collect();
    for p in senders {
        p.join().expect("producer");
    }
    let mut all: Vec<u64> = receivers
        .into_iter()
        .flat_map(|c| c.join().expect("consumer"))
        .collect();
    all.sort_unstable();
    let want: Vec<u64> = (0..producers)
        .flat_map(|p| (0..per_producer).map(move |n| p << 32 | n))
        .collect();
    assert_eq!(all.len(), want.len());
    assert!(all == want, "every message exactly once");
}

/// A consumer that takes over the role slot of one that died holding a message (here: in
/// one process, a forgotten grant and a dropped handle) delivers that message first.
#[test]
fn a_consumer_in_a_dead_consumers_slot_delivers_its_message_first() {
    let _w = watchdog("a_consumer_in_a_dead_consumers_slot", LIMIT);
    let ring = RingGuard::new("successor");
    let mut tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .consumers(1)
        .create_producer()
        .expect("create");
    let mut dead = Consumer::open(ring.name()).expect("the first consumer");
    tx.send(b"held").expect("send");
    tx.send(b"next").expect("send");
    std::mem::forget(dead.read().expect("read"));
    drop(dead);
    let mut rx = Consumer::open(ring.name()).expect("its successor, in the same slot");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(4));
    assert_eq!(buf, b"held");
    assert_eq!(rx.recv_into(&mut buf), Ok(4));
    assert_eq!(buf, b"next");
    let s = rx.stats();
    assert_eq!((s.sent, s.received, s.redelivered), (2, 2, 1));
}

/// A producer that died holding the claim of position `u64::MAX` is passed while another
/// producer is attached and idle: an idle handle's mark names no claim, whatever the
/// position.
#[test]
fn a_dead_claim_of_position_u64_max_is_passed_while_another_producer_idles() {
    let _w = watchdog("a_dead_claim_of_position_u64_max", LIMIT);
    let q = HeapQueue::new(4, 8, 2, u64::MAX - 1);
    let mut dead = q.producer(WaitStrategy::Park).expect("producer");
    let mut idle = q.producer(WaitStrategy::Park).expect("producer");
    let mut rx = q.consumer(WaitStrategy::Park).expect("consumer");
    dead.send(b"a").expect("send at u64::MAX - 1");
    std::mem::forget(dead.reserve(8).expect("claim u64::MAX"));
    drop(dead);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(1));
    let short = Duration::from_millis(20);
    assert_eq!(
        rx.recv_timeout_into(&mut buf, short),
        Err(RecvError::Timeout)
    );
    assert_eq!(
        rx.stats().skipped,
        1,
        "the dead claim is passed while `idle` idles"
    );
    idle.send(b"b").expect("send at 0");
    assert_eq!(rx.recv_timeout_into(&mut buf, short), Ok(1));
    assert_eq!(buf, b"b");
}

/// A mark a lap or more behind the head names no message, even where the cell it maps to
/// holds a message of the same (32-bit) lap: here the zero mark of a consumer slot never
/// held, `2^33` positions back in a queue of two cells, while a live consumer holds the
/// message in that cell. Another consumer must not deliver it again.
#[test]
fn a_mark_a_lap_behind_the_head_is_never_taken_for_a_held_message() {
    let _w = watchdog("a_mark_a_lap_behind_the_head", LIMIT);
    let q = HeapQueue::new(2, 8, 3, 1 << 33);
    let mut tx = q.producer(WaitStrategy::Park).expect("producer");
    let mut holder = q.consumer(WaitStrategy::Park).expect("consumer");
    let mut other = q.consumer(WaitStrategy::Park).expect("consumer");
    tx.send(b"once").expect("send");
    let held = holder.read().expect("read");
    let mut buf = Vec::new();
    assert_eq!(
        other.recv_timeout_into(&mut buf, Duration::from_millis(20)),
        Err(RecvError::Timeout)
    );
    assert_eq!(&*held, b"once");
    drop(held);
    assert_eq!(other.stats().redelivered, 0);
}

/// Blocking calls under a storm of signals (see the macro).
#[test]
fn signals_neither_break_nor_stretch_blocking_calls() {
    let _w = watchdog("signal storm", LIMIT);
    blocking_calls_under_signals!(|ring| pair(&ring, 4, 8));
}

/// The futex words of both wait lines wrap past `u32::MAX` while both sides park.
#[test]
fn futex_words_wrap_around() {
    let _w = watchdog("futex word wrap", LIMIT);
    futex_words_wrap!(|ring| pair(&ring, 2, 8), &[4 * 128, 5 * 128]);
}
