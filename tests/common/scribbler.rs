//! A writer that scribbles over a live ring's segment while the handles of a test work on
//! it: the bytes that do damage, and the outcomes of the handles' calls.

use super::{RingGuard, Tally, XorShift};
use std::fmt::Debug;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Outcomes of calls, by variant name, from every thread.
pub type Counts = Arc<Mutex<Tally>>;

pub fn count<T, E: Debug>(counts: &Counts, r: &Result<T, E>) {
    counts.lock().unwrap().add(r);
}

/// Bytes that do damage: random, zeros, ones, a plausible cell state word (a lap near the
/// ring's, any tag, any length) or a length up to twice `slot`.
fn scribble(rng: &mut XorShift, slot: usize) -> Vec<u8> {
    match rng.below(5) {
        0 => (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect(),
        1 => vec![0; 8],
        2 => vec![0xff; 8],
        3 => {
            let lap = rng.below(64);
            let tag = rng.below(8);
            let len = rng.below(1 << 29);
            (lap << 32 | tag << 29 | len).to_le_bytes().to_vec()
        }
        _ => rng.below(2 * slot as u64).to_le_bytes().to_vec(),
    }
}

/// Scribbles over the bytes `range` of `ring`'s segment (a range of the segment: its
/// whole size if it reaches past it) until `until`, then joins `threads` (which must end
/// by then: a panic in one fails the test). Returns the number of writes.
pub fn scribble_over(
    ring: &RingGuard,
    range: Range<u64>,
    slot: usize,
    until: Instant,
    threads: Vec<JoinHandle<()>>,
) -> u64 {
    let size = ring.path().metadata().expect("stat").len();
    let range = range.start..range.end.min(size);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    let mut rng = XorShift::new(99);
    let mut writes = 0u64;
    while Instant::now() < until {
        let bytes = scribble(&mut rng, slot);
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
    writes
}
