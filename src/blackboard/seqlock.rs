//! The sequence lock of one entry: a writer never waits for readers, a reader never returns
//! a value that a write overlapped.
//!
//! The writer that holds the entry's claim makes the sequence odd, writes the length and
//! the value, and makes it even again (two more than before). A reader reads the sequence,
//! the length and the value, then the sequence again: the same even number twice means no
//! write overlapped the copy, and the copy is a value that was set, whole. Otherwise it
//! retries; an odd sequence whose writer died stays odd, and readers report the entry as
//! abandoned (see `reader.rs`) until a writer sets it again, starting from the odd number.
//!
//! Orderings, SYNC(seqlock): the writer's odd store is followed by a Release fence, so a
//! reader whose copy saw any word of the new value sees the odd sequence (or later) in its
//! second read, which an Acquire fence keeps after the copy; the writer's even store is a
//! Release that the reader's first read (Acquire) pairs with, so a reader that sees it
//! copies the value written before it. The value's words are copied with atomic word
//! accesses (see `bytes.rs`) on both sides: a copy that races a write reads words of
//! either value, never undefined bytes, and is thrown away.

use super::board::Spot;
use super::layout::Entry;
use crate::bytes::Bytes;
use crate::sync::{fence, Ordering};

/// The version of an entry whose sequence is `seq`: completed writes, 0 before the first.
#[inline]
pub(crate) fn version(seq: u64) -> u64 {
    seq / 2
}

/// One attempt to read an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// A value of this many bytes was copied whole, at sequence `seq` (even).
    Done { seq: u64, len: usize },
    /// Never written.
    Unset,
    /// A writer is writing it (or died doing so): the odd sequence, and the claim tag in
    /// the owner word.
    Writing { seq: u64, owner: u64 },
    /// A write overlapped the copy: try again.
    Overlapped,
    /// A complete value claims more bytes than the entry holds: the segment is corrupted.
    Corrupt,
}

/// Reads entry `entry` at `spot`: `copy` is given the value's length (at most `spot.max`)
/// and copies that many bytes with [`load`]; what it copied counts only if the attempt is
/// `Done`.
#[inline]
pub(crate) fn read(entry: &Entry, spot: Spot, copy: impl FnOnce(usize)) -> Attempt {
    // SYNC(seqlock): Acquire pairs with the writer's Release store of the even sequence.
    let seq = entry.seq.load(Ordering::Acquire);
    if seq & 1 == 1 {
        // Relaxed: the owner was stored before the odd sequence, which the Acquire above
        // read; a stale owner is only a reason to look again.
        return Attempt::Writing {
            seq,
            owner: entry.owner.load(Ordering::Relaxed),
        };
    }
    if seq == 0 {
        return Attempt::Unset;
    }
    // Relaxed: checked by the second read of the sequence, like the value.
    let len = entry.len.load(Ordering::Relaxed);
    let len = usize::try_from(len).ok().filter(|&n| n <= spot.max);
    if let Some(len) = len {
        copy(len);
    }
    // SYNC(seqlock): keeps the copy before the second read of the sequence.
    fence(Ordering::Acquire);
    if entry.seq.load(Ordering::Relaxed) != seq {
        return Attempt::Overlapped;
    }
    match len {
        Some(len) => Attempt::Done { seq, len },
        None => Attempt::Corrupt,
    }
}

/// Writes `len` bytes into entry `entry` at `spot` (`len <= spot.max`): `fill` stores them
/// with [`store`]. The caller holds the entry's claim, with its tag in the owner word.
/// Returns the new (even) sequence.
#[inline]
pub(crate) fn write(entry: &Entry, len: usize, fill: impl FnOnce()) -> u64 {
    debug_assert!(len as u64 <= entry.max.load(Ordering::Relaxed));
    // Relaxed: only a claim holder writes the sequence, and the claim was taken with
    // Acquire after the last holder's Release.
    let seq = entry.seq.load(Ordering::Relaxed);
    // From an odd sequence (a writer died in the middle), the next odd one.
    let begin = (seq | 1).wrapping_add((seq & 1) << 1);
    // SYNC(seqlock): Release orders the owner word before the odd sequence for readers
    // that look at the owner; the fence orders the odd sequence before the value.
    entry.seq.store(begin, Ordering::Release);
    fence(Ordering::Release);
    // Relaxed: published by the even sequence.
    entry.len.store(len as u64, Ordering::Relaxed);
    fill();
    let end = begin.wrapping_add(1);
    // SYNC(seqlock): pairs with the readers' Acquire first read.
    entry.seq.store(end, Ordering::Release);
    end
}

/// Copies `dst.len()` bytes of the value at `off` of `data` into `dst`, a word at a time
/// with atomic loads (or in bulk with an opaque copy, see `bytes.rs`).
#[inline]
pub(crate) fn load(data: Bytes, off: usize, dst: &mut [u8]) {
    #[cfg(not(ipcring_loom))]
    {
        // SAFETY: `off` is a line of the value area and `dst.len()` rounded up to a word
        // lies within the entry's room (the callers bound it by the entry's maximum). A
        // writer may write those words meanwhile: the copy reads them with atomic loads or
        // an opaque copy, never as plain memory, and the caller throws away a copy that a
        // write overlapped.
        let view = unsafe { data.read(off, dst.len()).view() };
        view.copy_to_slice(dst);
    }
    #[cfg(ipcring_loom)]
    for (i, chunk) in dst.chunks_mut(8).enumerate() {
        // Relaxed: the sequence orders the value (see the module docs).
        let w = data.word(off + 8 * i).load(Ordering::Relaxed).to_ne_bytes();
        chunk.copy_from_slice(&w[..chunk.len()]);
    }
}

/// Stores `src` as the value at `off` of `data`, a word at a time with atomic stores (or in
/// bulk, see `bytes.rs`); the last word is padded with zeros.
#[inline]
pub(crate) fn store(data: Bytes, off: usize, src: &[u8]) {
    #[cfg(not(ipcring_loom))]
    {
        // SAFETY: as in `load`, for writing: the caller holds the entry's claim, so no
        // other writer writes the room; readers read it only with atomic or opaque loads.
        let mut w = unsafe { data.write(off, src.len()) };
        w.fill(src);
        w.end();
    }
    #[cfg(ipcring_loom)]
    for (i, chunk) in src.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        // Relaxed: published by the even sequence.
        data.word(off + 8 * i)
            .store(u64::from_ne_bytes(w), Ordering::Relaxed);
    }
}
