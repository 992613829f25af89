//! A writer scribbling over a live topic: the handles get errors (`Corrupted`, `Lagged`,
//! timeouts, refused commits), never a crash, a panic, an access out of bounds or a hang.

use crate::common::scribbler::{count, scribble_over, Counts};
use crate::common::{message, watchdog, RingGuard, XorShift};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes before the data area: 5 header lines, then 4 + 4 role slots of 2 lines.
const HEADER: u64 = (5 + 8 * 2) * 128;
const SLOTS: usize = 64;
const SLOT: usize = 40;

/// Publishers and subscribers work with deadlines on every call while a thread scribbles
/// over `target` (a range of the segment's bytes) for `run`.
fn round(target: &str, lossy: bool, run: Duration) {
    let ring = RingGuard::new("bc-hostile");
    // The creator's handle stays attached, so that subscribers do not see the topic
    // abandoned between two publishers.
    let first = Builder::new(ring.name())
        .capacity(SLOTS)
        .slot_size(SLOT)
        .publishers(4)
        .max_subscribers(4)
        .lossy(lossy)
        .max_lag(Duration::from_millis(20))
        .stall_timeout(Duration::from_millis(20))
        .create_publisher()
        .expect("create");
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
            let mut tx: Option<Publisher> = None;
            let mut rng = XorShift::new(7 + i);
            while Instant::now() < until {
                let Some(p) = tx.as_mut() else {
                    let r = Publisher::open(&name);
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
                    tx = None; // a new publisher attaches to the damaged topic
                }
            }
        }));
        let (name, counts) = (ring.name().to_owned(), tally.clone());
        threads.push(std::thread::spawn(move || {
            let tally = counts;
            let mut rng = XorShift::new(17 + i);
            let mut rx: Option<Subscriber> = None;
            let mut buf = Vec::new();
            while Instant::now() < until {
                let Some(s) = rx.as_mut() else {
                    let r = Builder::new(&name)
                        .from_oldest(rng.below(2) == 0)
                        .open_subscriber();
                    count(&tally, &r);
                    rx = r.ok();
                    continue;
                };
                let r = match rng.below(3) {
                    0 => s.recv_timeout_into(&mut buf, short),
                    1 => s.try_recv_into(&mut buf),
                    _ => s.read_timeout(short).map(|g| g.len()),
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
        "{target}, lossy {lossy}: {writes} scribbles; {:?}",
        tally.lock().unwrap().0
    );
}

#[test]
fn a_hostile_writer_over_a_live_topic_causes_no_crash_panic_or_hang() {
    let _w = watchdog("hostile writer over a topic", Duration::from_secs(60));
    for lossy in [false, true] {
        for target in ["cells", "header", "everywhere"] {
            round(target, lossy, Duration::from_millis(500));
        }
    }
}

/// Blocking calls without a deadline, on both sides, under fire: each comes back, in a
/// lossless topic without `max_lag` (publishers wait for the slowest subscriber as long as
/// it lives) and in a lossy one.
#[test]
fn blocking_calls_without_a_deadline_come_back_under_a_hostile_writer() {
    let _w = watchdog("deadline-less calls under fire", Duration::from_secs(240));
    let targets = [
        ("cells", HEADER..u64::MAX),
        ("tail and wait lines", 2 * 128..5 * 128),
        ("role slots", 5 * 128..HEADER),
    ];
    for lossy in [false, true] {
        for (target, range) in targets.clone() {
            println!("{target}, lossy {lossy}:");
            let ring = RingGuard::new("bc-fire");
            let b = Builder::new(ring.name())
                .capacity(SLOTS)
                .slot_size(SLOT)
                .publishers(4)
                .max_subscribers(4)
                .lossy(lossy);
            drop(b.create_subscriber().expect("create"));
            crate::common::scribbler::blocking_calls_under_fire!(
                &ring,
                range,
                SLOT,
                Duration::from_millis(500),
                20_000,
                Publisher::open,
                Subscriber::open
            );
        }
    }
}

/// A tail written more than a lap past the subscribers (a position no publisher will ever
/// claim again lies behind it): a waiting subscriber says `Corrupted` instead of waiting
/// for that position for good, and a publisher that waited for room behind its cursor is
/// told.
#[test]
fn a_tail_written_laps_ahead_ends_waits_on_both_sides() {
    use crate::common::{segment_word, set_segment_word};
    use ipcring::{RecvError, SendError};
    let _w = watchdog("a tail laps ahead", Duration::from_secs(60));
    let ring = RingGuard::new("bc-tail-ahead");
    let mut tx = Builder::new(ring.name())
        .capacity(4)
        .slot_size(8)
        .create_publisher()
        .expect("create");
    let mut rx = Subscriber::open(ring.name()).expect("subscribe");
    tx.send(b"one").expect("send");
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Ok(3));
    // The tail is the first word of header line 2.
    let tail = segment_word(&ring, 2 * 128);
    set_segment_word(&ring, 2 * 128, tail + 4 * 10);
    // The publisher waits for room: the subscriber's cursor is ten laps behind the tail.
    let publisher = std::thread::spawn(move || tx.send(b"two"));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!publisher.is_finished(), "the publisher waits for room");
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
    assert_eq!(
        publisher.join().expect("publisher"),
        Err(SendError::Corrupted)
    );
}
