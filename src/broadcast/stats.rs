//! The counters of a broadcast topic, summed over its role slots, and each subscriber's.

use super::topic::Topic;
use crate::role::Role;
use crate::sync::Ordering;

/// Counters of a topic, read from its shared header: sums over the publisher and
/// subscriber slots, which carry them on from one holder to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Messages committed by publishers.
    pub published: u64,
    /// Messages received, summed over the subscribers (each message counts once per
    /// subscriber that received it).
    pub received: u64,
    /// Messages that lossy subscribers lost to being overtaken, summed.
    pub missed: u64,
    /// Subscribers evicted by publishers (dead ones, and live ones past `max_lag`).
    pub evicted: u64,
    /// `try_send` calls that found a lossless topic full.
    pub rejected: u64,
    /// Claims of dead publishers that were passed.
    pub skipped: u64,
    /// The most messages between the oldest subscriber and the newest message that a
    /// publisher of a lossless topic saw (looked at whenever its room ran out); for a
    /// lossy topic, the messages it holds.
    pub high_water: u64,
    /// Futex wake calls made by publishers (a busy topic makes none).
    pub publisher_wakeups: u64,
    /// Futex wake calls made by subscribers.
    pub subscriber_wakeups: u64,
    /// Number of slots (cells): the messages the topic holds.
    pub capacity: u64,
    /// Largest message, in bytes.
    pub slot_size: u64,
    /// Whether publishers overwrite the oldest messages rather than wait.
    pub lossy: bool,
}

/// One subscriber's counters, those of its role slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// Messages received.
    pub received: u64,
    /// Messages lost to being overtaken (lossy topics).
    pub missed: u64,
    /// Times a holder of the slot was evicted and joined again.
    pub evicted: u64,
}

impl Stats {
    pub(crate) fn read(t: &Topic) -> Stats {
        let slots = t.slots();
        let publishers = t.geo.class(Role::Producer);
        let subscribers = t.geo.class(Role::Consumer);
        let high_water = if t.geo.lossy {
            // Relaxed: statistics.
            let written = t.tail().load(Ordering::Relaxed).wrapping_sub(t.geo.start);
            written.min(t.geo.cells.capacity as u64)
        } else {
            slots.most(publishers, |c| &c.high_water)
        };
        Stats {
            published: slots.total(publishers, |c| &c.sent),
            received: slots.total(subscribers, |c| &c.received),
            missed: slots.total(subscribers, |c| &c.missed),
            evicted: slots.total(publishers, |c| &c.evicted),
            rejected: slots.total(publishers, |c| &c.rejected),
            skipped: slots
                .total(publishers, |c| &c.skipped)
                .wrapping_add(slots.total(subscribers, |c| &c.skipped)),
            high_water,
            publisher_wakeups: slots.total(publishers, |c| &c.wakeups),
            subscriber_wakeups: slots.total(subscribers, |c| &c.wakeups),
            capacity: t.geo.cells.capacity as u64,
            slot_size: t.geo.cells.slot_size as u64,
            lossy: t.geo.lossy,
        }
    }
}
