//! A writer scribbling over a live queue: the handles get errors (`Corrupted`, timeouts,
//! refused commits), never a crash, a panic, an access out of bounds or a hang.

use crate::common::{message, watchdog, RingGuard, Tally, XorShift};
use ipcring::mpmc::{Builder, Consumer, Producer};
use std::fmt::Debug;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Bytes before the data area: 6 header lines, then 4 + 4 role slots of 2 lines.
const HEADER: u64 = (6 + 8 * 2) * 128;
const SLOTS: u64 = 64;
const SLOT: usize = 40;
/// Bytes of a cell: state word, length word, payload padded to 8.
const CELL: u64 = 16 + 40;

/// Outcomes of calls, by variant name, from every thread.
type Counts = Arc<Mutex<Tally>>;

fn count<T, E: Debug>(counts: &Counts, r: &Result<T, E>) {
    counts.lock().unwrap().add(r);
}

/// Bytes that do damage: random, zeros, ones, or a plausible cell state word (a lap near
/// the queue's, any tag, any owner) or length word.
fn scribble(rng: &mut XorShift) -> Vec<u8> {
    match rng.below(5) {
        0 => (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect(),
        1 => vec![0; 8],
        2 => vec![0xff; 8],
        3 => {
            let lap = rng.below(64);
            let tag = rng.below(8);
            let owner = rng.below(1 << 29);
            (lap << 32 | tag << 29 | owner).to_le_bytes().to_vec()
        }
        _ => rng.below(2 * SLOT as u64).to_le_bytes().to_vec(),
    }
}

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
    let size = ring.path().metadata().expect("stat").len();
    let range = match target {
        "cells" => HEADER..size,
        "header" => 128..HEADER,
        _ => 0..size,
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
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    let mut rng = XorShift::new(99);
    let mut writes = 0u64;
    while Instant::now() < until {
        let bytes = scribble(&mut rng);
        let off = range.start + rng.below(range.end - range.start);
        let off = if bytes.len() == 8 { off & !7 } else { off };
        let end = (off + bytes.len() as u64).min(size);
        file.write_all_at(&bytes[..(end - off) as usize], off)
            .expect("scribble");
        writes += 1;
        std::thread::sleep(Duration::from_micros(100));
    }
    for t in threads {
        t.join().expect("no panic in a handle under fire");
    }
    drop(first);
    println!(
        "{target}: {writes} scribbles; {:?}",
        tally.lock().unwrap().0
    );
}

#[test]
fn a_hostile_writer_over_a_live_queue_causes_no_crash_panic_or_hang() {
    let _w = watchdog("hostile writer over a queue", Duration::from_secs(60));
    assert_eq!(CELL, 56);
    for target in ["cells", "header", "everywhere"] {
        round(target, Duration::from_millis(700));
    }
}
