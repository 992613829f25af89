//! The state word of a broadcast cell: which position the cell holds (its lap), what
//! became of it, and the length of its message. The word packs a lap, a tag and a length
//! (see `cells.rs`); the tags:
//!
//! - `WRITING`: the publisher that claimed the position writes the payload.
//! - `READY(length)`: committed; every subscriber reads it, until a publisher claims the
//!   position a lap later and overwrites the cell.
//! - `SKIPPED`: the position holds no message (its publisher died before it committed,
//!   or aborted). A fresh topic's cells are `SKIPPED` for the lap before the first.
//! - `STALLED`: a live publisher's claim that subscribers gave up waiting for (the
//!   topic's stall timeout): they pass it as holding no message, but the cell stays its
//!   publisher's until it comes back (its commit fails and frees the cell) or dies, so that
//!   a late write of the payload can never land in a cell that holds another message.
//!
//! Subscribers never write a cell's payload and write its word only to skip an abandoned
//! claim: a cell is only ever written by the publisher that claimed its position.

pub(crate) use crate::cells::len;
use crate::cells::{lap_of, word, TAG_MASK};

/// Version of this format, part of the layout hash.
pub(crate) const FORMAT: u64 = 2;

const WRITING: u64 = 1 << crate::cells::TAG_SHIFT;
const READY: u64 = 2 << crate::cells::TAG_SHIFT;
const SKIPPED: u64 = 3 << crate::cells::TAG_SHIFT;
const STALLED: u64 = 4 << crate::cells::TAG_SHIFT;

/// The word of a cell whose publisher writes position lap `lap`.
#[inline]
pub(crate) fn writing(lap: u32) -> u64 {
    word(lap, WRITING, 0)
}

/// The word of a message of `len` bytes committed in lap `lap` (`len` < 2^29).
#[inline]
pub(crate) fn ready(lap: u32, len: usize) -> u64 {
    word(lap, READY, len)
}

/// The word of a position of lap `lap` that holds no message.
#[inline]
pub(crate) fn skipped(lap: u32) -> u64 {
    word(lap, SKIPPED, 0)
}

/// The word of a stalled publisher's claim of lap `lap`.
#[inline]
pub(crate) fn stalled(lap: u32) -> u64 {
    word(lap, STALLED, 0)
}

/// The length of the message if `w` is the word of a message committed in lap `lap`:
/// the fast path's one comparison, equivalent to `decode(w, lap) == Seen::Now(Ready)`.
#[inline(always)]
pub(crate) fn ready_len(w: u64, lap: u32) -> Option<usize> {
    (w & !crate::cells::LEN_MASK == ready(lap, 0)).then_some(len(w) as usize)
}

/// What became of a cell's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Writing,
    Ready,
    Skipped,
    Stalled,
}

/// Where a cell is, seen from a position that maps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// At the position's own lap.
    Now(State),
    /// The cell holds the position a lap before.
    Before(State),
    /// The cell holds the position two laps before, finished: the position a lap before
    /// is claimed and its publisher has not yet marked the cell `WRITING`.
    TwoBefore,
    /// Past the position's lap: a later position overwrote it.
    After,
    /// A word no ipcring writes: an unknown tag, stray length bits, an impossible lap.
    Corrupt,
}

/// Decodes the word `w` of the cell of a position in lap `lap`.
#[inline]
pub(crate) fn decode(w: u64, lap: u32) -> Seen {
    let state = match (w & TAG_MASK, len(w)) {
        (WRITING, 0) => State::Writing,
        (READY, _) => State::Ready,
        (SKIPPED, 0) => State::Skipped,
        (STALLED, 0) => State::Stalled,
        _ => return Seen::Corrupt,
    };
    match lap.wrapping_sub(lap_of(w)) {
        0 => Seen::Now(state),
        1 => Seen::Before(state),
        2 if matches!(state, State::Ready | State::Skipped) => Seen::TwoBefore,
        d if d >= 1 << 31 => Seen::After,
        _ => Seen::Corrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::{LEN_MASK, TAG_SHIFT};

    #[test]
    fn words_round_trip_at_every_lap_distance() {
        for lap in [0u32, 1, 7, u32::MAX] {
            let r = ready(lap, LEN_MASK as usize);
            assert_eq!(decode(r, lap), Seen::Now(State::Ready));
            assert_eq!(len(r), LEN_MASK);
            assert_eq!(decode(writing(lap), lap), Seen::Now(State::Writing));
            assert_eq!(decode(skipped(lap), lap), Seen::Now(State::Skipped));
            let next = lap.wrapping_add(1);
            let after = lap.wrapping_add(2);
            assert_eq!(decode(ready(lap, 3), next), Seen::Before(State::Ready));
            assert_eq!(decode(writing(lap), next), Seen::Before(State::Writing));
            assert_eq!(decode(skipped(lap), after), Seen::TwoBefore);
            assert_eq!(decode(ready(lap, 1), after), Seen::TwoBefore);
            assert_eq!(decode(writing(lap), after), Seen::Corrupt);
            assert_eq!(decode(stalled(lap), lap), Seen::Now(State::Stalled));
            assert_eq!(decode(stalled(lap), next), Seen::Before(State::Stalled));
            assert_eq!(decode(stalled(lap), after), Seen::Corrupt);
            assert_eq!(decode(ready(next, 0), lap), Seen::After);
            assert_eq!(decode(skipped(lap.wrapping_add(1000)), lap), Seen::After);
            assert_eq!(decode(skipped(lap.wrapping_sub(3)), lap), Seen::Corrupt);
        }
    }

    #[test]
    fn the_fast_check_agrees_with_decode() {
        for lap in [0u32, 1, u32::MAX] {
            let words = [
                ready(lap, 0),
                ready(lap, 8),
                ready(lap, LEN_MASK as usize),
                ready(lap.wrapping_add(1), 8),
                ready(lap.wrapping_sub(1), 8),
                writing(lap),
                skipped(lap),
                stalled(lap),
                0,
                u64::MAX,
            ];
            for w in words {
                match decode(w, lap) {
                    Seen::Now(State::Ready) => assert_eq!(ready_len(w, lap), Some(len(w) as usize)),
                    _ => assert_eq!(ready_len(w, lap), None, "{w:#x}"),
                }
            }
        }
    }

    #[test]
    fn unknown_tags_and_stray_length_bits_are_corrupt() {
        for tag in [0, 5, 6, 7] {
            assert_eq!(decode(tag << TAG_SHIFT, 0), Seen::Corrupt);
        }
        assert_eq!(decode(writing(0) | 1, 0), Seen::Corrupt);
        assert_eq!(decode(skipped(0) | 3, 0), Seen::Corrupt);
        assert_eq!(decode(stalled(0) | 1, 0), Seen::Corrupt);
    }
}
