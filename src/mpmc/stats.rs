//! The counters of an MPMC queue, summed over its role slots.

use super::queue::Queue;
use crate::layout::Counters;
use crate::role::Role;
use crate::sync::AtomicU64;

/// Counters of a queue, read from its shared header: sums over the producer and consumer
/// slots, which carry them on from one holder to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Messages committed by producers.
    pub sent: u64,
    /// Messages released by consumers (a redelivered message counts once per delivery).
    pub received: u64,
    /// `try_send` calls that found the queue full.
    pub rejected: u64,
    /// Claims of dead (or stalled) producers that were passed.
    pub skipped: u64,
    /// Messages of dead consumers that were delivered again.
    pub redelivered: u64,
    /// The most messages producers saw in the queue (sampled once every 1024 messages,
    /// and the capacity whenever one found it full).
    pub high_water: u64,
    /// Futex wake calls made by producers (a busy queue makes none).
    pub producer_wakeups: u64,
    /// Futex wake calls made by consumers.
    pub consumer_wakeups: u64,
    /// Number of slots (cells).
    pub capacity: u64,
    /// Largest message, in bytes.
    pub slot_size: u64,
}

impl Stats {
    pub(crate) fn read(q: &Queue) -> Stats {
        let slots = q.slots();
        let producers = q.geo.class(Role::Producer);
        let consumers = q.geo.class(Role::Consumer);
        let both = |field: fn(&Counters) -> &AtomicU64| {
            slots
                .total(producers, field)
                .wrapping_add(slots.total(consumers, field))
        };
        Stats {
            sent: slots.total(producers, |c| &c.sent),
            received: slots.total(consumers, |c| &c.received),
            rejected: slots.total(producers, |c| &c.rejected),
            skipped: both(|c| &c.skipped),
            redelivered: both(|c| &c.redelivered),
            high_water: slots.most(producers, |c| &c.high_water),
            producer_wakeups: slots.total(producers, |c| &c.wakeups),
            consumer_wakeups: slots.total(consumers, |c| &c.wakeups),
            capacity: q.geo.cells.capacity as u64,
            slot_size: q.geo.cells.slot_size as u64,
        }
    }
}
