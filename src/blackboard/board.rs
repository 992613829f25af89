//! What every blackboard handle has: the segment's memory, its entry table, and the private
//! copy of each entry's size, place and key, read once when the handle attached.

use super::layout::{value_room, Blackboard, BoardHeader, Entry, Geometry};
use super::layout::{MAX_KEY_LEN, MAX_VALUE_SIZE};
use crate::bytes::Bytes;
use crate::error::OpenError;
use crate::layout::{Line, WaitLine};
use crate::region::Region;
use crate::roles::{Class, Slots};
use crate::sync::Ordering;
use crate::wait;
use core::ptr::NonNull;
use core::time::Duration;
use std::sync::Arc;

/// How long a writer (of a board with several writers) waits for the claim of an entry
/// that another live writer holds, and a blocking read for a live writer to finish the
/// write it is in the middle of, before they say `Busy`: far longer than any write takes,
/// short enough that a writer stopped in the middle of one (or a peer that scribbled a
/// live writer's claim over an entry) holds nobody up for good.
pub(crate) const WRITE_WAIT: Duration = Duration::from_secs(1);

/// Where an entry's value lives and how large it may be: private, validated copies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spot {
    /// Offset of the value in the data area (a whole line).
    pub(crate) off: usize,
    /// Largest value.
    pub(crate) max: usize,
}

/// An entry as a user asks for it at create: its key (may be empty) and its largest value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEntry {
    pub(crate) key: String,
    pub(crate) max: usize,
}

/// A blackboard as one handle sees it.
#[derive(Debug)]
pub(crate) struct Board {
    region: Region<BoardHeader>,
    table: NonNull<Line<Entry>>,
    /// The table of a heap board (a segment's lies in its data area): kept alive here.
    #[cfg_attr(ipcring_loom, allow(dead_code))]
    heap: Option<Arc<[Line<Entry>]>>,
    spots: Box<[Spot]>,
    keys: Box<[String]>,
    pub(crate) geo: Geometry,
}

// SAFETY: `table` points into memory that `region` (or `heap`) keeps alive and that moves
// with the board; all shared accesses go through atomics.
unsafe impl Send for Board {}

/// The geometry of a board with `entries`, and `writers` writer slots.
pub(crate) fn geometry(entries: &[NewEntry], writers: usize) -> Result<Geometry, OpenError> {
    for e in entries {
        if e.max == 0 || e.max > MAX_VALUE_SIZE {
            let reason = "from 1 byte to 256 MiB";
            return Err(OpenError::InvalidGeometry {
                what: "value size",
                value: e.max as u64,
                reason,
            });
        }
        if e.key.len() > MAX_KEY_LEN || e.key.contains('\0') {
            return Err(OpenError::InvalidGeometry {
                what: "key length",
                value: e.key.len() as u64,
                reason: "up to 32 bytes, no NUL",
            });
        }
        let dup = !e.key.is_empty() && entries.iter().filter(|o| o.key == e.key).count() > 1;
        if dup {
            return Err(OpenError::InvalidGeometry {
                what: "key repeats (entries with this key)",
                value: 2,
                reason: "each key once",
            });
        }
    }
    let values_len = entries
        .iter()
        .try_fold(0usize, |n, e| n.checked_add(value_room(e.max)))
        .unwrap_or(usize::MAX);
    let geo = Geometry {
        entries: entries.len(),
        writers,
        values_len,
    };
    geo.flaw().map_or(Ok(geo), |f| Err(f.invalid()))
}

/// Writes the table of a board being created (published by READY).
pub(crate) fn init(table: &[Line<Entry>], entries: &[NewEntry]) {
    for (line, e) in table.iter().zip(entries) {
        let entry = &line.0;
        // Relaxed: published with the header by the segment's READY store.
        entry.max.store(e.max as u64, Ordering::Relaxed);
        let mut key = [0u8; MAX_KEY_LEN];
        key[..e.key.len()].copy_from_slice(e.key.as_bytes());
        for (word, bytes) in entry.key.iter().zip(key.chunks_exact(8)) {
            let w = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
            // Relaxed: as above.
            word.store(w, Ordering::Relaxed);
        }
        wait::prepare(&entry.wait);
    }
}

