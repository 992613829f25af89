//! What both kinds of event handle hold: the attachment, the counters, and the steps of
//! the protocol that touch shared memory.
//!
//! The protocol, with its orderings (each access names its pair):
//!
//! - SYNC(fire): a notifier adds one to its id's counter (Release); a listener's scan
//!   loads every counter (Acquire). So what a notifier wrote before `notify` is visible to
//!   a listener that saw the count move, whatever else it saw.
//! - SYNC(epoch): then the notifier adds one to the epoch (Release, a read-modify-write: the
//!   bumps of every notifier form one release sequence); a listener loads the epoch
//!   (Acquire) *before* it scans. A listener that read epoch `e` therefore sees in its scan
//!   every count whose epoch bump is in `e`; a count whose bump is not makes the epoch
//!   differ from `e` at a later look, which scans again. No count is missed, none is
//!   reported twice (a listener reports the difference to its private copy).
//! - SYNC(wait-announce) (`wait.rs`): the notifier then wakes the listeners' line, which
//!   costs a syscall only if a listener announced that it sleeps.
//! - SYNC(roster): an attach bumps the roster after the slot is held; a graceful detach
//!   clears its slot's flag (Release, `roles.rs`), then bumps the roster (Release) and
//!   wakes the listeners. A listener that loads a new roster (Acquire) reads the slots and
//!   sees that flag cleared.

use super::layout::{EventHeader, Geometry};
use crate::attachment::{Attachment, WaitLines};
use crate::bytes::Bytes;
use crate::error::OpenError;
use crate::layout::WaitLine;
use crate::region::Region;
use crate::role::Role;
use crate::sync::{AtomicU64, Ordering};
use core::ops::Deref;

impl WaitLines for EventHeader {
    /// Only listeners wait: both roles' line is theirs, so that a detach of either role
    /// (which wakes the other role's line) wakes the listeners, who report it.
    fn line(&self, _role: Role) -> &WaitLine {
        &self.listener_wait.0
    }
}

/// Writes the fresh state of a segment being created: every counter, and the epoch, at
/// `start` (a test hook; 0 otherwise).
pub(crate) fn init(region: &Region<EventHeader>, geo: &Geometry, start: u64) {
    let h = region.header();
    crate::wait::prepare(&h.listener_wait.0);
    // Relaxed: published with the rest of the segment by its READY store (or, on the heap,
    // by the spawn of the threads that use it).
    h.epoch.0.epoch.store(start, Ordering::Relaxed);
    let data = region.data();
    for id in 0..geo.ids {
        data.word(id * 8).store(start, Ordering::Relaxed);
    }
}

/// One handle's view of an event segment: its attachment (reached through `Deref`), the
/// counters, and private copies of the geometry.
#[derive(Debug)]
pub(crate) struct Events {
    /// Private copies, never re-read from shared memory.
    pub(crate) geo: Geometry,
    /// The counters: `geo.ids` words.
    data: Bytes,
    at: Attachment<EventHeader>,
}

// SAFETY: `data` points into the memory of the attachment's region, which moves with the
// handle; every access to it is atomic. Not `Sync`: a handle is used by one thread at a
// time (`&mut self` on every operation).
unsafe impl Send for Events {}

impl Deref for Events {
    type Target = Attachment<EventHeader>;
    fn deref(&self) -> &Attachment<EventHeader> {
        &self.at
    }
}

impl Events {
    /// Attaches `role` to the segment in `region`: takes a slot or fails with `RoleTaken`.
    pub(crate) fn attach(
        region: Region<EventHeader>,
        role: Role,
        geo: Geometry,
    ) -> Result<Events, OpenError> {
        let data = region.data();
        debug_assert!(data.len() >= geo.ids * 8);
        let at = Attachment::attach(region, geo.class(role), |_, _| {})?;
        // SYNC(roster): Release, pairs with the Acquire load in `roster`: a listener that
        // sees this bump sees our slot held.
        at.hdr().epoch.0.roster.fetch_add(1, Ordering::Release);
        Ok(Events { geo, data, at })
    }

    /// Makes a segment this handle created visible to openers.
    pub(crate) fn publish(&mut self) -> Result<(), OpenError> {
        self.at.publish::<super::layout::Event>()
    }

    /// The counter of `id`, which must be below `geo.ids` (checked by the callers, against
    /// the private copy: the data area holds that many counters).
    #[inline]
    pub(crate) fn counter(&self, id: usize) -> &AtomicU64 {
        debug_assert!(id < self.geo.ids);
        self.data.word(id * 8)
    }

    /// Fires `id` (below `geo.ids`) once: the count, then the epoch, then the wake-up.
    #[inline]
    pub(crate) fn fire(&self, id: usize) {
        // SYNC(fire): Release, pairs with the Acquire loads of the counters in a scan.
        self.counter(id).fetch_add(1, Ordering::Release);
        // SYNC(epoch): Release, pairs with the Acquire load in `epoch`; after the count,
        // so that a listener that sees this bump sees the count.
        self.hdr().epoch.0.epoch.fetch_add(1, Ordering::Release);
        self.at.wake(Role::Consumer);
    }

    /// The epoch, loaded before a scan.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        // SYNC(epoch): Acquire, pairs with the Release bumps in `fire`.
        self.hdr().epoch.0.epoch.load(Ordering::Acquire)
    }

    /// The roster, loaded before a listener reads the slots.
    #[inline]
    pub(crate) fn roster(&self) -> u64 {
        // SYNC(roster): Acquire, pairs with the Release bumps in `attach` and `detach`.
        self.hdr().epoch.0.roster.load(Ordering::Acquire)
    }

    /// Graceful detach: clears our slot's flag, then bumps the roster and wakes the
    /// listeners, who report the departure.
    pub(crate) fn detach(&self) {
        // Clears the flag (Release) and wakes the listeners' line unconditionally.
        self.at.detach();
        // SYNC(roster): Release, after the flag: a listener that sees this bump sees the
        // flag cleared. A listener that missed it and went to sleep announced itself first,
        // and the wake below (SYNC(wait-announce)) finds that announcement.
        self.hdr().epoch.0.roster.fetch_add(1, Ordering::Release);
        self.at.wake(Role::Consumer);
    }
}
