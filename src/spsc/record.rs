//! The record format of the SPSC data area.
//!
//! A record is an 8-byte header word followed by the payload, padded to 8 bytes. The header
//! word is the commit flag: the producer stores it last, with Release, and the consumer
//! polls it in place. It carries a stamp of the record's position (so a header can never
//! be mistaken for one of another lap), a VALID bit (so it is never zero), a PAD bit for
//! the filler record at the end of the area, and the payload length.
//!
//! ```text
//!  63            32 31  30  29           0
//! +----------------+---+---+--------------+
//! | (pos >> 3) u32 | V | P |    length    |
//! +----------------+---+---+--------------+
//! ```
//!
//! A zero word means "nothing committed here yet": before it publishes a record, the
//! producer clears the word right after it, where the next header will go, so stale
//! payload of an earlier lap can never pass for a header.

/// Version of this format, part of the layout hash.
pub(crate) const FORMAT: u64 = 1;

/// Bytes of a record header.
pub(crate) const HEADER: usize = 8;

const VALID: u64 = 1 << 31;
const PAD: u64 = 1 << 30;
const LEN_MASK: u64 = PAD - 1;

/// The largest payload length the format can carry.
pub(crate) const MAX_LEN: usize = LEN_MASK as usize;

/// Bytes that a record with `len` payload bytes occupies.
#[inline]
pub(crate) fn size(len: usize) -> usize {
    HEADER + ((len + 7) & !7)
}

#[inline]
fn stamp(pos: u64) -> u64 {
    (pos >> 3) << 32
}

/// Header of a message record at `pos`.
#[inline]
pub(crate) fn data(pos: u64, len: usize) -> u64 {
    debug_assert!(len <= MAX_LEN);
    stamp(pos) | VALID | len as u64
}

/// Header of a padding record at `pos` that fills `len` bytes after its header.
#[inline]
pub(crate) fn pad(pos: u64, len: usize) -> u64 {
    debug_assert!(len <= MAX_LEN);
    stamp(pos) | VALID | PAD | len as u64
}

/// The payload length if `w` is the header of a message record at `pos`: the fast
/// path's one comparison, equivalent to `decode(w, pos) == Header::Data(len)`.
#[inline(always)]
pub(crate) fn message_len(w: u64, pos: u64) -> Option<usize> {
    (w & !LEN_MASK == stamp(pos) | VALID).then_some((w & LEN_MASK) as usize)
}

/// What a header word read at position `pos` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// Nothing committed at this position yet.
    Empty,
    /// A message of this many bytes.
    Data(usize),
    /// Filler up to the end of the area, this many bytes after the header.
    Pad(usize),
    /// Neither zero nor a header of this position: the peer scribbled.
    Corrupt,
}

/// Decodes the header word `w` found at position `pos`.
#[inline]
pub(crate) fn decode(w: u64, pos: u64) -> Header {
    if w == 0 {
        return Header::Empty;
    }
    if w & !(VALID | PAD | LEN_MASK) != stamp(pos) || w & VALID == 0 {
        return Header::Corrupt;
    }
    let len = (w & LEN_MASK) as usize;
    if w & PAD != 0 {
        Header::Pad(len)
    } else {
        Header::Data(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_are_never_zero() {
        for pos in [0u64, 8, 4096, u64::MAX - 7, (u64::MAX - 7) & !7] {
            assert_ne!(data(pos, 0), 0);
            assert_eq!(decode(data(pos, 0), pos), Header::Data(0));
            assert_eq!(decode(data(pos, MAX_LEN), pos), Header::Data(MAX_LEN));
            assert_eq!(decode(pad(pos, 24), pos), Header::Pad(24));
        }
    }

    #[test]
    fn a_header_of_another_position_is_corrupt() {
        assert_eq!(decode(data(8, 5), 16), Header::Corrupt);
        assert_eq!(decode(data(0, 5), 1 << 20), Header::Corrupt);
        assert_eq!(decode(0xdead_beef_0000_0001, 0), Header::Corrupt);
        // The right stamp without the VALID bit is not a header either.
        assert_eq!(decode(data(64, 3) & !VALID, 64), Header::Corrupt);
        assert_eq!(decode(0, 123 << 3), Header::Empty);
    }

    #[test]
    fn the_fast_check_agrees_with_decode() {
        let pos = 4096;
        let words = [
            0,
            data(pos, 0),
            data(pos, 17),
            data(pos, MAX_LEN),
            pad(pos, 24),
            data(pos + 8, 5),
            data(pos, 5) & !VALID,
            u64::MAX,
        ];
        for w in words {
            let fast = message_len(w, pos);
            match decode(w, pos) {
                Header::Data(len) => assert_eq!(fast, Some(len), "{w:#x}"),
                _ => assert_eq!(fast, None, "{w:#x}"),
            }
        }
    }

    #[test]
    fn sizes_are_padded_to_eight() {
        assert_eq!(size(0), 8);
        assert_eq!(size(1), 16);
        assert_eq!(size(8), 16);
        assert_eq!(size(9), 24);
    }
}
