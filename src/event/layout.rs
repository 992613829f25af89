//! The shared layout of an event segment, its geometry and its validation.
//!
//! ```text
//! line 0       identity
//! line 1       geometry: ids, notifier slots, listener slots
//! line 2       epoch: notifications so far (every notify adds one); roster: attaches and
//!              graceful detaches so far (either role)
//! line 3       the listeners' wait line (the only one: notifiers never wait)
//! line 4...    role slots, 2 lines each: the notifiers', then the listeners'
//! then         data area: one u64 counter per id (how many times it fired), padded to
//!              whole lines
//! ```

use crate::cells::{Flaw, MAX_ROLE_SLOTS};
use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, Line, WaitLine, LINE};
use crate::role::Role;
use crate::roles::Class;
use crate::segment::Spec;
use crate::sync::{AtomicU64, Ordering};

/// Most event ids a segment can have.
pub const MAX_IDS: usize = 4096;

/// Line 1: the geometry, written by the creator before READY.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct GeometryLine {
    pub(crate) ids: AtomicU64,
    pub(crate) notifiers: AtomicU64,
    pub(crate) listeners: AtomicU64,
}

/// Line 2: what listeners look at first, on every look.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct EpochLine {
    /// Bumped by every notify, after its id's counter: a listener that finds it where it
    /// left it has nothing to scan.
    pub(crate) epoch: AtomicU64,
    /// Bumped by every attach, and by every graceful detach after the slot's flag is
    /// cleared: a listener that finds it where it left it has no slot flags to read.
    pub(crate) roster: AtomicU64,
}

/// Everything of an event segment before its role slots.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct EventHeader {
    pub(crate) identity: Line<Identity>,
    pub(crate) geometry: Line<GeometryLine>,
    pub(crate) epoch: Line<EpochLine>,
    pub(crate) listener_wait: Line<WaitLine>,
}

/// Private copies of an event segment's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) ids: usize,
    pub(crate) notifiers: usize,
    pub(crate) listeners: usize,
}

impl Geometry {
    /// The slots of a role: the notifiers' (as producers) first, then the listeners' (as
    /// consumers).
    pub(crate) fn class(&self, role: Role) -> Class {
        Class::of(role, self.notifiers, self.listeners)
    }

    /// Role slots of both roles.
    pub(crate) fn slots(&self) -> usize {
        self.notifiers + self.listeners
    }

    /// Checks a geometry asked for by a user.
    pub(crate) fn check(self) -> Result<Geometry, OpenError> {
        self.flaw().map_or(Ok(self), |f| Err(f.invalid()))
    }

    /// What is wrong with this geometry, if anything.
    fn flaw(&self) -> Option<Flaw> {
        let out = |what, value: usize, max: usize, reason| {
            (value == 0 || value > max).then(|| Flaw {
                what,
                value: value as u64,
                reason,
                nearest: value.clamp(1, max) as u64,
            })
        };
        out("ids", self.ids, MAX_IDS, "from 1 to 4096 event ids")
            .or_else(|| {
                out(
                    "notifiers",
                    self.notifiers,
                    MAX_ROLE_SLOTS,
                    "from 1 to 64 role slots",
                )
            })
            .or_else(|| {
                out(
                    "listeners",
                    self.listeners,
                    MAX_ROLE_SLOTS,
                    "from 1 to 64 role slots",
                )
            })
    }
}

/// Bytes of the data area of `ids` counters: whole lines.
pub(crate) fn data_len(ids: usize) -> usize {
    (ids * 8).next_multiple_of(LINE)
}

/// The event kind, as the segment module sees it.
#[derive(Debug)]
pub(crate) struct Event;

impl Spec for Event {
    type Header = EventHeader;
    type Geometry = Geometry;
    const KIND: Kind = Kind::Event;
    const LAYOUT_HASH: u64 = LAYOUT_HASH;

