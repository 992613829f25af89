//! The `waiting` hint of a wait line: a side that waits for the other says so there, with
//! the time, so that the other side may make way for it (see
//! `broadcast::Topic::make_way`). A hint, never a protocol: Relaxed loads and stores, and
//! taken only while fresh. A waiter stamps it again as it goes on waiting, and clears its
//! own stamp when it stops; one that dies waiting leaves a stamp that goes stale within
//! [`FRESH_MS`], so that nobody makes way for it for long.

use crate::layout::WaitLine;
use crate::sync::Ordering;

/// How long a stamp is fresh, in ms: longer than a parked waiter sleeps between two looks
/// (20 ms) and than the coarse clock's step (up to 4 ms).
const FRESH_MS: u32 = 50;

/// The milliseconds of the coarse clock, as a stamp (never 0, which says "nobody
/// waits"). Under loom, always 1: a model must replay the same values, and every stamp
/// is then fresh.
#[inline]
fn stamp() -> u32 {
    #[cfg(not(ipcring_loom))]
    let ms = (crate::time::coarse_ns() / 1_000_000) as u32;
    #[cfg(ipcring_loom)]
    let ms = 1;
    ms.max(1)
}

/// A waiter's stamp on its line, cleared when dropped if nobody stamped it since.
pub(crate) struct Waiting<'a> {
    line: &'a WaitLine,
    stamped: u32,
}

impl Waiting<'_> {
    /// Says that we wait, on `line`.
    pub(crate) fn start(line: &WaitLine) -> Waiting<'_> {
        let stamped = stamp();
        // Relaxed: a hint (see the module).
        line.waiting.store(stamped, Ordering::Relaxed);
        Waiting { line, stamped }
    }

    /// Says that we still wait: a new stamp, stored when the clock moved on.
    #[inline]
    pub(crate) fn still(&mut self) {
        let now = stamp();
        if now != self.stamped {
            // Relaxed: a hint.
            self.line.waiting.store(now, Ordering::Relaxed);
            self.stamped = now;
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Relaxed: a hint. Another waiter's later stamp stays.
        let _ = self.line.waiting.compare_exchange(
            self.stamped,
            0,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
}

/// Whether a waiter's stamp on `line` is fresh.
#[inline]
pub(crate) fn someone_waits(line: &WaitLine) -> bool {
    // Relaxed: a hint.
    let w = line.waiting.load(Ordering::Relaxed);
    w != 0 && stamp().wrapping_sub(w) <= FRESH_MS
}

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::{someone_waits, stamp, Waiting, FRESH_MS};
    use crate::layout::WaitLine;
    use crate::sync::Ordering;

    #[test]
    fn a_waiter_is_seen_while_it_waits_and_not_after() {
        let line = WaitLine::default();
        assert!(!someone_waits(&line));
        let mut w = Waiting::start(&line);
        assert!(someone_waits(&line));
        w.still();
        assert!(someone_waits(&line));
        drop(w);
        assert!(!someone_waits(&line));
    }

    /// A waiter that stops leaves the stamp of one that went on waiting after it.
    #[test]
    fn a_waiter_that_stops_leaves_a_later_stamp_alone() {
        let line = WaitLine::default();
        let first = Waiting::start(&line);
        // Another waiter's stamp, as the clock moved on.
        line.waiting.store(stamp() + 1, Ordering::Relaxed);
        drop(first);
        assert_ne!(line.waiting.load(Ordering::Relaxed), 0);
    }

    /// The stamp of a waiter that died waiting (never dropped) goes stale; so does one that
    /// an older build stored (1).
    #[test]
    fn a_stamp_left_behind_goes_stale() {
        let line = WaitLine::default();
        core::mem::forget(Waiting::start(&line));
        assert!(someone_waits(&line));
        std::thread::sleep(std::time::Duration::from_millis(u64::from(FRESH_MS) + 10));
        assert!(!someone_waits(&line));
        line.waiting.store(1, Ordering::Relaxed);
        assert!(!someone_waits(&line));
    }
}
