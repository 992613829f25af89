//! Self-checking values: each one carries its stamp (the writer, the entry and the
//! writer's count of sets of that entry) in its first 8 bytes, and the rest of its bytes
//! and its length are derived from the stamp, so that a copy mixing two writes is
//! detected.

use crate::common::{check, message, mix};
use ipcring::blackboard::Builder;

/// Entries of variable length.
pub const VAR_ENTRIES: usize = 4;
/// Largest value of those entries.
pub const MAX: usize = 4096;
/// The index of the typed entry (a [`Typed`]), after the variable ones.
pub const TYPED: usize = VAR_ENTRIES;
/// Every entry of the board.
pub const ENTRIES: usize = VAR_ENTRIES + 1;

/// The value of the typed entry: four words derived from the stamp.
pub type Typed = [u64; 4];

/// The board of the process tests: [`VAR_ENTRIES`] entries of up to [`MAX`] bytes, then
/// the typed one (key `typed`), with `writers` writer slots.
pub fn board(name: &str, writers: usize) -> Builder {
    Builder::new(name)
        .entries(VAR_ENTRIES, MAX)
        .value::<Typed>("typed")
        .writers(writers)
}

/// The stamp of writer `writer`'s `n`-th set of entry `key`.
pub fn stamp(writer: u64, key: usize, n: u64) -> u64 {
    assert!(writer < 1 << 16 && n < 1 << 32);
    writer << 48 | (key as u64) << 32 | n
}

/// The parts of a stamp: writer, entry, count.
pub fn parts(stamp: u64) -> (u64, usize, u64) {
    (
        stamp >> 48,
        (stamp >> 32 & 0xffff) as usize,
        stamp & 0xffff_ffff,
    )
}

/// The length of the value with stamp `stamp`: 8 to [`MAX`] bytes.
pub fn value_len(stamp: u64) -> usize {
    8 + (mix(stamp ^ 0xb0a2d) % (MAX as u64 - 7)) as usize
}

/// The value with stamp `stamp`.
pub fn value(stamp: u64) -> Vec<u8> {
    message(stamp, value_len(stamp))
}

/// Checks a value read from variable entry `key`; returns its stamp.
pub fn checked_value(key: usize, got: &[u8]) -> u64 {
    assert!(
        got.len() >= 8,
        "entry {key}: a value of {} bytes",
        got.len()
    );
    let stamp = u64::from_le_bytes(got[..8].try_into().expect("8 bytes"));
    assert_eq!(
        parts(stamp).1,
        key,
        "entry {key}: a value stamped {stamp:#x}"
    );
    check(stamp, value_len(stamp), got);
    stamp
}

/// The typed value with stamp `stamp`.
pub fn typed(stamp: u64) -> Typed {
    [stamp, mix(stamp), !stamp, mix(stamp ^ 1)]
}

/// Checks a value read from the typed entry; returns its stamp.
pub fn checked_typed(got: Typed) -> u64 {
    assert_eq!(got, typed(got[0]), "a torn typed value");
    assert_eq!(parts(got[0]).1, TYPED, "typed value stamped {:#x}", got[0]);
    got[0]
}
