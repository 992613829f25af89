//! Edges of the record format and of the API, in one process: a record that ends exactly
//! at the end of the area, padding records, the smallest ring, the largest message, empty
//! messages, positions that wrap across u64::MAX, grants and counters.

use crate::common::full::{copied, TryPair};
use crate::common::waits::{blocking_calls_under_signals, futex_words_wrap};
use crate::common::{
    check, check_lent, message, segment_word, set_segment_word, watchdog, RingGuard, XorShift,
};
use crate::process::{send_one, StreamReader};
use ipcring::spsc::{self, Builder, Consumer, Producer};
use ipcring::{OpenError, RecvError, Role, SendError, WaitStrategy};
use std::collections::VecDeque;
use std::time::Duration;

/// Outer limit of each test: a hang fails.
const LIMIT: Duration = Duration::from_secs(60);

/// Bytes before the data area of an SPSC segment: 5 header lines, 2 role slots of 2.
const HEADER: u64 = 9 * 128;

/// A record header word as the format defines it (`src/spsc/record.rs`): the position's
/// stamp, the VALID bit, the PAD bit, the length.
fn header_word(pos: u64, len: u64, pad: bool) -> u64 {
    ((pos >> 3) << 32) | (1 << 31) | (u64::from(pad) << 30) | len
}

/// The word at `off` of the data area of `ring`.
fn word_at(ring: &RingGuard, off: u64) -> u64 {
    segment_word(ring, HEADER + off)
}

fn pair(ring: &RingGuard, capacity: usize, start: u64) -> (Producer, Consumer) {
    let tx = Builder::new(ring.name())
        .capacity(capacity)
        .start_position(start)
        .create_producer()
        .expect("create the producer");
    let rx = Consumer::open(ring.name()).expect("open the consumer");
    (tx, rx)
}

/// Sends and receives filler messages until the producer's position is `to` (a multiple
/// of 8; records of at most 56 bytes). Returns the next sequence number.
fn advance(tx: &mut Producer, rx: &mut Consumer, mut pos: u64, to: u64, mut seq: u64) -> u64 {
    let mut buf = Vec::new();
    while pos < to {
        let size = (to - pos).min(56);
        tx.send(&message(seq, size as usize - 8)).expect("send");
        rx.recv_into(&mut buf).expect("recv");
        check(seq, size as usize - 8, &buf);
        pos += size;
        seq += 1;
    }
    seq
}

#[test]
fn a_record_ending_exactly_at_the_end_of_the_area_gets_no_padding() {
    let _w = watchdog(
        "a_record_ending_exactly_at_the_end_of_the_area_gets_no_padding",
        LIMIT,
    );
    let ring = RingGuard::new("exact-fit");
    let (mut tx, mut rx) = pair(&ring, 256, 0);
    let seq = advance(&mut tx, &mut rx, 0, 224, 0);
    // 8 + 24 bytes from 224: ends at 256, exactly the end of the area.
    tx.send(&message(seq, 24)).expect("send the exact fit");
    assert_eq!(word_at(&ring, 224), header_word(224, 24, false));
    // The next header word, at the start of the area, was cleared.
    assert_eq!(word_at(&ring, 0), 0);
    tx.send(&message(seq + 1, 16)).expect("send after the wrap");
    assert_eq!(word_at(&ring, 0), header_word(256, 16, false));
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv the exact fit");
    check(seq, 24, &buf);
    rx.recv_into(&mut buf).expect("recv after the wrap");
    check(seq + 1, 16, &buf);
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
}

