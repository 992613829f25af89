//! The shared layout of an SPSC segment, its geometry and its validation.
//!
//! ```text
//! line 0     identity
//! line 1     geometry: capacity, max_message
//! line 2     the consumer's published position (the one line the producer reads of it)
//! line 3     the consumer's wait line (it sleeps there when the ring is empty)
//! line 4     the producer's wait line (it sleeps there when the ring is full)
//! line 5-6   role slot 0: the producer (attachment; counters, and `mark` = where a
//!            taking-over producer starts its walk)
//! line 7-8   role slot 1: the consumer (attachment; counters, and `mark` = the position
//!            after the last released message, where a new consumer resumes)
//! line 9...  data area: records (see `record.rs`)
//! ```

use super::record;
use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, Line, WaitLine, LINE, SLOT_SIZE};
use crate::role::Role;
use crate::roles::Class;
use crate::segment::Spec;
use crate::sync::{AtomicU64, Ordering};

/// Smallest data area, in bytes.
pub const MIN_CAPACITY: usize = 64;
/// Largest data area, in bytes (2 GiB).
pub const MAX_CAPACITY: usize = 1 << 31;

/// The largest message of a ring of `capacity` bytes: a quarter of it.
pub const fn max_message_for(capacity: usize) -> usize {
    capacity / 4
}

/// Whether `capacity` is a valid data area size.
pub(crate) fn capacity_ok(capacity: u64) -> bool {
    capacity.is_power_of_two() && capacity >= MIN_CAPACITY as u64 && capacity <= MAX_CAPACITY as u64
}

const _: () = assert!(max_message_for(MAX_CAPACITY) <= record::MAX_LEN);

/// Line 1: the geometry, written by the creator before READY.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct GeometryLine {
    /// Bytes of the data area (a power of two).
    pub(crate) capacity: AtomicU64,
    /// Largest payload of one message.
    pub(crate) max_message: AtomicU64,
}

/// The consumer's position as the producer sees it: published lazily.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct ReadPosition {
    /// Everything before this position may be overwritten by the producer.
    pub(crate) pos: AtomicU64,
}

/// Everything of an SPSC segment before its role slots.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct SpscHeader {
    pub(crate) identity: Line<Identity>,
    pub(crate) geometry: Line<GeometryLine>,
    pub(crate) read: Line<ReadPosition>,
    pub(crate) consumer_wait: Line<WaitLine>,
    pub(crate) producer_wait: Line<WaitLine>,
}

/// The producer's slot.
pub(crate) const PRODUCERS: Class = Class {
    role: Role::Producer,
    first: 0,
    count: 1,
};

/// The consumer's slot.
pub(crate) const CONSUMERS: Class = Class {
    role: Role::Consumer,
    first: 1,
    count: 1,
};

/// Role slots of an SPSC segment.
const SLOTS: usize = 2;

/// Bytes before the data area: the header and the two role slots.
pub(crate) const HEADER_SIZE: usize = core::mem::size_of::<SpscHeader>() + SLOTS * SLOT_SIZE;

/// Private copies of an SPSC ring's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) capacity: usize,
    pub(crate) max_message: usize,
}

impl Geometry {
    /// The geometry of a ring of `capacity` bytes, if that is a valid capacity.
    pub(crate) fn of(capacity: usize) -> Result<Geometry, OpenError> {
        if !capacity_ok(capacity as u64) {
            return Err(OpenError::InvalidCapacity {
                capacity,
                min: MIN_CAPACITY,
                max: MAX_CAPACITY,
            });
        }
        Ok(Geometry {
            capacity,
            max_message: max_message_for(capacity),
        })
    }
}

/// The SPSC kind, as the segment module sees it.
#[derive(Debug)]
pub(crate) struct Spsc;

impl Spec for Spsc {
    type Header = SpscHeader;
    type Geometry = Geometry;
    const KIND: Kind = Kind::Spsc;
    const LAYOUT_HASH: u64 = LAYOUT_HASH;

    fn identity(h: &SpscHeader) -> &Identity {
        &h.identity.0
    }

    fn slots(_: &Geometry) -> usize {
        SLOTS
    }

    fn data_len(g: &Geometry) -> usize {
        g.capacity
    }

    fn store(h: &SpscHeader, g: &Geometry) {
        // Relaxed: published by the segment's READY store.
        let geo = &h.geometry.0;
        geo.capacity.store(g.capacity as u64, Ordering::Relaxed);
        geo.max_message
            .store(g.max_message as u64, Ordering::Relaxed);
    }

    fn load(h: &SpscHeader) -> Result<Geometry, OpenError> {
        // Relaxed: ordered after the Acquire of READY; the values are validated here.
        let geo = &h.geometry.0;
        let capacity = geo.capacity.load(Ordering::Relaxed);
        if !capacity_ok(capacity) {
            return Err(OpenError::BadGeometry {
                what: "capacity",
                found: capacity,
                expected: capacity
                    .clamp(MIN_CAPACITY as u64, MAX_CAPACITY as u64)
                    .next_power_of_two(),
            });
        }
        let max_message = geo.max_message.load(Ordering::Relaxed);
        let want = max_message_for(capacity as usize) as u64;
        if max_message != want {
            return Err(OpenError::BadGeometry {
                what: "max_message",
                found: max_message,
                expected: want,
            });
        }
        Ok(Geometry {
            capacity: capacity as usize,
            max_message: max_message as usize,
        })
    }
}

/// The hash of this layout, with the core's and the record format's.
const LAYOUT_HASH: u64 = layout::hash(&[
    layout::CORE_HASH,
    core::mem::size_of::<SpscHeader>() as u64,
    SLOTS as u64,
    core::mem::offset_of!(SpscHeader, geometry) as u64,
    core::mem::offset_of!(GeometryLine, max_message) as u64,
    core::mem::offset_of!(SpscHeader, read) as u64,
    core::mem::offset_of!(SpscHeader, consumer_wait) as u64,
    core::mem::offset_of!(SpscHeader, producer_wait) as u64,
    record::FORMAT,
]);

const _: () = assert!(core::mem::offset_of!(SpscHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(SpscHeader, geometry) == LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, read) == 2 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, consumer_wait) == 3 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, producer_wait) == 4 * LINE);
const _: () = assert!(core::mem::size_of::<SpscHeader>() == 5 * LINE);
const _: () = assert!(HEADER_SIZE == 9 * LINE);
#[cfg(not(ipcring_loom))]
const _: () = assert!(core::mem::offset_of!(GeometryLine, max_message) == 8);