impl Board {
    /// The memory of the board.
    pub(crate) fn region(&self) -> &Region<BoardHeader> {
        &self.region
    }

    /// The board of `region`, whose geometry was validated, with its table in the
    /// segment's data area or, for a heap board, in `heap`. A board being created has its
    /// table written from `fresh` first. Reads each entry's size and key once and checks
    /// that the sizes add up to the value area.
    ///
    /// # Errors
    /// `BadGeometry` for a size that no creator writes.
    pub(crate) fn new(
        region: Region<BoardHeader>,
        geo: Geometry,
        heap: Option<Arc<[Line<Entry>]>>,
        fresh: Option<&[NewEntry]>,
    ) -> Result<Board, OpenError> {
        let table = match (&heap, mapped_table(&region, &geo)) {
            (Some(t), _) if t.len() == geo.entries => NonNull::from(&t[0]),
            (None, Some(t)) => NonNull::from(&t[0]),
            _ => {
                return Err(OpenError::BadGeometry {
                    what: "heap table",
                    found: heap.map_or(0, |t| t.len() as u64),
                    expected: geo.entries as u64,
                })
            }
        };
        let mut board = Board {
            region,
            table,
            heap,
            spots: Box::new([]),
            keys: Box::new([]),
            geo,
        };
        if let Some(entries) = fresh {
            init(board.table(), entries);
        }
        board.read_table()?;
        Ok(board)
    }

    /// Reads the sizes and keys of the table into the board's private copies.
    fn read_table(&mut self) -> Result<(), OpenError> {
        let mut off = self.geo.table_len();
        let end = off + self.geo.values_len;
        let mut spots = Vec::with_capacity(self.geo.entries);
        let mut keys = Vec::with_capacity(self.geo.entries);
        for line in self.table() {
            let entry = &line.0;
            // Relaxed: ordered after the Acquire of READY; validated here, read once.
            let max = entry.max.load(Ordering::Relaxed);
            let room = usize::try_from(max)
                .ok()
                .filter(|&m| (1..=MAX_VALUE_SIZE).contains(&m))
                .map(value_room);
            let Some(room) = room.filter(|&r| r <= end - off) else {
                return Err(OpenError::BadGeometry {
                    what: "entry value size",
                    found: max,
                    expected: (end - off).clamp(1, MAX_VALUE_SIZE) as u64,
                });
            };
            spots.push(Spot {
                off,
                max: max as usize,
            });
            off += room;
            keys.push(key_of(entry));
        }
        if off != end {
            return Err(OpenError::BadGeometry {
                what: "value area",
                found: self.geo.values_len as u64,
                expected: (off - self.geo.table_len()) as u64,
            });
        }
        self.spots = spots.into();
        self.keys = keys.into();
        Ok(())
    }

    /// The entry table.
    pub(crate) fn table(&self) -> &[Line<Entry>] {
        // SAFETY: `geo.entries` lines lie at `table` (in the data area, whose size the
        // geometry gives, or in `heap`), alive as long as `self`; made of atomics, valid
        // for any bit pattern.
        unsafe { core::slice::from_raw_parts(self.table.as_ptr(), self.geo.entries) }
    }

    /// Entry `key` and where its value lives, or `None` beyond the table.
    #[inline]
    pub(crate) fn entry(&self, key: usize) -> Option<(&Entry, Spot)> {
        let spot = *self.spots.get(key)?;
        Some((&self.table()[key].0, spot))
    }

