//! A data area of cells, one message per cell: what the kinds of fixed-size slots share
//! (MPMC queues, broadcast topics). A cell is a state word and a payload of up to
//! `slot_size` bytes, padded to 8.
//!
//! Position `p` lives in cell `p & mask`, in lap `p >> log2(capacity)`. Every state word
//! packs what happens to the cell, for which lap, and the length of its message:
//!
//! ```text
//!  63          32 31   29 28             0
//! +--------------+-------+----------------+
//! |  lap (u32)   |  tag  |     length     |
//! +--------------+-------+----------------+
//! ```
//!
//! The tags are each kind's own (see its `cell.rs`).

use crate::bytes::{Bytes, ReadAccess, WriteAccess};
use crate::error::OpenError;
use crate::role::Role;
use crate::roles::{Class, MAX_SLOTS};
use crate::sync::{AtomicU64, Ordering};

/// Most cells a ring can have.
pub(crate) const MAX_CELLS: usize = 1 << 24;
/// Largest slot, in bytes (the largest message).
pub const MAX_SLOT_SIZE: usize = 1 << 28;
/// Largest data area, in bytes (64 GiB).
const MAX_DATA: usize = 1 << 36;
/// Most slots of one role a ring of cells can have.
pub const MAX_ROLE_SLOTS: usize = MAX_SLOTS / 2;

/// Bytes of a cell before its payload: the state word.
pub(crate) const CELL_HEADER: usize = 8;

/// Bits of the length field: the largest message is `2^LEN_BITS - 1` bytes.
pub(crate) const LEN_BITS: u32 = 29;
/// Where the tag starts in a state word.
pub(crate) const TAG_SHIFT: u32 = LEN_BITS;
/// The length field of a state word.
pub(crate) const LEN_MASK: u64 = (1 << LEN_BITS) - 1;
/// The tag field of a state word.
pub(crate) const TAG_MASK: u64 = 0b111 << TAG_SHIFT;

const _: () = assert!(MAX_SLOT_SIZE < 1 << LEN_BITS);
#[cfg(not(ipcring_loom))]
const _: () = assert!(core::mem::size_of::<ShapeWords>() == 32);

/// The state word of lap `lap` with tag `tag` (already shifted) and length `len`.
#[inline]
pub(crate) fn word(lap: u32, tag: u64, len: usize) -> u64 {
    debug_assert!((len as u64) <= LEN_MASK && tag & !TAG_MASK == 0);
    (lap as u64) << 32 | tag | len as u64
}

/// The lap field of a state word.
#[inline]
pub(crate) fn lap_of(w: u64) -> u32 {
    (w >> 32) as u32
}

/// The length field of a state word.
#[inline]
pub(crate) fn len(w: u64) -> u64 {
    w & LEN_MASK
}

/// Bytes of one cell with a payload of `slot_size`: the state word and the payload,
/// padded to 8.
pub(crate) fn stride(slot_size: usize) -> usize {
    CELL_HEADER + slot_size.next_multiple_of(8)
}

/// A field of a geometry out of its range: `nearest` is the closest valid value.
#[derive(Debug)]
pub(crate) struct Flaw {
    pub(crate) what: &'static str,
    pub(crate) value: u64,
    pub(crate) reason: &'static str,
    pub(crate) nearest: u64,
}

impl Flaw {
    pub(crate) fn new(
        what: &'static str,
        value: usize,
        reason: &'static str,
        nearest: usize,
    ) -> Flaw {
        Flaw {
            what,
            value: value as u64,
            reason,
            nearest: nearest as u64,
        }
    }

    /// The error of a geometry that a user asked for.
    pub(crate) fn invalid(self) -> OpenError {
        OpenError::InvalidGeometry {
            what: self.what,
            value: self.value,
            reason: self.reason,
        }
    }

    /// The error of a geometry found in a segment.
    pub(crate) fn corrupt(self) -> OpenError {
        OpenError::BadGeometry {
            what: self.what,
            found: self.value,
            expected: self.nearest,
        }
    }
}

/// The geometry that every kind of cells has, as stored first on its geometry line.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct ShapeWords {
    /// Cells (a power of two).
    pub(crate) capacity: AtomicU64,
    /// Largest payload of one message.
    pub(crate) slot_size: AtomicU64,
    /// Role slots of producers (publishers).
    pub(crate) producers: AtomicU64,
    /// Role slots of consumers (subscribers).
    pub(crate) consumers: AtomicU64,
}

/// Private copies of a ring's [`ShapeWords`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) capacity: usize,
    pub(crate) slot_size: usize,
    pub(crate) producers: usize,
    pub(crate) consumers: usize,
}

impl Shape {
    /// The slots of a role: the producers' first, then the consumers'.
    pub(crate) fn class(&self, role: Role) -> Class {
        Class::of(role, self.producers, self.consumers)
    }

