//! The broadcast API in one process: every subscriber sees every message in order, sizes,
//! grants, values, joining, role slots, bad input and counters.

use crate::common::scribbler::{corrupted_stays, verdict_is_shared};
use crate::common::waits::{blocking_calls_under_signals, futex_words_wrap};
use crate::common::{check, erase_slot, forge_each_word, message, watchdog, RingGuard};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::{OpenError, RecvError, Role, SendError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn topic(ring: &RingGuard, capacity: usize, slot_size: usize) -> Publisher {
    Builder::new(ring.name())
        .capacity(capacity)
        .slot_size(slot_size)
        .create_publisher()
        .expect("create the topic")
}

#[test]
fn every_subscriber_receives_every_message_in_order_across_many_laps() {
    let _w = watchdog("every_subscriber_receives_every_message", LIMIT);
    let ring = RingGuard::new("order");
    let mut tx = topic(&ring, 8, 40);
    let mut subs: Vec<Subscriber> = (0..3)
        .map(|_| Subscriber::open(ring.name()).expect("subscribe"))
        .collect();
    let mut buf = Vec::new();
    for seq in 0..999u64 {
        let len = (seq % 33) as usize + 8;
        tx.send(&message(seq, len)).expect("send");
        if seq % 8 == 7 {
            for rx in &mut subs {
                for back in (seq - 7)..=seq {
                    assert_eq!(rx.recv_into(&mut buf), Ok((back % 33) as usize + 8));
                    check(back, (back % 33) as usize + 8, &buf);
                }
            }
        }
    }
    for rx in &mut subs {
        for back in 992..999 {
            assert_eq!(rx.recv_into(&mut buf), Ok((back % 33) as usize + 8));
        }
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    }
    let s = tx.stats();
    assert_eq!((s.published, s.received, s.missed), (999, 3 * 999, 0));
    assert_eq!(subs[0].own_stats().received, 999);
}

#[test]
fn a_full_lossless_topic_refuses_try_send_until_the_slowest_subscriber_reads() {
    let ring = RingGuard::new("full");
    let mut tx = topic(&ring, 4, 8);
    let mut fast = Subscriber::open(ring.name()).expect("subscribe");
    let mut slow = Subscriber::open(ring.name()).expect("subscribe");
    for v in 0..4u64 {
        tx.try_send_value(&v).expect("room");
    }
    for v in 0..4u64 {
        assert_eq!(fast.recv_value::<u64>(), Ok(v));
    }
    assert_eq!(tx.try_send_value(&4u64), Err(SendError::Full));
    assert_eq!(
        tx.send_timeout(b"x", Duration::from_millis(20)),
        Err(SendError::Timeout)
    );
    assert_eq!(slow.recv_value::<u64>(), Ok(0));
    tx.try_send_value(&4u64)
        .expect("one slot freed by the slowest");
    assert_eq!(tx.try_send_value(&5u64), Err(SendError::Full));
    for v in 1..5u64 {
        assert_eq!(slow.recv_value::<u64>(), Ok(v));
    }
    assert_eq!(fast.recv_value::<u64>(), Ok(4));
    let s = tx.stats();
    assert_eq!((s.published, s.rejected, s.high_water), (5, 2, 4));
}

#[test]
fn a_subscriber_that_leaves_no_longer_holds_the_publishers() {
    let ring = RingGuard::new("leave");
    let mut tx = topic(&ring, 2, 8);
    let slow = Subscriber::open(ring.name()).expect("subscribe");
    tx.send(b"a").expect("send");
    tx.send(b"b").expect("send");
    assert_eq!(tx.try_send(b"c"), Err(SendError::Full));
    drop(slow);
    tx.try_send(b"c").expect("nobody to wait for");
}

/// A publisher that erased its slot (generation and flag zeroed, as if never held) before
/// it left is gone to a subscriber that received its messages, not awaited forever.
#[test]
fn a_publisher_that_erases_its_slot_is_seen_gone() {
    let _w = watchdog("erased publisher slot", LIMIT);
    let ring = RingGuard::new("erased");
    let mut tx = topic(&ring, 4, 8);
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    tx.send(b"last").expect("send");
    drop(tx);
    // The first role slot, after the 5 header lines.
    erase_slot(&ring, 5 * 128);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(4));
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}

/// A subscriber that found a cell corrupted says so on every later call, even once the
/// cell was put right; a publisher likewise: one of two publisher slots meets the bad word
/// when it claims the cell, a lone publisher (which claims without a look at the cell)
/// the subscriber's verdict, at the start of the lap.
#[test]
fn handles_that_found_the_topic_corrupted_stay_corrupted() {
    let _w = watchdog("poisoned handles", LIMIT);
    for publishers in [1, 2] {
        let ring = RingGuard::new("poison");
        let tx = Builder::new(ring.name())
            .capacity(4)
            .slot_size(8)
            .publishers(publishers)
            .max_subscribers(1)
            .lossy(true)
            .create_publisher()
            .expect("create");
        let rx = Subscriber::open(ring.name()).expect("subscribe");
        // The first cell's state word, after 5 header lines and the role slots, 2 lines
        // each.
        corrupted_stays!(&ring, tx, rx, (5 + (publishers as u64 + 1) * 2) * 128);
    }
}

