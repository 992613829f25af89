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

/// The body of a test that handles of a kind of cells (MPMC, broadcast) that found a cell
/// corrupted say so on every later call, even once the cell was put right. `tx` and `rx`
/// are a producer and a consumer of a 4-cell ring `ring` of 8-byte slots, whose first
/// cell's state word is at `cell`.
#[allow(unused_macros)]
macro_rules! corrupted_stays {
    ($ring:expr, $tx:expr, $rx:expr, $cell:expr) => {{
        use crate::common::{segment_word, set_segment_word};
        use ipcring::{RecvError, SendError};
        let (ring, mut tx, mut rx, cell) = ($ring, $tx, $rx, $cell);
        tx.send(b"a").expect("send");
        let good = segment_word(ring, cell);
        set_segment_word(ring, cell, u64::MAX);
        let mut buf = Vec::new();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
        set_segment_word(ring, cell, good);
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
        assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
        // The producer meets the bad word a lap later.
        for m in [b"b", b"c", b"d"] {
            tx.send(m).expect("send");
        }
        set_segment_word(ring, cell, u64::MAX);
        assert_eq!(tx.try_send(b"e"), Err(SendError::Corrupted));
        set_segment_word(ring, cell, good);
        assert_eq!(tx.try_send(b"e"), Err(SendError::Corrupted));
    }};
}
#[allow(unused_imports)]
pub(crate) use corrupted_stays;