    /// Role slots of both roles.
    pub(crate) fn slots(&self) -> usize {
        self.producers + self.consumers
    }

    /// Bytes of the data area.
    pub(crate) fn data_len(&self) -> usize {
        self.capacity * stride(self.slot_size)
    }

    /// What is wrong with this shape, if anything; `roles` names the two roles' counts
    /// (`["producers", "consumers"]`...).
    pub(crate) fn flaw(&self, roles: [&'static str; 2]) -> Option<Flaw> {
        flaw(self.capacity, self.slot_size)
            .or_else(|| role_flaw(roles[0], self.producers))
            .or_else(|| role_flaw(roles[1], self.consumers))
    }

    /// Writes the shape into a header being created (published by its READY store).
    pub(crate) fn store(&self, w: &ShapeWords) {
        // Relaxed: published by the segment's READY store.
        w.capacity.store(self.capacity as u64, Ordering::Relaxed);
        w.slot_size.store(self.slot_size as u64, Ordering::Relaxed);
        w.producers.store(self.producers as u64, Ordering::Relaxed);
        w.consumers.store(self.consumers as u64, Ordering::Relaxed);
    }

    /// Reads the shape of a header that any process may have written (validated by the
    /// caller, with [`Shape::flaw`]).
    pub(crate) fn load(w: &ShapeWords) -> Shape {
        // Relaxed: ordered after the Acquire of READY.
        let get = |a: &AtomicU64| usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        Shape {
            capacity: get(&w.capacity),
            slot_size: get(&w.slot_size),
            producers: get(&w.producers),
            consumers: get(&w.consumers),
        }
    }
}

/// What is wrong with `capacity` cells of `slot_size` bytes, if anything.
fn flaw(capacity: usize, slot_size: usize) -> Option<Flaw> {
    if !capacity.is_power_of_two() || capacity > MAX_CELLS {
        let nearest = capacity.clamp(1, MAX_CELLS).next_power_of_two();
        let reason = "a power of two from 1 to 2^24 slots";
        return Some(Flaw::new("capacity", capacity, reason, nearest));
    }
    if slot_size == 0 || slot_size > MAX_SLOT_SIZE {
        let nearest = slot_size.clamp(1, MAX_SLOT_SIZE);
        let reason = "from 1 byte to 256 MiB";
        return Some(Flaw::new("slot_size", slot_size, reason, nearest));
    }
    let stride = stride(slot_size);
    if capacity.saturating_mul(stride) > MAX_DATA {
        let nearest = (MAX_DATA / stride).next_power_of_two() / 2;
        let reason = "slots x cell size up to 64 GiB";
        return Some(Flaw::new("capacity", capacity, reason, nearest));
    }
    None
}

/// What is wrong with `n` role slots for `what` (`"producers"`...), if anything.
pub(crate) fn role_flaw(what: &'static str, n: usize) -> Option<Flaw> {
    (n == 0 || n > MAX_ROLE_SLOTS).then(|| {
        let nearest = n.clamp(1, MAX_ROLE_SLOTS);
        Flaw::new(what, n, "from 1 to 64 role slots", nearest)
    })
}

/// A position and the offset of its cell in the data area, worked out once for all the
/// steps of one send or receive.
// Public in a private module: the room that a public write grant holds, never named
// outside the crate.
#[allow(unreachable_pub)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub(crate) pos: u64,
    off: usize,
}

/// One handle's view of a data area of cells, with private copies of its geometry.
#[derive(Debug)]
pub(crate) struct Cells {
    data: Bytes,
    mask: u64,
    shift: u32,
    stride: usize,
    slot_size: usize,
}

impl Cells {
    /// The cells of `data`, of shape `shape`.
    pub(crate) fn new(data: Bytes, shape: &Shape) -> Cells {
        let (capacity, slot_size) = (shape.capacity, shape.slot_size);
        debug_assert!(capacity.is_power_of_two() && shape.data_len() <= data.len());
        Cells {
            data,
            mask: capacity as u64 - 1,
            shift: capacity.trailing_zeros(),
            stride: stride(slot_size),
            slot_size,
        }
    }

    /// The lap of position `pos`.
    #[inline]
    pub(crate) fn lap(&self, pos: u64) -> u32 {
        (pos >> self.shift) as u32
    }

    #[inline]
    fn offset(&self, pos: u64) -> usize {
        (pos & self.mask) as usize * self.stride
    }

    /// Position `pos` and its cell.
    #[inline]
    pub(crate) fn spot(&self, pos: u64) -> Spot {
        Spot {
            pos,
            off: self.offset(pos),
        }
    }

    /// The state word of the cell of `at`.
    #[inline]
    pub(crate) fn word(&self, at: Spot) -> &AtomicU64 {
        self.data.word(at.off)
    }

