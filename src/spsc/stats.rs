//! The counters of an SPSC ring, as its handles report them.

use super::shared::Ring;
use crate::role::Role;
use crate::sync::Ordering;

/// Counters of a ring, read from its shared header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Messages committed by producers.
    pub sent: u64,
    /// Messages released by consumers.
    pub received: u64,
    /// `try_send` calls that found the ring full.
    pub rejected: u64,
    /// Futex wake calls made by producers (a busy pair makes none).
    pub producer_wakeups: u64,
    /// Futex wake calls made by consumers.
    pub consumer_wakeups: u64,
    /// Size of the data area in bytes.
    pub capacity: u64,
}

impl Stats {
    pub(crate) fn read(ring: &Ring) -> Stats {
        let p = ring.counters(Role::Producer);
        let c = ring.counters(Role::Consumer);
        // Relaxed: statistics, each counter on its own; no ordering between them matters.
        let r = |a: &crate::sync::AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            sent: r(&p.sent),
            received: r(&c.received),
            rejected: r(&p.rejected),
            producer_wakeups: r(&p.wakeups),
            consumer_wakeups: r(&c.wakeups),
            capacity: ring.capacity as u64,
        }
    }
}