/// A subscriber's `Corrupted` is the topic's: a lossless publisher that waits for room
/// behind its cursor is told, and the topic is not opened again.
#[test]
fn a_subscribers_verdict_reaches_a_waiting_publisher_and_openers() {
    let _w = watchdog("shared verdict", LIMIT);
    let ring = RingGuard::new("verdict");
    let tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .publishers(1)
        .max_subscribers(1)
        .create_publisher()
        .expect("create");
    let rx = Subscriber::open(ring.name()).expect("subscribe");
    verdict_is_shared!(&ring, tx, rx, (5 + 2 * 2) * 128, Subscriber::open);
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
            .max_lag(Duration::from_millis(5))
            .stall_timeout(Duration::from_millis(5))
            .create_publisher()
            .expect("create"),
    );
    forge_each_word(&ring, (0..256).step_by(8), &|| {
        if let Ok(mut rx) = Subscriber::open(ring.name()) {
            if let Ok(mut tx) = Publisher::open(ring.name()) {
                let _ = tx.try_send(b"forged");
                let _ = tx.send_timeout(b"forged", Duration::from_millis(1));
            }
            let _ = rx.try_recv_into(&mut Vec::new());
            let _ = rx.recv_timeout_into(&mut Vec::new(), Duration::from_millis(1));
        }
        let _ = Publisher::open(ring.name()).map(drop);
    });
}

#[test]
fn a_lossless_topic_without_subscribers_never_fills() {
    let ring = RingGuard::new("void");
    let mut tx = topic(&ring, 2, 8);
    for v in 0..100u64 {
        tx.try_send_value(&v).expect("nobody to wait for");
    }
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    assert_eq!(rx.try_recv_value::<u64>(), Err(RecvError::Empty));
    tx.send_value(&100u64).expect("send");
    assert_eq!(rx.recv_value::<u64>(), Ok(100));
}

#[test]
fn a_subscriber_joins_at_the_next_message_or_at_the_oldest_held() {
    let ring = RingGuard::new("join");
    let mut tx = topic(&ring, 4, 8);
    tx.send_value(&0u64).expect("send");
    let mut early = Builder::new(ring.name())
        .from_oldest(true)
        .open_subscriber()
        .expect("subscribe");
    for v in 1..6u64 {
        tx.try_send_value(&v).ok();
    }
    // The early one holds the topic: 0..4 went in, 4 and 5 found it full.
    assert_eq!(early.recv_value::<u64>(), Ok(0));
    let mut next = Subscriber::open(ring.name()).expect("subscribe");
    let mut oldest = Builder::new(ring.name())
        .from_oldest(true)
        .open_subscriber()
        .expect("subscribe");
    // The oldest message held is 0 still: `oldest` holds the topic until it reads it.
    assert_eq!(tx.try_send_value(&6u64), Err(ipcring::SendError::Full));
    for v in 0..4u64 {
        assert_eq!(oldest.recv_value::<u64>(), Ok(v));
    }
    tx.send_value(&6u64).expect("room for one");
    assert_eq!(next.recv_value::<u64>(), Ok(6));
    assert_eq!(oldest.recv_value::<u64>(), Ok(6));
    for v in [1, 2, 3, 6] {
        assert_eq!(early.recv_value::<u64>(), Ok(v));
    }
}

#[test]
fn a_young_topic_joined_at_the_oldest_starts_at_its_first_message() {
    let ring = RingGuard::new("young");
    let mut tx = Builder::new(ring.name())
        .capacity(16)
        .slot_size(8)
        .start_position(u64::MAX - 3)
        .create_publisher()
        .expect("create");
    for v in 0..5u64 {
        tx.send_value(&v).expect("send");
    }
    let mut rx = Builder::new(ring.name())
        .from_oldest(true)
        .open_subscriber()
        .expect("subscribe");
    for v in 0..5u64 {
        assert_eq!(rx.recv_value::<u64>(), Ok(v));
    }
    assert_eq!(rx.try_recv_value::<u64>(), Err(RecvError::Empty));
}

#[test]
fn empty_and_full_size_messages_round_trip_and_larger_ones_are_refused() {
    let ring = RingGuard::new("sizes");
    let mut tx = topic(&ring, 4, 13);
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
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
}

#[test]
fn a_grant_commits_what_was_written_and_an_abandoned_one_is_passed() {
    let ring = RingGuard::new("grant");
    let mut tx = topic(&ring, 4, 16);
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    let mut g = tx.reserve(16).expect("reserve");
    assert_eq!(g.len(), 16);
    g.write_at(0, b"first");
    g.commit(5).expect("commit");
    drop(tx.reserve(16).expect("reserve"));
    tx.send(b"third").expect("send");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(5));
    assert_eq!(buf, b"first");
    assert_eq!(rx.recv_into(&mut buf), Ok(5));
    assert_eq!(buf, b"third");
}