    fn identity(h: &EventHeader) -> &Identity {
        &h.identity.0
    }

    fn slots(g: &Geometry) -> usize {
        g.slots()
    }

    fn data_len(g: &Geometry) -> usize {
        data_len(g.ids)
    }

    fn store(h: &EventHeader, g: &Geometry) {
        let geo = &h.geometry.0;
        // Relaxed: published by the segment's READY store.
        geo.ids.store(g.ids as u64, Ordering::Relaxed);
        geo.notifiers.store(g.notifiers as u64, Ordering::Relaxed);
        geo.listeners.store(g.listeners as u64, Ordering::Relaxed);
    }

    fn load(h: &EventHeader) -> Result<Geometry, OpenError> {
        let geo = &h.geometry.0;
        // Relaxed: ordered after the Acquire of READY; the values are validated here.
        let get = |a: &AtomicU64| usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let g = Geometry {
            ids: get(&geo.ids),
            notifiers: get(&geo.notifiers),
            listeners: get(&geo.listeners),
        };
        g.flaw().map_or(Ok(g), |f| Err(f.corrupt()))
    }
}

/// The hash of this layout, with the core's.
const LAYOUT_HASH: u64 = layout::hash(&[
    layout::CORE_HASH,
    Kind::Event as u64,
    core::mem::size_of::<EventHeader>() as u64,
    core::mem::offset_of!(EventHeader, geometry) as u64,
    core::mem::offset_of!(GeometryLine, notifiers) as u64,
    core::mem::offset_of!(GeometryLine, listeners) as u64,
    core::mem::offset_of!(EventHeader, epoch) as u64,
    core::mem::offset_of!(EpochLine, roster) as u64,
    core::mem::offset_of!(EventHeader, listener_wait) as u64,
    // One u64 counter per id.
    8,
]);

const _: () = assert!(core::mem::offset_of!(EventHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(EventHeader, geometry) == LINE);
const _: () = assert!(core::mem::offset_of!(EventHeader, epoch) == 2 * LINE);
const _: () = assert!(core::mem::offset_of!(EventHeader, listener_wait) == 3 * LINE);
const _: () = assert!(core::mem::size_of::<EventHeader>() == 4 * LINE);
const _: () = assert!(MAX_IDS * 8 % LINE == 0);
#[cfg(not(ipcring_loom))]
mod abi_asserts {
    use super::*;
    use core::mem::{offset_of, size_of};
    const _: () = assert!(offset_of!(GeometryLine, ids) == 0);
    const _: () = assert!(offset_of!(GeometryLine, notifiers) == 8);
    const _: () = assert!(offset_of!(GeometryLine, listeners) == 16);
    const _: () = assert!(size_of::<GeometryLine>() == 24);
    const _: () = assert!(offset_of!(EpochLine, epoch) == 0);
    const _: () = assert!(offset_of!(EpochLine, roster) == 8);
    const _: () = assert!(size_of::<EpochLine>() == 16);
}

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_data_area_is_whole_lines_of_counters() {
        assert_eq!(data_len(1), LINE);
        assert_eq!(data_len(16), LINE);
        assert_eq!(data_len(17), 2 * LINE);
        assert_eq!(data_len(MAX_IDS), MAX_IDS * 8);
    }

    #[test]
    fn geometry_out_of_range_is_refused_with_its_name() {
        let ok = Geometry {
            ids: 1,
            notifiers: 1,
            listeners: 64,
        };
        assert!(ok.check().is_ok());
        for (g, what) in [
            (Geometry { ids: 0, ..ok }, "ids"),
            (Geometry { ids: 4097, ..ok }, "ids"),
            (Geometry { notifiers: 0, ..ok }, "notifiers"),
            (
                Geometry {
                    listeners: 65,
                    ..ok
                },
                "listeners",
            ),
        ] {
            match g.check() {
                Err(OpenError::InvalidGeometry { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{g:?}: {other:?}"),
            }
        }
    }
}
