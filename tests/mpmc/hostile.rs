//! A writer scribbling over a live queue: the handles get errors (`Corrupted`, timeouts,
//! refused commits), never a crash, a panic, an access out of bounds or a hang.

use crate::common::scribbler::{count, scribble_over, Counts};
use crate::common::{message, watchdog, RingGuard, XorShift};
use ipcring::mpmc::{Builder, Consumer, Producer};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes before the data area: 6 header lines, then 4 + 4 role slots of 2 lines.
const HEADER: u64 = (6 + 8 * 2) * 128;
const SLOTS: u64 = 64;
const SLOT: usize = 40;

/// Producers and consumers work with deadlines on every call while a thread scribbles
/// over `target` (a range of the segment's bytes) for `run`.
fn round(target: &str, run: Duration) {
    let ring = RingGuard::new("mpmc-hostile");
    let b = || {
        Builder::new(ring.name())
            .capacity(SLOTS as usize)
            .slot_size(SLOT)
            .producers(4)
            .consumers(4)
    };
    // The creator's handle stays attached, so that consumers do not see the queue
    // abandoned between two producers.
    let first = b().create_producer().expect("create");
    let range = match target {
        "cells" => HEADER..u64::MAX,
        "header" => 128..HEADER,
        _ => 0..u64::MAX,
    };
    let tally: Counts = Arc::default();
    let until = Instant::now() + run;
    let short = Duration::from_millis(10);
    let mut threads = Vec::new();
    for i in 0..2u64 {
        let (name, counts) = (ring.name().to_owned(), tally.clone());
        threads.push(std::thread::spawn(move || {
            let tally = counts;
            let mut tx: Option<Producer> = None;
            let mut rng = XorShift::new(7 + i);
            while Instant::now() < until {
                let Some(p) = tx.as_mut() else {
                    let r = Producer::open(&name);
                    count(&tally, &r);
                    tx = r.ok();
                    continue;
                };
                let msg = message(rng.next(), rng.below(SLOT as u64 + 2) as usize);
                let r = match rng.below(3) {
                    0 => p.send_timeout(&msg, short),
                    1 => p.try_send(&msg),
                    _ => p.try_reserve(8).and_then(|g| g.commit(8)),
                };
                count(&tally, &r);
                if r.is_err() && rng.below(8) == 0 {
                    tx = None; // a new producer attaches to the damaged queue
                }
            }
        }));
        let (name, counts) = (ring.name().to_owned(), tally.clone());
        threads.push(std::thread::spawn(move || {
            let tally = counts;
            let mut rng = XorShift::new(17 + i);
            let mut rx: Option<Consumer> = None;
            let mut buf = Vec::new();
            while Instant::now() < until {
                let Some(c) = rx.as_mut() else {
                    let r = Consumer::open(&name);
                    count(&tally, &r);
                    rx = r.ok();
                    continue;
                };
                let r = match rng.below(3) {
                    0 => c.recv_timeout_into(&mut buf, short),
                    1 => c.try_recv_into(&mut buf),
                    _ => c.read_timeout(short).map(|g| g.len()),
                };
                count(&tally, &r);
                if r.is_err() && rng.below(8) == 0 {
                    rx = None;
                }
            }
        }));
    }
    let writes = scribble_over(&ring, range, SLOT, until, threads);
    drop(first);
    println!(
        "{target}: {writes} scribbles; {:?}",
        tally.lock().unwrap().0
    );
}

#[test]
fn a_hostile_writer_over_a_live_queue_causes_no_crash_panic_or_hang() {
    let _w = watchdog("hostile writer over a queue", Duration::from_secs(60));
    for target in ["cells", "header", "everywhere"] {
        round(target, Duration::from_millis(700));
    }
}

/// Blocking calls without a deadline, on both sides, under fire: each comes back.
#[test]
fn blocking_calls_without_a_deadline_come_back_under_a_hostile_writer() {
    let _w = watchdog("deadline-less calls under fire", Duration::from_secs(120));
    let targets = [
        ("cells", HEADER..u64::MAX),
        ("indexes and wait lines", 2 * 128..6 * 128),
        ("role slots", 6 * 128..HEADER),
    ];
    for (target, range) in targets {
        println!("{target}:");
        let ring = RingGuard::new("mpmc-fire");
        let b = Builder::new(ring.name())
            .capacity(SLOTS as usize)
            .slot_size(SLOT)
            .producers(4)
            .consumers(4);
        drop(b.create_consumer().expect("create"));
        crate::common::scribbler::blocking_calls_under_fire!(
            &ring,
            range,
            SLOT,
            Duration::from_millis(500),
            20_000,
            Producer::open,
            Consumer::open
        );
    }
}

/// A tail written more than a lap past the head (positions no producer will ever claim
/// again lie behind it): a waiting consumer says `Corrupted` instead of waiting for the
/// head's message for good, and so does a producer.
#[test]
fn a_tail_written_laps_ahead_ends_waits_on_both_sides() {
    use crate::common::{segment_word, set_segment_word};
    use ipcring::{RecvError, SendError};
    let _w = watchdog("a tail laps ahead", Duration::from_secs(60));
    let ring = RingGuard::new("mpmc-tail-ahead");
    let mut tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .create_producer()
        .expect("create");
    let mut rx = Consumer::open(ring.name()).expect("consume");
    tx.send(b"one").expect("send");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(3));
    // The tail is the first word of header line 2.
    let tail = segment_word(&ring, 2 * 128);
    set_segment_word(&ring, 2 * 128, tail + 4 * 10);
    let consumer = std::thread::spawn(move || rx.recv_into(&mut buf));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(tx.send(b"two"), Err(SendError::Corrupted));
    assert_eq!(
        consumer.join().expect("consumer"),
        Err(RecvError::Corrupted)
    );
}
