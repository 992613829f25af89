//! The C types of broadcast topics: their options and their counters.

use crate::place::Place;
use crate::status::Result;
use crate::types::Wait;
use core::ffi::c_int;
use core::time::Duration;
use ipcring::broadcast;

/// Slots of a broadcast topic created with default options.
pub const IPCRING_BROADCAST_DEFAULT_CAPACITY: usize = 1024;
/// Slot size of a broadcast topic created with default options, in bytes.
pub const IPCRING_BROADCAST_DEFAULT_SLOT_SIZE: usize = 256;
/// Publisher slots, and subscriber slots, of a broadcast topic created with default
/// options.
pub const IPCRING_BROADCAST_DEFAULT_ROLE_SLOTS: usize = 16;

const _: () = {
    assert!(IPCRING_BROADCAST_DEFAULT_CAPACITY == broadcast::DEFAULT_CAPACITY);
    assert!(IPCRING_BROADCAST_DEFAULT_SLOT_SIZE == broadcast::DEFAULT_SLOT_SIZE);
    assert!(IPCRING_BROADCAST_DEFAULT_ROLE_SLOTS == broadcast::DEFAULT_ROLE_SLOTS);
};

/// Options for creating or opening a broadcast topic. Fill it with
/// `ipcring_broadcast_options_init`, then change what you need. The geometry, the mode,
/// `lossy`, `max_lag_ns` and `stall_timeout_ns` matter only when creating; `from_oldest`
/// only for a subscriber.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BroadcastOptions {
    /// Number of slots: the topic holds the last `capacity` messages. A power of two from
    /// 1 to `IPCRING_MPMC_MAX_SLOTS`.
    pub capacity: usize,
    /// Largest message, in bytes: from 1 to `IPCRING_MPMC_MAX_SLOT_SIZE`.
    pub slot_size: usize,
    /// How many publishers may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub publishers: usize,
    /// How many subscribers may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub max_subscribers: usize,
    /// Non-zero: a lossy topic (publishers never wait; a subscriber that falls a lap behind
    /// gets `IPCRING_ERR_LAGGED`). 0 (the default): publishers wait for the slowest live
    /// subscriber.
    pub lossy: c_int,
    /// Lossless topics: a live subscriber that keeps a publisher waiting this many
    /// nanoseconds is evicted (its next receive returns `IPCRING_ERR_EVICTED`); 0 (the
    /// default): never.
    pub max_lag_ns: u64,
    /// Subscribers pass a claim that a live publisher holds longer than this many
    /// nanoseconds (its commit then fails with `IPCRING_ERR_SKIPPED`); 0 (the default):
    /// they wait for a live publisher however long it takes.
    pub stall_timeout_ns: u64,
    /// Non-zero: a subscriber starts at the oldest message the topic holds; 0 (the
    /// default): at the next one published.
    pub from_oldest: c_int,
    /// Permission bits of a created topic: 0600 (the default) or 0600 with group bits
    /// (0660 lets the group in), exactly, whatever the umask. Bits for other users, or a
    /// mode without the owner's read and write, give `IPCRING_ERR_INVALID_ARGUMENT`.
    pub mode: u32,
    /// Non-zero: fault in every page when mapping.
    pub populate: c_int,
    /// How the handle's blocking calls wait.
    pub wait: Wait,
}

impl BroadcastOptions {
    pub(crate) fn builder(&self, place: &Place) -> Result<broadcast::Builder> {
        let b: broadcast::Builder = place.builder();
        let mut b = b
            .capacity(self.capacity)
            .slot_size(self.slot_size)
            .publishers(self.publishers)
            .max_subscribers(self.max_subscribers)
            .lossy(self.lossy != 0)
            .from_oldest(self.from_oldest != 0)
            .mode(self.mode)
            .populate(self.populate != 0)
            .wait_strategy(self.wait.strategy()?);
        if self.max_lag_ns != 0 {
            b = b.max_lag(Duration::from_nanos(self.max_lag_ns));
        }
        if self.stall_timeout_ns != 0 {
            b = b.stall_timeout(Duration::from_nanos(self.stall_timeout_ns));
        }
        Ok(b)
    }

