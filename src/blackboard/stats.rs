//! The counters of a blackboard, summed over its writer slots.

use super::board::Board;

/// Counters of a board, read from its shared header: sums over the writer slots, which
/// carry them on from one holder to the next. Readers take no slot and count nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Values set.
    pub sets: u64,
    /// Bytes of the values set.
    pub bytes: u64,
    /// Futex wake calls made by writers (for readers asleep in a wait for a change).
    pub wakeups: u64,
    /// How many entries the board has.
    pub entries: u64,
}

impl Stats {
    pub(crate) fn read(b: &Board) -> Stats {
        let slots = b.slots();
        let writers = b.writers();
        Stats {
            sets: slots.total(writers, |c| &c.sent),
            bytes: slots.total(writers, |c| &c.bytes),
            wakeups: slots.total(writers, |c| &c.wakeups),
            entries: b.geo.entries as u64,
        }
    }
}
