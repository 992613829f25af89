//! Room in a lossless topic: a publisher claims position `t` only once every live
//! subscriber's cursor is past `t - capacity`, the position whose cell `t` reuses.
//!
//! Each publisher keeps a private *limit*, the first position it may not claim yet, and
//! looks at the cursors again only when the tail reaches it (once a lap while the
//! subscribers keep up). The limit is the oldest cursor plus the capacity, counting the
//! tail itself as a cursor, so that a subscriber that joins while a publisher looks is
//! never overtaken (see [`Topic::join`]).
//!
//! Who is not waited for: a slot that is not attached (its holder left); a dead holder's
//! slot (asked of the kernel when the cursor blocks a publisher that waits), which is
//! *evicted*: its cursor is moved half the position space away (a compare-and-swap, so
//! counted once), where no publisher reads it as a cursor again; and with a `max_lag`, a
//! live subscriber that kept a publisher waiting that long, evicted the same way. A
//! subscriber publishes its cursor by compare-and-swap when evictions of live subscribers
//! are possible, and so learns that it was evicted.

use super::topic::{Join, Topic};
use crate::claims::{self, bump};
use crate::role::Role;
use crate::sync::{fence_seqcst, Ordering};

/// What a publisher learned from the cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Room {
    /// The first position that cannot be claimed yet.
    pub(crate) limit: u64,
    /// Messages between the oldest cursor and the tail.
    pub(crate) fill: u64,
}

/// Whether `c`, read from a subscriber slot while the tail was `t`, is a cursor: within a
/// quarter of the position space of the tail (an evicted cursor is half of it away).
#[inline]
pub(super) fn is_cursor(t: u64, c: u64) -> bool {
    t.wrapping_sub(c).wrapping_add(1 << 62) < 1 << 63
}

/// The value an evicted cursor `c` becomes.
#[inline]
fn evicted(c: u64) -> u64 {
    claims::idle(c)
}

impl Topic {
    /// Looks at the subscribers' cursors for a publisher that wants to claim `want`.
    /// `thorough` asks the kernel about the holders of the cursors that block `want`, and
    /// evicts the dead; `evict_live` evicts the live ones that block it too (`max_lag`).
    pub(crate) fn room(&self, want: u64, thorough: bool, evict_live: bool) -> Room {
        // SYNC(mark): Acquire, as every load of an index.
        let t = self.tail().load(Ordering::Acquire);
        // SYNC(cursor): pairs with the SeqCst fence of a joining subscriber (`join`):
        // either we see its slot and cursor below, or its look at the tail, after its
        // fence, sees `t` or later, and it reads nothing that `t + capacity` overwrites.
        fence_seqcst();
        let cap = self.geo.cells.capacity as u64;
        let slots = self.slots();
        let class = self.geo.class(Role::Consumer);
        let mut oldest = t;
        for slot in class.first..class.first + class.count {
            if !slots.alive(slot, false) {
                continue;
            }
            let mark = &slots.get(slot).counters.0.mark;
            // SYNC(cursor): Acquire pairs with the Release (or AcqRel) store of the cursor
            // by its subscriber: its reads of the cells before it happen before our
            // overwrites of them.
            let c = mark.load(Ordering::Acquire);
            if !is_cursor(t, c) {
                continue;
            }
            let blocks = !claims::past(c.wrapping_add(cap), want);
            if blocks && ((thorough && !slots.alive(slot, true)) || evict_live) {
                // AcqRel: a subscriber that fails its compare-and-swap against this knows
                // it was evicted. A cursor that moved on meanwhile is looked at next time.
                if mark
                    .compare_exchange(c, evicted(c), Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    bump(&self.own().evicted);
                    continue;
                }
            }
            if t.wrapping_sub(c) > t.wrapping_sub(oldest) && t.wrapping_sub(c) < 1 << 62 {
                oldest = c;
            }
        }
        Room {
            limit: oldest.wrapping_add(cap),
            fill: t.wrapping_sub(oldest),
        }
    }

    /// Publishes a subscriber's cursor `to` (it read everything before), replacing the
    /// value `from` it published last. With evictions of live subscribers possible, a
    /// compare-and-swap that fails when a publisher evicted us: returns `false` then.
    #[inline]
    pub(crate) fn publish_cursor(&self, from: u64, to: u64) -> bool {
        let mark = &self.own().mark;
        let published = if self.geo.max_lag.is_some() {
            // SYNC(cursor): AcqRel: the Release half as below; the Acquire half pairs with
            // a publisher's eviction.
            mark.compare_exchange(from, to, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        } else {
            // SYNC(cursor): Release pairs with the Acquire load in `room`: our reads of
            // the cells before `to` happen before any publisher overwrites them.
            mark.store(to, Ordering::Release);
            true
        };
        self.wake(Role::Producer);
        published
    }

    /// Whether a publisher evicted this subscriber, whose last published cursor is `c`.
    pub(crate) fn was_evicted(&self, c: u64) -> bool {
        // Acquire: pairs with the AcqRel of the eviction.
        self.own().mark.load(Ordering::Acquire) == evicted(c)
    }

    /// Joins again after an eviction: counted, and at the next message.
    pub(crate) fn rejoin(&self) -> (u64, u64) {
        bump(&self.own().evicted);
        self.join(Join::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_near_the_tail_count_and_evicted_ones_do_not() {
        for t in [0u64, 5, u64::MAX, 1 << 63] {
            for c in [
                t,
                t.wrapping_sub(1),
                t.wrapping_sub(1 << 20),
                t.wrapping_add(3),
            ] {
                assert!(is_cursor(t, c), "t {t} c {c}");
                assert!(!is_cursor(t, evicted(c)), "t {t} c {c}");
            }
        }
    }
}
