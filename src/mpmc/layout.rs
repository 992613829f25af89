//! The shared layout of an MPMC segment, its geometry and its validation.
//!
//! ```text
//! line 0       identity
//! line 1       geometry: slots, slot size, producer and consumer slot counts, stall timeout
//! line 2       tail: the next position producers claim (see `queue.rs`)
//! line 3       head: the next position consumers take
//! line 4       the consumers' wait line (they sleep there when the queue is empty)
//! line 5       the producers' wait line (they sleep there when it is full)
//! line 6...    role slots, 2 lines each: the producers', then the consumers' (a slot's
//!              `mark` is the position its holder claims or holds)
//! then         data area: `capacity` cells of `stride` bytes, each a state word (see
//!              `cell.rs`, with the message's length) and the payload
//! ```

use crate::cells::{self, Flaw, Shape, ShapeWords};
use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, Line, Position, WaitLine, LINE};
use crate::role::Role;
use crate::roles::Class;
use crate::segment::Spec;
use crate::sync::{AtomicU64, Ordering};
use core::time::Duration;

/// Most cells a queue can have.
pub const MAX_SLOTS_PER_QUEUE: usize = cells::MAX_CELLS;

/// Line 1: the geometry, written by the creator before READY.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct GeometryLine {
    /// Cells, their size, producer and consumer slots.
    pub(crate) cells: ShapeWords,
    /// How long consumers wait for a live producer's commit before they pass its claim,
    /// in nanoseconds; 0 for ever.
    pub(crate) stall_ns: AtomicU64,
}

/// Everything of an MPMC segment before its role slots.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct MpmcHeader {
    pub(crate) identity: Line<Identity>,
    pub(crate) geometry: Line<GeometryLine>,
    pub(crate) tail: Line<Position>,
    pub(crate) head: Line<Position>,
    pub(crate) consumer_wait: Line<WaitLine>,
    pub(crate) producer_wait: Line<WaitLine>,
}

/// Private copies of an MPMC queue's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) cells: Shape,
    pub(crate) stall: Option<Duration>,
}

impl Geometry {
    /// The slots of a role.
    pub(crate) fn class(&self, role: Role) -> Class {
        self.cells.class(role)
    }

    /// Checks a geometry asked for by a user.
    pub(crate) fn check(self) -> Result<Geometry, OpenError> {
        self.flaw().map_or(Ok(self), |f| Err(f.invalid()))
    }

    /// What is wrong with this geometry, if anything.
    fn flaw(&self) -> Option<Flaw> {
        self.cells.flaw(["producers", "consumers"])
    }
}

/// The MPMC kind, as the segment module sees it.
#[derive(Debug)]
pub(crate) struct Mpmc;

impl Spec for Mpmc {
    type Header = MpmcHeader;
    type Geometry = Geometry;
    const KIND: Kind = Kind::Mpmc;
    const LAYOUT_HASH: u64 = LAYOUT_HASH;

    fn identity(h: &MpmcHeader) -> &Identity {
        &h.identity.0
    }

    fn slots(g: &Geometry) -> usize {
        g.cells.slots()
    }

    fn data_len(g: &Geometry) -> usize {
        g.cells.data_len()
    }

    fn store(h: &MpmcHeader, g: &Geometry) {
        let geo = &h.geometry.0;
        g.cells.store(&geo.cells);
        let stall = g
            .stall
            .map_or(0, |d| d.as_nanos().clamp(1, u64::MAX as u128) as u64);
        // Relaxed: published by the segment's READY store.
        geo.stall_ns.store(stall, Ordering::Relaxed);
    }

    fn load(h: &MpmcHeader) -> Result<Geometry, OpenError> {
        let geo = &h.geometry.0;
        // Relaxed: ordered after the Acquire of READY; the values are validated here.
        let stall = geo.stall_ns.load(Ordering::Relaxed);
        let g = Geometry {
            cells: Shape::load(&geo.cells),
            stall: (stall != 0).then(|| Duration::from_nanos(stall)),
        };
        g.flaw().map_or(Ok(g), |f| Err(f.corrupt()))
    }
}

/// The hash of this layout, with the core's and the cell format's.
const LAYOUT_HASH: u64 = layout::hash(&[
    layout::CORE_HASH,
    core::mem::size_of::<MpmcHeader>() as u64,
    core::mem::offset_of!(MpmcHeader, geometry) as u64,
    core::mem::offset_of!(GeometryLine, stall_ns) as u64,
    core::mem::offset_of!(MpmcHeader, tail) as u64,
    core::mem::offset_of!(MpmcHeader, head) as u64,
    core::mem::offset_of!(MpmcHeader, consumer_wait) as u64,
    core::mem::offset_of!(MpmcHeader, producer_wait) as u64,
    cells::CELL_HEADER as u64,
    super::cell::FORMAT,
]);

const _: () = assert!(core::mem::offset_of!(MpmcHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(MpmcHeader, geometry) == LINE);
const _: () = assert!(core::mem::offset_of!(MpmcHeader, tail) == 2 * LINE);
const _: () = assert!(core::mem::offset_of!(MpmcHeader, head) == 3 * LINE);
const _: () = assert!(core::mem::offset_of!(MpmcHeader, consumer_wait) == 4 * LINE);
const _: () = assert!(core::mem::offset_of!(MpmcHeader, producer_wait) == 5 * LINE);
const _: () = assert!(core::mem::size_of::<MpmcHeader>() == 6 * LINE);
#[cfg(not(ipcring_loom))]
mod abi_asserts {
    use super::*;
    use core::mem::offset_of;
    const _: () = assert!(offset_of!(GeometryLine, cells) == 0);
    const _: () = assert!(offset_of!(GeometryLine, stall_ns) == 32);
}
