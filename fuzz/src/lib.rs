//! What the fuzz targets of ipcring share (`fuzz_targets/`): segment files made from bytes
//! and scribbled over, valid segments to seed the corpus with, every kind's handles behind
//! one interface, and the model of what a ring must deliver.
//!
//! Every call the targets make is non-blocking or has a short deadline, and is timed: a
//! call that returns later than its deadline plus [`SLACK`] is a crash (libFuzzer's own
//! `-timeout` catches a call that never returns).

#![deny(unsafe_code, missing_docs, missing_debug_implementations)]
#![warn(unreachable_pub)]

pub mod handles;
pub mod model;
pub mod seeds;
pub mod shm;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How much later than its deadline a call may return (a parked wait sleeps in 20 ms
/// slices; the rest is room for a loaded machine). A non-blocking call has a deadline of
/// zero.
pub const SLACK: Duration = Duration::from_secs(1);

/// The longest deadline the targets give a call.
pub const MAX_WAIT: Duration = Duration::from_millis(1);

/// A ring name that no other process and no other iteration uses:
/// `fuzz-<pid>-<tag>-<n>`, the object `/dev/shm/ipcring.fuzz-<pid>-<tag>-<n>`.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Relaxed: a counter; only its uniqueness matters.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("fuzz-{}-{tag}-{n}", std::process::id())
}

/// Runs `call`, which may wait at most `deadline`, and panics if it returned later than
/// that plus [`SLACK`].
pub fn timed<T>(what: &str, deadline: Duration, call: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = call();
    let took = start.elapsed();
    assert!(
        took <= deadline + SLACK,
        "{what} with a deadline of {deadline:?} returned after {took:?}"
    );
    out
}

/// The contents of message number `seq`, `len` bytes: distinct for every message of an
/// iteration, so that a message delivered twice, out of order or from the wrong place is
/// seen.
pub fn message(seq: u64, len: usize) -> Vec<u8> {
    let key = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len as u64)
        .map(|i| (key.wrapping_mul(i + 1) >> 56) as u8 ^ seq as u8)
        .collect()
}

/// A deadline of `units` of 4 µs, from zero to about [`MAX_WAIT`].
pub fn deadline(units: u8) -> Duration {
    (Duration::from_micros(4) * u32::from(units)).min(MAX_WAIT)
}
