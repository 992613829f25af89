//! The state word of an MPMC cell: what happens to the cell, for which lap, and the length
//! of the message it holds. A cell is this word and the payload.
//!
//! The word packs a lap, a tag and a length (see `cells.rs`). The tags:
//!
//! - `FREE`: position `lap` of the cell may be written by the producer that claims it (all
//!   zero: lap 0). Claimed (the tail moved past it) and still `FREE`: being written.
//! - `READY(length)`: committed. Taken (the head moved past it) and still `READY`: being
//!   read. Releasing it makes the cell `FREE` for the next lap. There are two `READY` tags:
//!   a consumer that takes over a dead reader's message flips from one to the other, so
//!   that of several that try at once, one compare-and-swap wins.
//! - `STALLED`: a live producer's claim that consumers gave up waiting for (the queue's
//!   stall timeout): they pass it, but the cell is quarantined until its producer comes back
//!   (its commit fails and frees the cell) or dies, so that a late write of the payload can
//!   never land in a cell that holds another message.

/// Version of this format, part of the layout hash.
pub(crate) const FORMAT: u64 = 3;

pub(crate) use crate::cells::len;
use crate::cells::{lap_of, word, LEN_MASK, TAG_MASK, TAG_SHIFT};

const FREE: u64 = 0;
const READY: u64 = 2 << TAG_SHIFT;
/// The other `READY` tag (see the module docs).
const READY_FLIPPED: u64 = 3 << TAG_SHIFT;
const STALLED: u64 = 4 << TAG_SHIFT;

/// The word of a cell free for its lap `lap`.
#[inline]
pub(crate) fn free(lap: u32) -> u64 {
    word(lap, FREE, 0)
}

/// The word of a message of `len` bytes committed in lap `lap` (`len` < 2^29).
#[inline]
pub(crate) fn ready(lap: u32, len: usize) -> u64 {
    word(lap, READY, len)
}

/// Whether `w` is a committed message of lap `lap` (under either tag).
#[inline]
pub(crate) fn is_ready(w: u64, lap: u32) -> bool {
    w & !(LEN_MASK | 1 << TAG_SHIFT) == ready(lap, 0)
}

/// The word of a committed message `w` taken over by a new reader: the same message under
/// the other `READY` tag.
#[inline]
pub(crate) fn flipped(w: u64) -> u64 {
    w ^ 1 << TAG_SHIFT
}

/// The word of a stalled producer's claim in lap `lap`.
#[inline]
pub(crate) fn stalled(lap: u32) -> u64 {
    word(lap, STALLED, 0)
}

/// What happens to a cell in one lap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Free,
    Ready,
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
    let state = match (w & TAG_MASK, len(w)) {
        (FREE, 0) => State::Free,
        (READY | READY_FLIPPED, _) => State::Ready,
        (STALLED, 0) => State::Stalled,
        _ => return Seen::Corrupt,
    };
    let at = lap_of(w);
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
        for lap in [0u32, 1, 7, u32::MAX] {
            let r = ready(lap, LEN_MASK as usize);
            assert_eq!(decode(free(lap), lap), Seen::Now(State::Free));
            assert_eq!(decode(r, lap), Seen::Now(State::Ready));
            assert_eq!(decode(flipped(r), lap), Seen::Now(State::Ready));
            assert_eq!(flipped(flipped(r)), r);
            assert!(is_ready(r, lap) && is_ready(flipped(r), lap));
            assert!(!is_ready(r, lap.wrapping_add(1)) && !is_ready(free(lap), lap));
            assert_eq!(len(flipped(r)), LEN_MASK);
            assert_eq!(decode(stalled(lap), lap), Seen::Now(State::Stalled));
            let next = lap.wrapping_add(1);
            assert_eq!(decode(ready(lap, 3), next), Seen::Before(State::Ready));
            assert_eq!(decode(free(next), lap), Seen::After);
            assert_eq!(decode(free(lap.wrapping_add(5)), lap), Seen::After);
            assert_eq!(decode(free(lap.wrapping_sub(2)), lap), Seen::Corrupt);
        }
    }

    #[test]
    fn unknown_tags_and_stray_length_bits_are_corrupt() {
        for tag in [1, 5, 6, 7] {
            assert_eq!(decode(tag << TAG_SHIFT, 0), Seen::Corrupt);
        }
        assert_eq!(decode(FREE | 1, 0), Seen::Corrupt);
        assert_eq!(decode(STALLED | 3, 0), Seen::Corrupt);
    }
}