    /// The options that `ipcring_broadcast_options_init` fills in.
    pub(crate) fn defaults() -> BroadcastOptions {
        BroadcastOptions {
            capacity: IPCRING_BROADCAST_DEFAULT_CAPACITY,
            slot_size: IPCRING_BROADCAST_DEFAULT_SLOT_SIZE,
            publishers: IPCRING_BROADCAST_DEFAULT_ROLE_SLOTS,
            max_subscribers: IPCRING_BROADCAST_DEFAULT_ROLE_SLOTS,
            lossy: 0,
            max_lag_ns: 0,
            stall_timeout_ns: 0,
            from_oldest: 0,
            mode: 0o600,
            populate: 0,
            wait: Wait::default_strategy(),
        }
    }
}

/// Counters of a broadcast topic, summed over its role slots, and its geometry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BroadcastStats {
    /// Messages committed by publishers.
    pub published: u64,
    /// Messages received, summed over the subscribers.
    pub received: u64,
    /// Messages that lossy subscribers lost to being overtaken, summed.
    pub missed: u64,
    /// Subscribers evicted (dead ones, and live ones past `max_lag_ns`).
    pub evicted: u64,
    /// `try_send` and `try_reserve` calls that found a lossless topic full.
    pub rejected: u64,
    /// Claims of dead or stalled publishers that were passed.
    pub skipped: u64,
    /// Lossless: the most messages between the oldest subscriber and the newest message a
    /// publisher saw; lossy: the messages the topic holds.
    pub high_water: u64,
    /// Futex wake calls made by publishers.
    pub publisher_wakeups: u64,
    /// Futex wake calls made by subscribers.
    pub subscriber_wakeups: u64,
    /// Number of slots.
    pub capacity: u64,
    /// Largest message, in bytes.
    pub slot_size: u64,
    /// Non-zero for a lossy topic.
    pub lossy: c_int,
    /// The calling subscriber's own counters (0 for a publisher): messages received, and
    /// lost to being overtaken.
    pub own_received: u64,
    /// See `own_received`.
    pub own_missed: u64,
}

impl BroadcastStats {
    pub(crate) fn new(s: broadcast::Stats, own: Option<broadcast::SubscriberStats>) -> Self {
        let own = own.unwrap_or_default();
        BroadcastStats {
            published: s.published,
            received: s.received,
            missed: s.missed,
            evicted: s.evicted,
            rejected: s.rejected,
            skipped: s.skipped,
            high_water: s.high_water,
            publisher_wakeups: s.publisher_wakeups,
            subscriber_wakeups: s.subscriber_wakeups,
            capacity: s.capacity,
            slot_size: s.slot_size,
            lossy: c_int::from(s.lossy),
            own_received: own.received,
            own_missed: own.missed,
        }
    }
}

/// Fills `*opts` with the default broadcast options: `IPCRING_BROADCAST_DEFAULT_CAPACITY`
/// slots of `IPCRING_BROADCAST_DEFAULT_SLOT_SIZE` bytes,
/// `IPCRING_BROADCAST_DEFAULT_ROLE_SLOTS` publishers and subscribers, lossless, no
/// `max_lag`, no stall timeout, subscribers at the next message, mode 0600, no populate,
/// the default spin-then-park wait.
///
/// Returns `IPCRING_OK`, or `IPCRING_ERR_NULL_POINTER` if `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `ipcring_broadcast_options_t`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_broadcast_options_init(opts: *mut BroadcastOptions) -> c_int {
    crate::guard(|| {
        let opts = crate::out(opts)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { opts.write(BroadcastOptions::defaults()) };
        Ok(())
    })
}