#[test]
fn a_record_that_does_not_fit_before_the_end_goes_behind_a_padding_record() {
    let _w = watchdog(
        "a_record_that_does_not_fit_before_the_end_goes_behind_a_padding_record",
        LIMIT,
    );
    // From 240 a padding record with 8 bytes of filler; from 248 one of its header only.
    for (at, filler) in [(240, 8), (248, 0)] {
        let ring = RingGuard::new("padding");
        let (mut tx, mut rx) = pair(&ring, 256, 0);
        let seq = advance(&mut tx, &mut rx, 0, at, 0);
        tx.send(&message(seq, 16)).expect("send across the end");
        assert_eq!(word_at(&ring, at), header_word(at, filler, true));
        assert_eq!(word_at(&ring, 0), header_word(256, 16, false));
        let mut buf = Vec::new();
        rx.recv_into(&mut buf).expect("recv behind the padding");
        check(seq, 16, &buf);
        tx.send(&message(seq + 1, 0)).expect("send");
        rx.recv_into(&mut buf).expect("recv");
        check(seq + 1, 0, &buf);
    }
}

#[test]
fn a_grant_dropped_behind_a_padding_leaves_the_next_records_before_the_end() {
    let _w = watchdog(
        "a_grant_dropped_behind_a_padding_leaves_the_next_records_before_the_end",
        LIMIT,
    );
    let ring = RingGuard::new("dropped-pad");
    let (mut tx, mut rx) = pair(&ring, 256, 0);
    let seq = advance(&mut tx, &mut rx, 0, 232, 0);
    // A 40-byte record does not fit in the 24 bytes left: the grant lies behind a padding
    // record, and goes without a commit.
    drop(tx.reserve(32).expect("reserve across the end"));
    // What fits before the end still goes there, without padding (232 + 16); what does
    // not goes behind a padding record (the 8 bytes from 248), at the start of the area.
    tx.send(&message(seq, 8)).expect("send before the end");
    tx.send(&message(seq + 1, 16)).expect("send across the end");
    assert_eq!(word_at(&ring, 232), header_word(232, 8, false));
    assert_eq!(word_at(&ring, 248), header_word(248, 0, true));
    assert_eq!(word_at(&ring, 0), header_word(256, 16, false));
    let mut buf = Vec::new();
    for (i, len) in [8, 16].into_iter().enumerate() {
        rx.recv_into(&mut buf).expect("recv");
        check(seq + i as u64, len, &buf);
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
}

/// Sends bursts of random sizes (0..=max) until full and receives random parts of them,
/// checking every message; with `ring`, also checks each record header in the segment
/// against a model of where records go. Returns (exact fits, padding records) seen.
fn sweep(
    tx: &mut Producer,
    rx: &mut Consumer,
    ring: Option<&RingGuard>,
    start: u64,
    rounds: u32,
) -> (u32, u32) {
    let cap = tx.capacity() as u64;
    let max = tx.max_message() as u64;
    let mut rng = XorShift::new(start ^ cap);
    let (mut pos, mut sent, mut got) = (start, 0u64, 0u64);
    let (mut exact, mut pads) = (0, 0);
    let mut lens = VecDeque::new();
    let mut buf = Vec::new();
    for _ in 0..rounds {
        for _ in 0..=rng.below(8) {
            let len = rng.below(max + 1);
            match tx.try_send(&message(sent, len as usize)) {
                Ok(()) => {}
                Err(SendError::Full) => break,
                Err(e) => panic!("try_send: {e}"),
            }
            let size = 8 + ((len + 7) & !7);
            let off = pos % cap;
            if off + size > cap {
                if let Some(ring) = ring {
                    assert_eq!(word_at(ring, off), header_word(pos, cap - off - 8, true));
                }
                pads += 1;
                pos = pos.wrapping_add(cap - off);
            } else if off + size == cap {
                exact += 1;
            }
            if let Some(ring) = ring {
                assert_eq!(word_at(ring, pos % cap), header_word(pos, len, false));
            }
            pos = pos.wrapping_add(size);
            lens.push_back(len as usize);
            sent += 1;
        }
        let n = rng.below(lens.len() as u64 + 1);
        for _ in 0..n {
            rx.try_recv_into(&mut buf).expect("a committed message");
            check(got, lens.pop_front().expect("a sent message"), &buf);
            got += 1;
        }
    }
    while let Some(len) = lens.pop_front() {
        rx.try_recv_into(&mut buf).expect("a committed message");
        check(got, len, &buf);
        got += 1;
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    (exact, pads)
}

#[test]
fn every_offset_and_size_round_trips_with_positions_crossing_u64_max() {
    let _w = watchdog(
        "every_offset_and_size_round_trips_with_positions_crossing_u64_max",
        LIMIT,
    );
    for (capacity, start) in [
        (spsc::MIN_CAPACITY, u64::MAX - 2_000),
        (512, u64::MAX - 30_000),
    ] {
        let ring = RingGuard::new("sweep");
        let (mut tx, mut rx) = pair(&ring, capacity, start);
        let (exact, pads) = sweep(&mut tx, &mut rx, Some(&ring), start & !7, 5_000);
        assert!(
            exact > 0 && pads > 0,
            "{capacity}: {exact} exact fits, {pads} pads"
        );
    }
}

#[test]
fn a_heap_ring_round_trips_with_positions_crossing_u64_max() {
    let _w = watchdog(
        "a_heap_ring_round_trips_with_positions_crossing_u64_max",
        LIMIT,
    );
    for start in [u64::MAX - 64, u64::MAX - 7, 0] {
        let (mut tx, mut rx) = spsc::heap_pair(128, WaitStrategy::default(), start);
        let (exact, pads) = sweep(&mut tx, &mut rx, None, start & !7, 5_000);
        assert!(
            exact > 0 && pads > 0,
            "{start}: {exact} exact fits, {pads} pads"
        );
    }
}

#[test]
fn the_smallest_ring_carries_messages_of_exactly_its_maximum() {
    let _w = watchdog(
        "the_smallest_ring_carries_messages_of_exactly_its_maximum",
        LIMIT,
    );
    let ring = RingGuard::new("min");
    let (mut tx, mut rx) = pair(&ring, spsc::MIN_CAPACITY, 0);
    let max = spsc::max_message_for(spsc::MIN_CAPACITY);
    assert_eq!((tx.max_message(), rx.max_message(), max), (16, 16, 16));
    let mut buf = Vec::new();
    for seq in 0..100 {
        tx.send(&message(seq, max)).expect("send the maximum");
        rx.recv_into(&mut buf).expect("recv");
        check(seq, max, &buf);
    }
    let too_large = SendError::TooLarge { len: max + 1, max };
    assert_eq!(tx.try_send(&[0; 17]), Err(too_large));
    assert_eq!(tx.send(&[0; 17]), Err(too_large));
}

#[test]
fn messages_of_exactly_the_maximum_fill_a_large_ring() {
    let _w = watchdog("messages_of_exactly_the_maximum_fill_a_large_ring", LIMIT);
    let ring = RingGuard::new("max");
    let (mut tx, mut rx) = pair(&ring, 1 << 20, 0);
    let max = tx.max_message();
    assert_eq!(max, spsc::max_message_for(1 << 20));
    let mut g = tx.reserve(max).expect("reserve the maximum");
    g.copy_from_slice(&message(0, max));
    g.commit(max);
    tx.send(&message(1, max)).expect("send the maximum");
    tx.try_send(&message(2, max)).expect("a third fits");
    // Three maximal records and their headers leave less than a fourth needs.
    assert_eq!(tx.try_send(&message(3, max)), Err(SendError::Full));
    assert_eq!(
        tx.try_send(&vec![0; max + 1]),
        Err(SendError::TooLarge { len: max + 1, max })
    );
    for seq in 0..3 {
        check_lent(seq, max, &rx.read().expect("read"));
    }
    tx.try_send(&message(3, max)).expect("room again");
    check_lent(3, max, &rx.read().expect("read"));
}

#[test]
fn empty_messages_travel_through_every_path() {
    let _w = watchdog("empty_messages_travel_through_every_path", LIMIT);
    let ring = RingGuard::new("empty");
    let (mut tx, mut rx) = pair(&ring, spsc::MIN_CAPACITY, 0);
    tx.send(b"").expect("send");
    tx.try_send(b"").expect("try_send");
    tx.reserve(0).expect("reserve").commit(0);
    tx.reserve(8).expect("reserve").commit(0);
    assert_eq!(tx.try_send_batch([&b""[..], &b""[..]]), Ok(2));
    let mut buf = vec![1, 2, 3];
    for _ in 0..3 {
        assert_eq!(rx.recv_into(&mut buf), Ok(0));
        assert!(buf.is_empty());
    }
    assert!(rx.read().expect("read").is_empty());
    assert_eq!(rx.try_recv_into(&mut buf), Ok(0));
    assert!(rx.try_read().expect("try_read").is_empty());
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    assert_eq!(rx.stats().received, 6);
}

#[test]
fn a_dropped_write_grant_publishes_nothing_and_commit_may_shorten() {
    let _w = watchdog(
        "a_dropped_write_grant_publishes_nothing_and_commit_may_shorten",
        LIMIT,
    );
    let ring = RingGuard::new("grant");
    let (mut tx, mut rx) = pair(&ring, 4096, 0);
    // Written, then dropped at the end of the block without a commit.
    tx.reserve(100).expect("reserve").write_at(0, &[0xaa; 100]);
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    let mut g = tx.try_reserve(100).expect("try_reserve");
    assert_eq!(g.len(), 100);
    g.write_at(0, b"short");
    g.commit(5);
    tx.send(b"next").expect("send");
    assert_eq!(&*rx.read().expect("read"), b"short");
    assert_eq!(&*rx.read().expect("read"), b"next");
    assert_eq!(rx.stats().sent, 2);
}

#[test]
fn a_kept_read_grant_and_a_value_of_the_wrong_size_leave_the_message_in_the_ring() {
    let _w = watchdog(
        "a_kept_read_grant_and_a_value_of_the_wrong_size_leave_the_message_in_the_ring",
        LIMIT,
    );
    let ring = RingGuard::new("keep");
    let (mut tx, mut rx) = pair(&ring, 4096, 0);
    tx.send_value(&[1u32, 2, 3]).expect("send_value");
    tx.send_value(&0x0123_4567_89ab_cdefu64)
        .expect("send_value");
    rx.read().expect("read").keep();
    assert_eq!(
        rx.recv_value::<u64>(),
        Err(RecvError::WrongSize {
            found: 12,
            expected: 8
        })
    );
    assert_eq!(rx.recv_value::<[u32; 3]>(), Ok([1, 2, 3]));
    assert_eq!(rx.try_recv_value::<u64>(), Ok(0x0123_4567_89ab_cdef));
    assert_eq!(rx.try_recv_value::<u64>(), Err(RecvError::Empty));
}

#[test]
fn stats_count_sent_received_and_rejected_messages() {
    let _w = watchdog("stats_count_sent_received_and_rejected_messages", LIMIT);
    let ring = RingGuard::new("stats");
    let (mut tx, mut rx) = pair(&ring, 1024, 0);
    for seq in 0..3 {
        tx.send(&message(seq, 10)).expect("send");
    }
    assert_eq!(tx.try_send_batch([&b"a"[..], &b"b"[..]]), Ok(2));
    let mut fit = 0;
    while tx.try_send(&[0; 100]).is_ok() {
        fit += 1;
    }
    assert_eq!(tx.try_reserve(100).map(drop), Err(SendError::Full));
    let mut buf = Vec::new();
    for _ in 0..4 {
        rx.recv_into(&mut buf).expect("recv");
    }
    let stats = tx.stats();
    assert_eq!(stats, rx.stats());
    assert_eq!(
        (stats.sent, stats.received, stats.rejected, stats.capacity),
        (5 + fit, 4, 2, 1024)
    );
    // A new producer continues the counters.
    drop(tx);
    let tx = Producer::open(ring.name()).expect("reopen");
    assert_eq!(tx.stats().sent, 5 + fit);
}

#[test]
fn timeouts_expire_on_a_full_and_on_an_empty_ring_with_every_strategy() {
    let _w = watchdog("timeouts", LIMIT);
    let strategies = [
        WaitStrategy::BusySpin,
        WaitStrategy::Park,
        WaitStrategy::default(),
    ];
    for strategy in strategies {
        let ring = RingGuard::new("timeouts");
        let (mut tx, mut rx) = pair(&ring, 1024, 0);
        tx.set_wait_strategy(strategy);
        rx.set_wait_strategy(strategy);
        let mut buf = Vec::new();
        for wait in [Duration::ZERO, Duration::from_millis(30)] {
            assert_eq!(
                rx.recv_timeout_into(&mut buf, wait),
                Err(RecvError::Timeout)
            );
            assert_eq!(rx.read_timeout(wait).map(drop), Err(RecvError::Timeout));
        }
        while tx.try_send(&[3; 100]).is_ok() {}
        for wait in [Duration::ZERO, Duration::from_millis(30)] {
            assert_eq!(tx.send_timeout(&[4; 100], wait), Err(SendError::Timeout));
        }
        // Nothing of the timed-out sends got in.
        let mut n = 0;
        while rx.try_recv_into(&mut buf).is_ok() {
            assert_eq!(buf, [3; 100]);
            n += 1;
        }
        assert_eq!(rx.stats().sent, n);
    }
}

#[test]
fn a_side_waits_for_a_peer_that_has_not_attached_yet() {
    let _w = watchdog("no peer yet", LIMIT);
    let ring = RingGuard::new("no-peer");
    let mut rx = Consumer::create(ring.name(), 1024).expect("create the consumer");
    let mut buf = Vec::new();
    // No producer ever attached: empty, not disconnected.
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    assert_eq!(
        rx.recv_timeout_into(&mut buf, Duration::from_millis(30)),
        Err(RecvError::Timeout)
    );
    drop(rx);
    let ring = RingGuard::new("no-peer");
    let mut tx = Producer::create(ring.name(), 1024).expect("create the producer");
    while tx.try_send(&[5; 100]).is_ok() {}
    // No consumer ever attached: full, not disconnected.
    assert_eq!(
        tx.send_timeout(&[5; 100], Duration::from_millis(30)),
        Err(SendError::Timeout)
    );
}

#[test]
fn messages_committed_before_the_consumer_attached_survive_the_producer() {
    let _w = watchdog("late consumer", LIMIT);
    let ring = RingGuard::new("late-consumer");
    let mut tx = Producer::create(ring.name(), 4096).expect("create the producer");
    for seq in 0..10 {
        tx.send(&message(seq, 50)).expect("send");
    }
    drop(tx);
    let mut rx = Consumer::open(ring.name()).expect("open the consumer");
    let mut buf = Vec::new();
    for seq in 0..10 {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, 50, &buf);
    }
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}

#[test]
fn a_role_is_taken_by_another_handle_of_the_same_process_until_it_is_dropped() {
    let _w = watchdog("roles in one process", LIMIT);
    let ring = RingGuard::new("roles");
    let (tx, rx) = pair(&ring, 4096, 0);
    let taken = |r: Result<(), OpenError>, role| {
        assert!(
            matches!(r, Err(OpenError::RoleTaken { role: found, slots: 1 }) if found == role),
            "{r:?}"
        );
    };
    taken(Producer::open(ring.name()).map(drop), Role::Producer);
    taken(Consumer::open(ring.name()).map(drop), Role::Consumer);
    drop((tx, rx));
    // The role locks go with the descriptors. Another test of this binary that spawns a
    // child at the same moment holds a copy of them until the child's exec closes it, so a
    // role may stay taken for that instant: retry for a while.
    let again = |open: &dyn Fn() -> Result<(), OpenError>| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match open() {
                Err(OpenError::RoleTaken { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                r => return r,
            }
        }
    };
    again(&|| Producer::open(ring.name()).map(drop)).expect("producer role free again");
    again(&|| Consumer::open(ring.name()).map(drop)).expect("consumer role free again");
}

/// Messages whose records divide the area, so that a freed record is room for the next
/// one (a record that would cross the end of the area also needs the padding before it).
#[test]
fn full_means_full_and_a_drained_ring_takes_as_many_as_a_fresh_one() {
    let _w = watchdog("full means full", LIMIT);
    for len in [0, 8, 120] {
        let ring = RingGuard::new("full-means-full");
        let mut tx = Producer::create(ring.name(), 4096).expect("create");
        let mut rx = Consumer::open(ring.name()).expect("open");
        TryPair {
            send: |m: &[u8]| tx.try_send(m),
            recv: |b: &mut Vec<u8>| rx.try_recv_into(b),
        }
        .full_means_full(len);
    }
}

#[test]
fn full_means_full_for_reservations_and_batches() {
    let _w = watchdog("full means full, grants and batches", LIMIT);
    let ring = RingGuard::new("full-grants");
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    let mut rx = Consumer::open(ring.name()).expect("open");
    TryPair {
        send: |m: &[u8]| {
            let mut g = tx.try_reserve(m.len())?;
            g.copy_from_slice(m);
            g.commit(m.len());
            Ok(())
        },
        recv: |b: &mut Vec<u8>| Ok(copied(&*rx.try_read()?, b)),
    }
    .full_means_full(24);
    let ring = RingGuard::new("full-batches");
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    let mut rx = Consumer::open(ring.name()).expect("open");
    TryPair {
        send: |m: &[u8]| match tx.try_send_batch([m])? {
            1 => Ok(()),
            _ => Err(SendError::Full),
        },
        recv: |b: &mut Vec<u8>| rx.try_recv_into(b),
    }
    .full_means_full(56);
}

/// `read_batch` lends up to `max` messages in order, across padding records and wraps,
/// releases them together, and frees their room for exact `Full`.
#[test]
fn read_batch_lends_messages_in_order_across_wraps_and_releases_them_together() {
    let _w = watchdog("read_batch", LIMIT);
    let ring = RingGuard::new("read-batch");
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    let mut rx = Consumer::open(ring.name()).expect("open");
    let mut rng = XorShift::new(7);
    let (mut sent, mut got) = (0u64, 0u64);
    let mut lens = VecDeque::new();
    for round in 0..2000 {
        let burst = rng.next() % 40;
        for _ in 0..burst {
            let len = (rng.next() % 300) as usize;
            if tx.try_send(&message(sent, len)) == Err(SendError::Full) {
                break;
            }
            lens.push_back(len);
            sent += 1;
        }
        let max = 1 + (rng.next() % 20) as usize;
        let before = got;
        let r = rx.try_read_batch(max, |m| {
            let len = lens.pop_front().expect("a message was sent");
            check_lent(got, len, m);
            got += 1;
        });
        match r {
            Ok(n) => {
                assert_eq!(n as u64, got - before, "round {round}");
                assert!(n <= max && n >= 1);
                assert!(n == max || lens.is_empty(), "a batch takes what is there");
            }
            Err(RecvError::Empty) => assert!(lens.is_empty() && got == before),
            Err(e) => panic!("round {round}: {e:?}"),
        }
    }
    assert_eq!(rx.stats().received, got);
    // A full ring: one batch frees the room of what it took, exactly.
    while tx.try_send(&message(sent, 0)).is_ok() {
        sent += 1;
    }
    let pending = sent - got;
    let mut n = 0;
    assert_eq!(
        rx.try_read_batch(usize::MAX, |_| n += 1),
        Ok(pending as usize)
    );
    assert_eq!(n, pending);
    assert_eq!(rx.try_read_batch(4, |_| {}), Err(RecvError::Empty));
    assert_eq!(
        rx.try_read_batch(0, |_| {}),
        Err(RecvError::Empty),
        "max 0 is 1"
    );
    tx.send(b"one").expect("send");
    assert_eq!(rx.read_batch(0, |m| assert_eq!(m, b"one")), Ok(1));
    drop(tx);
    assert_eq!(rx.read_batch(8, |_| {}), Err(RecvError::Disconnected));
}

/// A consumer that found the ring corrupted says so on every later call, even once the
/// bad word was put right; its verdict is the ring's: no new consumer opens it, and the
/// producer is told at its first wait.
#[test]
fn a_consumer_that_found_the_ring_corrupted_stays_corrupted() {
    let _w = watchdog("poisoned consumer", LIMIT);
    let ring = RingGuard::new("poison-rx");
    let (mut tx, mut rx) = pair(&ring, 1024, 0);
    tx.send(&message(0, 8)).expect("send");
    let good = word_at(&ring, 0);
    // A length over the maximum (256 bytes for this ring).
    set_segment_word(&ring, HEADER, header_word(0, 1000, false));
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
    set_segment_word(&ring, HEADER, good);
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
    // Nor is an erased header `Empty` to it, whether or not a liveness check is due.
    set_segment_word(&ring, HEADER, 0);
    for _ in 0..3 {
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
    }
    set_segment_word(&ring, HEADER, good);
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
    assert!(matches!(rx.try_read(), Err(RecvError::Corrupted)));
    assert_eq!(rx.read_batch(4, |_| ()), Err(RecvError::Corrupted));
    drop(rx);
    assert!(matches!(
        Consumer::open(ring.name()),
        Err(OpenError::Broken)
    ));
    // The producer writes into the room it has (its fast path reads nothing of the
    // verdict), then waits, and is told.
    let mut sent = 0;
    let e = loop {
        match tx.send(&message(1, 8)) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(e, SendError::Corrupted, "after {sent} messages");
}

/// A producer that found the consumer's position corrupted says so on every later call,
/// even once the position was put right.
#[test]
fn a_producer_that_found_the_ring_corrupted_stays_corrupted() {
    let _w = watchdog("poisoned producer", LIMIT);
    let ring = RingGuard::new("poison-tx");
    let (mut tx, mut rx) = pair(&ring, 1024, 0);
    while tx.try_send(&[7; 100]).is_ok() {}
    // The consumer's published position, on the third header line: not a multiple of 8.
    let read = segment_word(&ring, 2 * 128);
    set_segment_word(&ring, 2 * 128, read + 3);
    assert_eq!(tx.try_send(&[7; 100]), Err(SendError::Corrupted));
    set_segment_word(&ring, 2 * 128, read);
    let mut buf = Vec::new();
    while rx.try_recv_into(&mut buf).is_ok() {}
    assert_eq!(tx.try_send(&[7; 100]), Err(SendError::Corrupted));
    assert_eq!(tx.send(b"x"), Err(SendError::Corrupted));
    assert!(matches!(tx.try_reserve(1), Err(SendError::Corrupted)));
}

/// Blocking calls under a storm of signals (see the macro).
#[test]
fn signals_neither_break_nor_stretch_blocking_calls() {
    let _w = watchdog("signal storm", LIMIT);
    blocking_calls_under_signals!(|ring| pair(&ring, 1024, 0));
}

/// A wait strategy that yields a thousand times, on a machine whose CPUs are all busy
/// (every yield may give a time slice away): a 10 ms deadline still ends the wait in
/// about that, not after the yields.
#[test]
fn a_deadline_ends_the_yields_of_a_wait_on_a_busy_machine() {
    let _w = watchdog("yields on a busy machine", LIMIT);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..std::thread::available_parallelism().map_or(2, |n| n.get()))
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let ring = RingGuard::new("yields");
    let (_tx, mut rx) = pair(&ring, 1024, 0);
    rx.set_wait_strategy(WaitStrategy::SpinThenPark {
        spins: 0,
        yields: 1000,
    });
    let mut buf = Vec::new();
    let wait = Duration::from_millis(10);
    let start = std::time::Instant::now();
    let r = rx.recv_timeout_into(&mut buf, wait);
    let took = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hogs {
        h.join().expect("hog");
    }
    assert_eq!(r, Err(RecvError::Timeout));
    // The deadline and a few time slices at most (the test thread competes with the hogs):
    // measured 12-14 ms. A deadline looked at only every 64 turns of the wait let 64
    // yields go by first: 160-220 ms.
    assert!(took < Duration::from_millis(80), "gave up after {took:?}");
}

/// The futex words of both wait lines wrap past `u32::MAX` while both sides park.
#[test]
fn futex_words_wrap_around() {
    let _w = watchdog("futex word wrap", LIMIT);
    futex_words_wrap!(|ring| pair(&ring, 64, 0), &[3 * 128, 4 * 128]);
}

/// A peer that scribbles the consumer's published and released positions back to older
/// values (valid ones: the producer's last look) while the consumer waits on an empty ring
/// must not leave the producer waiting for room forever: the waiting consumer puts its
/// positions back at its next thorough check.
#[test]
fn a_waiting_consumer_puts_back_positions_scribbled_back() {
    let _w = watchdog("positions scribbled back", LIMIT);
    let ring = RingGuard::new("put-back");
    let (mut tx, mut rx) = pair(&ring, 1024, 0);
    tx.set_wait_strategy(WaitStrategy::Park);
    rx.set_wait_strategy(WaitStrategy::Park);
    let mut sent = 0;
    // Full: the producer's last look at the consumer's positions saw 0.
    while tx.try_send(&message(sent, 24)).is_ok() {
        sent += 1;
    }
    let consumer = std::thread::spawn(move || {
        let mut buf = Vec::new();
        for seq in 0..=sent {
            rx.recv_into(&mut buf).expect("recv");
            check(seq, 24, &buf);
        }
    });
    // The consumer drains the ring and sleeps on it, empty; then its published position
    // (header line 2) and its released one (the `mark` of its slot's counters: slot 1,
    // second line, eighth word) are put back to 0.
    std::thread::sleep(Duration::from_millis(200));
    set_segment_word(&ring, 2 * 128, 0);
    set_segment_word(&ring, 5 * 128 + 256 + 128 + 7 * 8, 0);
    tx.send(&message(sent, 24))
        .expect("room, once the consumer put its positions back");
    consumer.join().expect("consumer");
}

/// Two threads stream mixed sizes through a heap ring by every send and receive path (the
/// in-process stress that ThreadSanitizer runs in CI, see `.ci/run`).
#[test]
fn a_heap_ring_streams_between_threads_through_every_path() {
    let _w = watchdog("heap ring between threads", LIMIT);
    const COUNT: u64 = 20_000;
    for strategy in [WaitStrategy::Park, WaitStrategy::default()] {
        let (mut tx, mut rx) = spsc::heap_pair(1 << 16, strategy, u64::MAX - 4096);
        let producer = std::thread::spawn(move || {
            let mut rng = XorShift::new(5);
            let mut seq = 0;
            while seq < COUNT {
                seq += send_one(&mut tx, &mut rng, seq, COUNT - seq, false).expect("send");
            }
        });
        let mut reader = StreamReader::new(0, false, 6);
        while reader.next < COUNT {
            reader.recv_one(&mut rx).expect("recv");
        }
        producer.join().expect("producer");
        assert_eq!(reader.recv_one(&mut rx), Err(RecvError::Disconnected));
    }
}

/// A peer that erases the header of a committed record stops the consumer there; the
/// producer then fills the ring behind it and waits for room, while the consumer waits for
/// a message. The consumer sees the contradiction (the producer waits for room that an
/// empty ring would have) and says `Corrupted`, and so does the waiting producer then.
#[test]
fn an_erased_header_with_a_producer_waiting_for_room_is_corrupted_not_a_deadlock() {
    let _w = watchdog("erased header", LIMIT);
    let ring = RingGuard::new("erased-header");
    let (mut tx, mut rx) = pair(&ring, 1024, 0);
    tx.set_wait_strategy(WaitStrategy::Park);
    rx.set_wait_strategy(WaitStrategy::Park);
    tx.send(&message(0, 24)).expect("send");
    // The header of message 0, at the start of the data area.
    set_segment_word(&ring, HEADER, 0);
    let producer = std::thread::spawn(move || {
        let mut seq = 1;
        loop {
            match tx.send(&message(seq, 24)) {
                Ok(()) => seq += 1,
                Err(e) => return (seq, e),
            }
        }
    });
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
    let (seq, e) = producer.join().expect("producer");
    assert_eq!(e, SendError::Corrupted, "after {seq} messages");
    drop(rx);
}
