//! The counters of an event segment, summed over its role slots.

use super::shared::Events;
use crate::role::Role;
use crate::sync::Ordering;

/// Counters of an event segment, read from its shared header: sums over the notifier and
/// listener slots, which carry them on from one holder to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Notifications sent by notifiers.
    pub sent: u64,
    /// Notifications reported by listeners, summed over the listeners (each listener
    /// reports every notification sent while it is attached).
    pub received: u64,
    /// Futex wake calls made by notifiers (none while no listener sleeps).
    pub wakeups: u64,
    /// Notifications so far: the epoch (from where a test hook started it).
    pub epoch: u64,
    /// Number of event ids.
    pub ids: u64,
}

impl Stats {
    pub(crate) fn read(ev: &Events) -> Stats {
        let slots = ev.slots();
        let notifiers = ev.geo.class(Role::Producer);
        let listeners = ev.geo.class(Role::Consumer);
        Stats {
            sent: slots.total(notifiers, |c| &c.sent),
            received: slots.total(listeners, |c| &c.received),
            wakeups: slots.total(notifiers, |c| &c.wakeups),
            // Relaxed: a report.
            epoch: ev.hdr().epoch.0.epoch.load(Ordering::Relaxed),
            ids: ev.geo.ids as u64,
        }
    }
}