    /// The wait line of entry `key` (which exists), with a lifetime detached from `&self`,
    /// so that a wait loop can borrow the handle mutably while it sleeps on it.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    pub(crate) unsafe fn wait_line_unbound<'b>(&self, key: usize) -> &'b WaitLine {
        // SAFETY: the table lives as long as `self`, per the contract longer than `'b`.
        unsafe { &(*self.table.as_ptr().add(key)).0.wait }
    }

    /// The data area (the table, then the values).
    #[inline]
    pub(crate) fn data(&self) -> Bytes {
        self.region.data()
    }

    /// The index of the entry whose key is `key`.
    pub(crate) fn index_of(&self, key: &str) -> Option<usize> {
        (!key.is_empty())
            .then(|| self.keys.iter().position(|k| k == key))
            .flatten()
    }

    /// The keys, in table order (empty for an entry without one).
    pub(crate) fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Largest value of entry `key`.
    pub(crate) fn max(&self, key: usize) -> Option<usize> {
        self.spots.get(key).map(|s| s.max)
    }

    /// The role slots of the writers.
    pub(crate) fn slots(&self) -> Slots<'_> {
        self.region.slots()
    }

    /// The writers' slots.
    pub(crate) fn writers(&self) -> Class {
        Class::of(crate::role::Role::Producer, self.geo.writers, 0)
    }

    /// Keeps the memory of the entries' wait lines mapped, for the helper thread of the
    /// WaitSet's descriptor and of async waits.
    #[cfg(not(ipcring_loom))]
    pub(crate) fn keep(&self) -> crate::region::Keep {
        match &self.heap {
            Some(table) => std::sync::Arc::new(table.clone()),
            None => self.region.keep(),
        }
    }

    /// Makes a board this handle created visible to openers.
    pub(crate) fn publish(&mut self) -> Result<(), OpenError> {
        self.region.publish::<Blackboard>()
    }

    /// Whether the writer named by the claim tag `tag` (see [`Entry::owner`]) is alive:
    /// its slot is attached in the tag's generation and, if `thorough`, its lock is held.
    pub(crate) fn owner_alive(&self, tag: u64, thorough: bool) -> bool {
        owner_alive(self.slots(), self.geo.writers, tag, thorough)
    }
}

/// Whether the writer named by the claim tag `tag` is alive, among the `writers` slots of
/// `slots` (see [`Board::owner_alive`]).
pub(crate) fn owner_alive(slots: Slots<'_>, writers: usize, tag: u64, thorough: bool) -> bool {
    let Some(slot) = ((tag >> 32) as usize).checked_sub(1) else {
        return false;
    };
    if slot >= writers {
        return false;
    }
    let generation = &slots.get(slot).state.0.generation;
    // SYNC(attach): Acquire pairs with the AcqRel bump of an attach, as `presence`.
    generation.load(Ordering::Acquire) == tag as u32 && slots.alive(slot, thorough)
}

/// The entry table of a board in a mapped segment of geometry `geo` (validated): the
/// start of its data area. `None` for a heap region.
pub(crate) fn mapped_table<'a>(
    region: &'a Region<BoardHeader>,
    geo: &Geometry,
) -> Option<&'a [Line<Entry>]> {
    let data = region.mapped_data()?;
    // SAFETY: the data area of a segment of geometry `geo` begins with `geo.entries`
    // lines of the table (`Blackboard::data_len`), 128-aligned (the header is whole
    // lines), mapped as long as the region; made of atomics, valid for any bit pattern.
    Some(unsafe { core::slice::from_raw_parts(data.as_ptr().cast(), geo.entries) })
}

/// The key of `entry`, as its creator wrote it (bytes that are not UTF-8 replaced).
pub(crate) fn key_of(entry: &Entry) -> String {
    let mut key = Vec::with_capacity(MAX_KEY_LEN);
    for word in &entry.key {
        // Relaxed: written before READY, which the opener read with Acquire.
        key.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
    }
    let len = key.iter().position(|&b| b == 0).unwrap_or(MAX_KEY_LEN);
    key.truncate(len);
    String::from_utf8_lossy(&key).into_owned()
}

/// The claim tag of no writer, left in the owner word of an entry whose write never
/// completed though its writer lives on (its `fill` panicked): no slot has it, so readers
/// report the entry abandoned, and writers take its claim at once.
pub(crate) const ABANDONED: u64 = u64::MAX;

/// The claim tag of a writer in `slot`, generation `generation` (see [`Entry::owner`]).
pub(crate) fn tag(slot: usize, generation: u32) -> u64 {
    ((slot as u64 + 1) << 32) | u64::from(generation)
}

/// The table of a heap board (a segment's lies in its data area).
pub(crate) fn heap_table(geo: &Geometry) -> Arc<[Line<Entry>]> {
    (0..geo.entries).map(|_| Line::default()).collect()
}
