//! The shared layout of a broadcast segment, its geometry and its validation.
//!
//! ```text
//! line 0       identity
//! line 1       geometry: cells, slot size, publisher and subscriber slot counts, lossy,
//!              max lag, first position, stall timeout
//! line 2       tail: the next position publishers claim (see `topic.rs`)
//! line 3       the subscribers' wait line (they sleep there when nothing new is published)
//! line 4       the publishers' wait line (they sleep there when a lossless topic is full)
//! line 5...    role slots, 2 lines each: the publishers' (`mark`: the position the holder
//!              claims), then the subscribers' (`mark`: the cursor, the next position the
//!              holder reads)
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

/// Line 1: the geometry, written by the creator before READY.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct GeometryLine {
    /// Cells, their size, publisher and subscriber slots.
    pub(crate) cells: ShapeWords,
    /// 1: publishers overwrite the oldest messages; 0: they wait for the slowest
    /// subscriber.
    pub(crate) lossy: AtomicU64,
    /// Lossless topics: how long a live subscriber may keep publishers waiting before it
    /// is evicted, in nanoseconds; 0 for ever.
    pub(crate) max_lag_ns: AtomicU64,
    /// The first position of the topic (where subscribers that join at the oldest
    /// retained message start while the topic has not yet filled a lap).
    pub(crate) start: AtomicU64,
    /// How long subscribers wait for a live publisher's commit before they pass its claim,
    /// in nanoseconds; 0 for ever.
    pub(crate) stall_ns: AtomicU64,
}

/// Everything of a broadcast segment before its role slots.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct BroadcastHeader {
    pub(crate) identity: Line<Identity>,
    pub(crate) geometry: Line<GeometryLine>,
    pub(crate) tail: Line<Position>,
    pub(crate) subscriber_wait: Line<WaitLine>,
    pub(crate) publisher_wait: Line<WaitLine>,
}

/// Private copies of a topic's geometry (the cells' producers are publishers, their
/// consumers subscribers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) cells: Shape,
    pub(crate) lossy: bool,
    pub(crate) max_lag: Option<Duration>,
    pub(crate) start: u64,
    pub(crate) stall: Option<Duration>,
}

impl Geometry {
    /// The slots of a role: publishers are producers, subscribers consumers.
    pub(crate) fn class(&self, role: Role) -> Class {
        self.cells.class(role)
    }

    /// Checks a geometry asked for by a user.
    pub(crate) fn check(self) -> Result<Geometry, OpenError> {
        self.flaw().map_or(Ok(self), |f| Err(f.invalid()))
    }

    /// What is wrong with this geometry, if anything.
    fn flaw(&self) -> Option<Flaw> {
        self.cells.flaw(["publishers", "subscribers"])
    }
}

/// The broadcast kind, as the segment module sees it.
#[derive(Debug)]
pub(crate) struct Broadcast;

impl Spec for Broadcast {
    type Header = BroadcastHeader;
    type Geometry = Geometry;
    const KIND: Kind = Kind::Broadcast;
    const LAYOUT_HASH: u64 = LAYOUT_HASH;

    fn identity(h: &BroadcastHeader) -> &Identity {
        &h.identity.0
    }

    fn slots(g: &Geometry) -> usize {
        g.cells.slots()
    }

    fn data_len(g: &Geometry) -> usize {
        g.cells.data_len()
    }

    fn store(h: &BroadcastHeader, g: &Geometry) {
        let geo = &h.geometry.0;
        g.cells.store(&geo.cells);
        // Relaxed: published by the segment's READY store.
        geo.lossy.store(u64::from(g.lossy), Ordering::Relaxed);
        geo.max_lag_ns.store(nanos(g.max_lag), Ordering::Relaxed);
        geo.start.store(g.start, Ordering::Relaxed);
        geo.stall_ns.store(nanos(g.stall), Ordering::Relaxed);
    }

    fn load(h: &BroadcastHeader) -> Result<Geometry, OpenError> {
        let geo = &h.geometry.0;
        // Relaxed: ordered after the Acquire of READY; the values are validated here.
        let lossy = geo.lossy.load(Ordering::Relaxed);
        if lossy > 1 {
            return Err(OpenError::BadGeometry {
                what: "lossy",
                found: lossy,
                expected: 0,
            });
        }
        let g = Geometry {
            cells: Shape::load(&geo.cells),
            lossy: lossy == 1,
            max_lag: duration(&geo.max_lag_ns),
            start: geo.start.load(Ordering::Relaxed),
            stall: duration(&geo.stall_ns),
        };
        g.flaw().map_or(Ok(g), |f| Err(f.corrupt()))
    }
}

/// A duration as stored: nanoseconds, at least 1; 0 for none.
fn nanos(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| d.as_nanos().clamp(1, u64::MAX as u128) as u64)
}

/// A stored duration (see [`nanos`]).
fn duration(ns: &AtomicU64) -> Option<Duration> {
    // Relaxed: ordered after the Acquire of READY.
    let ns = ns.load(Ordering::Relaxed);
    (ns != 0).then(|| Duration::from_nanos(ns))
}

/// The hash of this layout, with the core's and the cell format's.
const LAYOUT_HASH: u64 = layout::hash(&[
    layout::CORE_HASH,
    Kind::Broadcast as u64,
    core::mem::size_of::<BroadcastHeader>() as u64,
    core::mem::offset_of!(BroadcastHeader, geometry) as u64,
    core::mem::offset_of!(GeometryLine, stall_ns) as u64,
    core::mem::offset_of!(BroadcastHeader, tail) as u64,
    core::mem::offset_of!(BroadcastHeader, subscriber_wait) as u64,
    core::mem::offset_of!(BroadcastHeader, publisher_wait) as u64,
    cells::CELL_HEADER as u64,
    super::cell::FORMAT,
]);

const _: () = assert!(core::mem::offset_of!(BroadcastHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(BroadcastHeader, geometry) == LINE);
const _: () = assert!(core::mem::offset_of!(BroadcastHeader, tail) == 2 * LINE);
const _: () = assert!(core::mem::offset_of!(BroadcastHeader, subscriber_wait) == 3 * LINE);
const _: () = assert!(core::mem::offset_of!(BroadcastHeader, publisher_wait) == 4 * LINE);
const _: () = assert!(core::mem::size_of::<BroadcastHeader>() == 5 * LINE);
#[cfg(not(ipcring_loom))]
mod abi_asserts {
    use super::*;
    use core::mem::offset_of;
    const _: () = assert!(offset_of!(GeometryLine, cells) == 0);
    const _: () = assert!(offset_of!(GeometryLine, lossy) == 32);
    const _: () = assert!(offset_of!(GeometryLine, max_lag_ns) == 40);
    const _: () = assert!(offset_of!(GeometryLine, start) == 48);
    const _: () = assert!(offset_of!(GeometryLine, stall_ns) == 56);
}