#[test]
fn a_value_of_the_wrong_size_stays_in_the_topic() {
    let ring = RingGuard::new("value");
    let mut tx = topic(&ring, 4, 16);
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    tx.send_value(&7u32).expect("send");
    assert_eq!(
        rx.recv_value::<u64>(),
        Err(RecvError::WrongSize {
            found: 4,
            expected: 8
        })
    );
    assert_eq!(rx.recv_value::<u32>(), Ok(7));
}

#[test]
fn one_subscriber_more_than_max_subscribers_is_refused_by_name() {
    let ring = RingGuard::new("roles");
    let _tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .max_subscribers(2)
        .create_publisher()
        .expect("create");
    let _a = Subscriber::open(ring.name()).expect("first");
    let b = Subscriber::open(ring.name()).expect("second");
    match Subscriber::open(ring.name()) {
        Err(OpenError::RoleTaken {
            role: Role::Consumer,
            slots: 2,
        }) => {}
        other => panic!("a third subscriber: {other:?}"),
    }
    drop(b);
    Subscriber::open(ring.name()).expect("a slot freed");
}

#[test]
fn bad_geometry_and_another_kind_are_refused_with_their_own_errors() {
    let ring = RingGuard::new("bad");
    let create = |b: Builder| b.create_publisher().map(drop);
    for (b, what) in [
        (Builder::new(ring.name()).capacity(3), "capacity"),
        (Builder::new(ring.name()).slot_size(0), "slot_size"),
        (Builder::new(ring.name()).max_subscribers(0), "subscribers"),
        (Builder::new(ring.name()).max_subscribers(65), "subscribers"),
        (Builder::new(ring.name()).publishers(0), "publishers"),
    ] {
        match create(b) {
            Err(OpenError::InvalidGeometry { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
    }
    let _q = ipcring::mpmc::Producer::create(ring.name(), 4, 8).expect("an MPMC queue");
    match Subscriber::open(ring.name()) {
        Err(OpenError::KindMismatch {
            found: 2,
            expected: 3,
        }) => {}
        other => panic!("a subscriber on an MPMC queue: {other:?}"),
    }
}

#[test]
fn publishers_that_all_leave_disconnect_a_drained_subscriber() {
    let ring = RingGuard::new("disc");
    let mut tx = topic(&ring, 4, 8);
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    tx.send_value(&1u64).expect("send");
    drop(tx);
    assert_eq!(rx.recv_value::<u64>(), Ok(1));
    assert_eq!(rx.recv_value::<u64>(), Err(RecvError::Disconnected));
}

#[test]
fn read_lends_in_place_in_a_lossless_topic_and_a_checked_copy_in_a_lossy_one() {
    for lossy in [false, true] {
        let ring = RingGuard::new("read");
        let mut tx = Builder::new(ring.name())
            .capacity(4)
            .slot_size(16)
            .lossy(lossy)
            .create_publisher()
            .expect("create");
        let mut rx = Subscriber::open(ring.name()).expect("subscribe");
        let _other = Subscriber::open(ring.name()).expect("subscribe");
        assert_eq!(rx.try_read().map(|g| g.len()), Err(RecvError::Empty));
        tx.send(b"first").expect("send");
        tx.send(b"").expect("send");
        let g = rx.read().expect("read");
        assert_eq!(&*g, b"first");
        g.keep();
        {
            let g = rx.read().expect("read again what was kept");
            assert_eq!(&*g, b"first");
            if !lossy {
                // Lent in place: its slot is not reused while the grant lives.
                tx.try_send_value(&2u64).expect("room");
                tx.try_send_value(&3u64).expect("room");
                assert_eq!(tx.try_send(b"x"), Err(SendError::Full));
            }
        }
        assert_eq!(&*rx.read().expect("read"), b"");
        if !lossy {
            for v in [2u64, 3] {
                let g = rx.read_timeout(Duration::from_secs(5)).expect("read");
                assert_eq!(*g, v.to_le_bytes());
            }
        }
        assert_eq!(rx.try_read().map(|g| g.len()), Err(RecvError::Empty));
        assert_eq!(rx.own_stats().received, if lossy { 2 } else { 4 });
    }
}

/// Blocking calls under a storm of signals (see the macro).
#[test]
fn signals_neither_break_nor_stretch_blocking_calls() {
    let _w = watchdog("signal storm", LIMIT);
    blocking_calls_under_signals!(|ring| (
        topic(&ring, 4, 8),
        Subscriber::open(ring.name()).expect("subscribe")
    ));
}

/// The futex words of both wait lines wrap past `u32::MAX` while both sides park.
#[test]
fn futex_words_wrap_around() {
    let _w = watchdog("futex word wrap", LIMIT);
    futex_words_wrap!(
        |ring| (
            topic(&ring, 2, 8),
            Subscriber::open(ring.name()).expect("subscribe")
        ),
        &[3 * 128, 4 * 128]
    );
}