    /// The state word of the cell of `pos`.
    #[inline]
    pub(crate) fn state(&self, pos: u64) -> &AtomicU64 {
        self.data.word(self.offset(pos))
    }

    /// The payload window of a cell, for writing.
    ///
    /// # Safety
    /// The caller holds the claim of `at` that lets it write the cell; `len` is at most
    /// the slot size.
    #[inline]
    pub(crate) unsafe fn write_window(&self, at: Spot, len: usize) -> WriteAccess {
        debug_assert!(len <= self.slot_size);
        // SAFETY: the cell lies inside the data area and its payload holds `slot_size`
        // bytes; the caller's claim keeps the writers of the kind out of it.
        unsafe { self.data.write(at.off + CELL_HEADER, len) }
    }

    /// The payload window of a cell, for reading.
    ///
    /// # Safety
    /// The caller holds the claim of `at` that keeps writers out of the cell until it
    /// ends the window; `len` is at most the slot size.
    #[inline]
    pub(crate) unsafe fn read_window(&self, at: Spot, len: usize) -> ReadAccess {
        debug_assert!(len <= self.slot_size);
        // SAFETY: the cell lies inside the data area and its payload holds `slot_size`
        // bytes; the caller's claim keeps writers out of it.
        unsafe { self.data.read(at.off + CELL_HEADER, len) }
    }

    /// Initialises a new ring whose positions start at `start`: the state word of every
    /// cell becomes `first(lap)`, for the lap of the first position that maps to it.
    pub(crate) fn init(&self, start: u64, first: impl Fn(u32) -> u64) {
        for i in 0..=self.mask {
            let pos = start.wrapping_add(i.wrapping_sub(start) & self.mask);
            // Relaxed: a segment's header is published by its READY store; a heap ring
            // reaches other threads only by being moved or cloned into them.
            self.state(pos)
                .store(first(self.lap(pos)), Ordering::Relaxed);
        }
    }

    /// Writes `src` (at most the slot size) into the payload of `at`, in bulk and word by
    /// word with atomic stores (see [`Bytes::store_at`]): readers may copy the cell at the
    /// same time (and discard what they read, see [`Cells::load`]). The caller holds the
    /// claim of `at`.
    #[inline]
    pub(crate) fn store(&self, at: Spot, src: &[u8]) {
        assert!(src.len() <= self.slot_size);
        #[cfg(not(ipcring_loom))]
        // SAFETY: the payload of a cell starts 8-aligned inside the data area and holds
        // `slot_size` bytes rounded up to 8, at least `src` rounded up (asserted above);
        // the caller's claim makes it ours to write.
        unsafe {
            self.data.store_at(at.off + CELL_HEADER, src);
        }
        #[cfg(ipcring_loom)]
        for (i, w) in src.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..w.len()].copy_from_slice(w);
            // Relaxed: the cell's state word orders the payload (a fence and the commit).
            self.data
                .word(at.off + CELL_HEADER + 8 * i)
                .store(u64::from_ne_bytes(word), Ordering::Relaxed);
        }
    }

    /// Replaces the contents of `buf` with `len` bytes (at most the slot size) of the
    /// payload of `at` (see [`Cells::load_to`]), copied into its spare capacity (never
    /// zeroed first).
    #[inline]
    pub(crate) fn load(&self, at: Spot, len: usize, buf: &mut Vec<u8>) {
        assert!(len <= self.slot_size);
        buf.clear();
        buf.reserve(len);
        #[cfg(not(ipcring_loom))]
        // SAFETY: the payload as in `store`, for reading; `buf` has room for `len` bytes
        // after `reserve`, and `set_len` follows the copy that initialised them.
        unsafe {
            self.data
                .load_at(at.off + CELL_HEADER, buf.as_mut_ptr(), len);
            buf.set_len(len);
        }
        #[cfg(ipcring_loom)]
        {
            buf.resize(len, 0);
            self.load_to(at, buf);
        }
    }

    /// Fills `dst` (at most the slot size) with the first bytes of the payload of `at`, in
    /// bulk and word by word with atomic loads (see [`Bytes::load_at`]): a writer may
    /// change the cell at the same time, so the caller validates what it read afterwards.
    #[inline]
    pub(crate) fn load_to(&self, at: Spot, dst: &mut [u8]) {
        assert!(dst.len() <= self.slot_size);
        #[cfg(not(ipcring_loom))]
        // SAFETY: as in `store` (for reading, which needs no claim); `dst` is a private
        // buffer of its length.
        unsafe {
            self.data
                .load_at(at.off + CELL_HEADER, dst.as_mut_ptr(), dst.len());
        }
        #[cfg(ipcring_loom)]
        for (i, w) in dst.chunks_mut(8).enumerate() {
            // Relaxed: the caller's fence and second look at the state word order it.
            let word = self.data.word(at.off + CELL_HEADER + 8 * i);
            w.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes()[..w.len()]);
        }
    }
}
