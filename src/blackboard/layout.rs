//! The shared layout of a blackboard segment, its geometry and its validation.
//!
//! ```text
//! line 0       identity
//! line 1       geometry: entries, writer slots, bytes of the value area
//! line 2...    role slots of the writers, 2 lines each (readers take none)
//! then         data area: the entry table, one line an entry (its sequence word, owner,
//!              length, wait line, maximum size and key), then the value area: each
//!              entry's value at a whole line, in table order
//! ```
//!
//! The maximum sizes and keys in the table are written by the creator before READY and
//! never again; a handle reads them once when it opens the segment and works from its
//! private copy (see `board.rs`).

use crate::cells::{role_flaw, Flaw};
use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, Line, WaitLine, LINE};
use crate::segment::Spec;
use crate::sync::{AtomicU64, Ordering};

/// Most entries a blackboard can have.
pub const MAX_ENTRIES: usize = 4096;
/// Largest value of one entry, in bytes (256 MiB).
pub const MAX_VALUE_SIZE: usize = 1 << 28;
/// Longest key, in bytes.
pub const MAX_KEY_LEN: usize = 32;
/// Largest value area, in bytes (4 GiB).
const MAX_VALUES: usize = 1 << 32;

/// Line 1: the geometry, written by the creator before READY.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct GeometryLine {
    pub(crate) entries: AtomicU64,
    pub(crate) writers: AtomicU64,
    pub(crate) values_len: AtomicU64,
}

/// Everything of a blackboard segment before its role slots.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct BoardHeader {
    pub(crate) identity: Line<Identity>,
    pub(crate) geometry: Line<GeometryLine>,
}

/// One entry of the table: a line of its own, so that the entries' hot words never share a
/// cache line.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Entry {
    /// Even while the value is complete, odd while a writer writes it (see `seqlock.rs`);
    /// 0 before the first write. Half of it is the entry's version.
    pub(crate) seq: AtomicU64,
    /// The claim of the writer that writes the entry, or wrote it last: its slot + 1 in the
    /// high half, the slot's generation in the low half (0: never written, or free with
    /// several writers; all ones: a write that its live writer gave up, see `ABANDONED`).
    pub(crate) owner: AtomicU64,
    /// Bytes of the value, written inside the sequence window.
    pub(crate) len: AtomicU64,
    /// Largest value, fixed at create.
    pub(crate) max: AtomicU64,
    /// Where the readers that wait for a change of this entry sleep.
    pub(crate) wait: WaitLine,
    /// The key, zero-padded (no key: all zeros), fixed at create.
    pub(crate) key: [AtomicU64; MAX_KEY_LEN / 8],
}

/// Private copies of a blackboard's geometry (the per-entry sizes are in the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) entries: usize,
    pub(crate) writers: usize,
    /// Bytes of the value area: the entries' values, each rounded up to a line.
    pub(crate) values_len: usize,
}

impl Geometry {
    /// Bytes of the entry table.
    pub(crate) fn table_len(&self) -> usize {
        self.entries * LINE
    }

    /// What is wrong with this geometry, if anything.
    pub(crate) fn flaw(&self) -> Option<Flaw> {
        if self.entries == 0 || self.entries > MAX_ENTRIES {
            let nearest = self.entries.clamp(1, MAX_ENTRIES);
            return Some(Flaw::new(
                "entries",
                self.entries,
                "from 1 to 4096",
                nearest,
            ));
        }
        if self.values_len % LINE != 0 || self.values_len > MAX_VALUES {
            let nearest = (self.values_len / LINE * LINE).min(MAX_VALUES);
            let reason = "whole lines up to 4 GiB";
            return Some(Flaw::new("value area", self.values_len, reason, nearest));
        }
        role_flaw("writers", self.writers)
    }
}

/// Bytes that a value of at most `max` bytes takes in the value area.
pub(crate) fn value_room(max: usize) -> usize {
    max.next_multiple_of(LINE)
}

/// The blackboard kind, as the segment module sees it.
#[derive(Debug)]
pub(crate) struct Blackboard;

impl Spec for Blackboard {
    type Header = BoardHeader;
    type Geometry = Geometry;
    const KIND: Kind = Kind::Blackboard;
    const LAYOUT_HASH: u64 = LAYOUT_HASH;

    fn identity(h: &BoardHeader) -> &Identity {
        &h.identity.0
    }

    fn slots(g: &Geometry) -> usize {
        g.writers
    }

    fn data_len(g: &Geometry) -> usize {
        g.table_len() + g.values_len
    }

    fn store(h: &BoardHeader, g: &Geometry) {
        let geo = &h.geometry.0;
        // Relaxed: published by the segment's READY store.
        geo.entries.store(g.entries as u64, Ordering::Relaxed);
        geo.writers.store(g.writers as u64, Ordering::Relaxed);
        geo.values_len.store(g.values_len as u64, Ordering::Relaxed);
    }

    fn load(h: &BoardHeader) -> Result<Geometry, OpenError> {
        let geo = &h.geometry.0;
        // Relaxed: ordered after the Acquire of READY; the values are validated here.
        let get = |a: &AtomicU64| usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let g = Geometry {
            entries: get(&geo.entries),
            writers: get(&geo.writers),
            values_len: get(&geo.values_len),
        };
        g.flaw().map_or(Ok(g), |f| Err(f.corrupt()))
    }
}

/// The hash of this layout, with the core's.
const LAYOUT_HASH: u64 = layout::hash(&[
    layout::CORE_HASH,
    Kind::Blackboard as u64,
    core::mem::size_of::<BoardHeader>() as u64,
    core::mem::offset_of!(GeometryLine, values_len) as u64,
    core::mem::offset_of!(Entry, owner) as u64,
    core::mem::offset_of!(Entry, len) as u64,
    core::mem::offset_of!(Entry, max) as u64,
    core::mem::offset_of!(Entry, wait) as u64,
    core::mem::offset_of!(Entry, key) as u64,
    MAX_KEY_LEN as u64,
]);

const _: () = assert!(core::mem::offset_of!(BoardHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(BoardHeader, geometry) == LINE);
const _: () = assert!(core::mem::size_of::<BoardHeader>() == 2 * LINE);
#[cfg(not(ipcring_loom))]
mod abi_asserts {
    use super::*;
    use core::mem::{offset_of, size_of};
    const _: () = assert!(offset_of!(GeometryLine, entries) == 0);
    const _: () = assert!(offset_of!(GeometryLine, writers) == 8);
    const _: () = assert!(offset_of!(GeometryLine, values_len) == 16);
    const _: () = assert!(offset_of!(Entry, seq) == 0);
    const _: () = assert!(offset_of!(Entry, owner) == 8);
    const _: () = assert!(offset_of!(Entry, len) == 16);
    const _: () = assert!(offset_of!(Entry, max) == 24);
    const _: () = assert!(offset_of!(Entry, wait) == 32);
    const _: () = assert!(offset_of!(Entry, key) == 48);
    const _: () = assert!(size_of::<Entry>() == 80);
    const _: () = assert!(size_of::<Line<Entry>>() == LINE);
}
