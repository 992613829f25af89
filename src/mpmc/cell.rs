//! The state word of an MPMC cell: what happens to the cell, for which lap.
//!
//! Position `p` lives in cell `p & mask`, in lap `p >> log2(capacity)`. The first word of a
//! cell says which lap the cell is at and what happens to it in that lap:
//!
//! ```text
//!  63          32 31   29 28             0
//! +--------------+-------+----------------+
//! |  lap (u32)   |  tag  |     owner      |
//! +--------------+-------+----------------+
//! ```
//!
//! - `FREE`: position `lap` of the cell may be written by the producer that claims it (all
//!   zero: lap 0). Claimed (the tail moved past it) and still `FREE`: being written.
//! - `READY`: committed; the length is in the cell's second word. Taken (the head moved past
//!   it) and still `READY`: being read. Releasing it makes the cell `FREE` for the next lap.
//! - `ADOPTED(owner)`: a message whose first reader died, taken over by the consumer
//!   `owner` to deliver it again.
//! - `STALLED`: a live producer's claim that consumers gave up waiting for (the queue's
//!   stall timeout): they pass it, but the cell is quarantined until its producer comes back
//!   (its commit fails and frees the cell) or dies, so that a late write of the payload can
//!   never land in a cell that holds another message.

use crate::roles::Owner;

/// Version of this format, part of the layout hash.
pub(crate) const FORMAT: u64 = 2;

const TAG_SHIFT: u32 = Owner::BITS;
const OWNER_MASK: u64 = (1 << Owner::BITS) - 1;
const TAG_MASK: u64 = 0b111 << TAG_SHIFT;

const FREE: u64 = 0;
const READY: u64 = 2 << TAG_SHIFT;
const ADOPTED: u64 = 3 << TAG_SHIFT;
const STALLED: u64 = 4 << TAG_SHIFT;

/// The word of a cell free for its lap `lap`.
#[inline]
pub(crate) fn free(lap: u32) -> u64 {
    (lap as u64) << 32 | FREE
}

/// The word of a cell committed in lap `lap`.
#[inline]
pub(crate) fn ready(lap: u32) -> u64 {
    (lap as u64) << 32 | READY
}

/// The word of a message of lap `lap` taken over by the consumer `owner`.
#[inline]
pub(crate) fn adopted(lap: u32, owner: Owner) -> u64 {
    (lap as u64) << 32 | ADOPTED | owner.0 as u64
}

/// The word of a stalled producer's claim in lap `lap`.
#[inline]
pub(crate) fn stalled(lap: u32) -> u64 {
    (lap as u64) << 32 | STALLED
}

/// What happens to a cell in one lap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Free,
    Ready,
    Adopted(Owner),
    Stalled,
}

/// Where a cell is, seen from a position that maps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// At the position's own lap.
    Now(State),
    /// Still at the lap before: the cell holds the position one capacity earlier.
    Before(State),
    /// Past the position's lap: the position is over (consumed, skipped or abandoned).
    After,
    /// A word no ipcring writes: an unknown tag, or a lap that is neither of these.
    Corrupt,
}

/// Decodes the word `w` of the cell of a position in lap `lap`.
#[inline]
pub(crate) fn decode(w: u64, lap: u32) -> Seen {
    let owner = Owner((w & OWNER_MASK) as u32);
    let state = match (w & TAG_MASK, owner.0) {
        (FREE, 0) => State::Free,
        (READY, 0) => State::Ready,
        (ADOPTED, _) => State::Adopted(owner),
        (STALLED, 0) => State::Stalled,
        _ => return Seen::Corrupt,
    };
    let at = (w >> 32) as u32;
    if at == lap {
        Seen::Now(state)
    } else if at == lap.wrapping_sub(1) {
        Seen::Before(state)
    } else if at.wrapping_sub(lap) < 1 << 31 {
        Seen::After
    } else {
        Seen::Corrupt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_at_every_lap_distance() {
        let o = Owner(0x1234_5678 & OWNER_MASK as u32);
        for lap in [0u32, 1, 7, u32::MAX] {
            assert_eq!(decode(free(lap), lap), Seen::Now(State::Free));
            assert_eq!(decode(ready(lap), lap), Seen::Now(State::Ready));
            assert_eq!(decode(adopted(lap, o), lap), Seen::Now(State::Adopted(o)));
            assert_eq!(decode(stalled(lap), lap), Seen::Now(State::Stalled));
            let next = lap.wrapping_add(1);
            assert_eq!(decode(ready(lap), next), Seen::Before(State::Ready));
            assert_eq!(decode(free(next), lap), Seen::After);
            assert_eq!(decode(free(lap.wrapping_add(5)), lap), Seen::After);
            assert_eq!(decode(free(lap.wrapping_sub(2)), lap), Seen::Corrupt);
        }
    }

    #[test]
    fn unknown_tags_and_stray_owner_bits_are_corrupt() {
        for tag in [1, 5, 6, 7] {
            assert_eq!(decode(tag << TAG_SHIFT, 0), Seen::Corrupt);
        }
        assert_eq!(decode(FREE | 1, 0), Seen::Corrupt);
        assert_eq!(decode(READY | 9, 0), Seen::Corrupt);
        assert_eq!(decode(STALLED | 3, 0), Seen::Corrupt);
    }
}
