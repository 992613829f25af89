//! The C types of event segments (options, limits, counters) and the calls that notifiers
//! and listeners share: the number of ids, the counters.

use crate::event_listener::ListenerHandle;
use crate::event_notifier::NotifierHandle;
use crate::handle::{with_handle, Handle};
use crate::out;
use crate::place::Place;
use crate::status::{Result, Status};
use crate::types::Wait;
use core::ffi::{c_int, c_void};
use ipcring::event::{self, Builder};

/// Most event ids of a segment (ids are 0 to `ids - 1`).
pub const IPCRING_EVENT_MAX_IDS: usize = 4096;
/// Event ids of a segment created with default options.
pub const IPCRING_EVENT_DEFAULT_IDS: usize = 64;
/// Notifier slots, and listener slots, of a segment created with default options.
pub const IPCRING_EVENT_DEFAULT_ROLE_SLOTS: usize = 16;

const _: () = {
    assert!(IPCRING_EVENT_MAX_IDS == event::MAX_IDS);
    assert!(IPCRING_EVENT_DEFAULT_IDS == event::DEFAULT_IDS);
    assert!(IPCRING_EVENT_DEFAULT_ROLE_SLOTS == event::DEFAULT_ROLE_SLOTS);
    // The role slots are capped as those of MPMC queues (`IPCRING_MPMC_MAX_ROLE_SLOTS`).
    assert!(crate::types::IPCRING_MPMC_MAX_ROLE_SLOTS == event::MAX_ROLE_SLOTS);
};

/// Options for creating or opening an event segment. Fill it with
/// `ipcring_event_options_init`, then change what you need. The geometry (`ids`,
/// `notifiers`, `listeners`) and `mode` matter only when creating.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EventOptions {
    /// How many event ids: from 1 to `IPCRING_EVENT_MAX_IDS` (ids are 0 to `ids - 1`).
    pub ids: usize,
    /// How many notifiers may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub notifiers: usize,
    /// How many listeners may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub listeners: usize,
    /// Permission bits of a created segment: 0600 (the default) or 0600 with group bits
    /// (0660 lets the group in), exactly, whatever the umask. Bits for other users, or a
    /// mode without the owner's read and write, give `IPCRING_ERR_INVALID_ARGUMENT`.
    pub mode: u32,
    /// Non-zero: fault in every page when mapping.
    pub populate: c_int,
    /// How a listener's blocking calls (`ipcring_listener_wait`, `_wait_timeout`) wait. A
    /// notifier never waits, but its kind is checked all the same.
    pub wait: Wait,
}

impl EventOptions {
    /// The builder of these options.
    pub(crate) fn builder(&self, place: &Place) -> Result<Builder> {
        Ok(place
            .builder()
            .ids(self.ids)
            .notifiers(self.notifiers)
            .listeners(self.listeners)
            .mode(self.mode)
            .populate(self.populate != 0)
            .wait_strategy(self.wait.strategy()?))
    }

    /// The options that `ipcring_event_options_init` fills in.
    pub(crate) fn defaults() -> EventOptions {
        EventOptions {
            ids: IPCRING_EVENT_DEFAULT_IDS,
            notifiers: IPCRING_EVENT_DEFAULT_ROLE_SLOTS,
            listeners: IPCRING_EVENT_DEFAULT_ROLE_SLOTS,
            mode: 0o600,
            populate: 0,
            wait: Wait::default_strategy(),
        }
    }
}

/// Fills `*opts` with the default event options: `IPCRING_EVENT_DEFAULT_IDS` ids,
/// `IPCRING_EVENT_DEFAULT_ROLE_SLOTS` notifiers and listeners, mode 0600, no populate,
/// the default spin-then-park wait.
///
/// Returns `IPCRING_OK`, or `IPCRING_ERR_NULL_POINTER` if `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `ipcring_event_options_t`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_event_options_init(opts: *mut EventOptions) -> c_int {
    crate::guard(|| {
        let opts = out(opts)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { opts.write(EventOptions::defaults()) };
        Ok(())
    })
}

/// Counters of an event segment, read from its shared header: sums over the notifier and
/// listener slots, which carry them on from one holder to the next.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EventStats {
    /// Notifications sent by notifiers.
    pub sent: u64,
    /// Notifications reported by listeners, summed over the listeners (each listener
    /// reports every notification sent while it is attached).
    pub received: u64,
    /// Futex wake calls made by notifiers (none while no listener sleeps).
    pub wakeups: u64,
    /// Number of event ids.
    pub ids: u64,
}

impl From<event::Stats> for EventStats {
    fn from(s: event::Stats) -> EventStats {
        EventStats {
            sent: s.sent,
            received: s.received,
            wakeups: s.wakeups,
            ids: s.ids,
        }
    }
}

/// Either side of a segment, for the calls that both answer.
enum Side<'a> {
    Notifier(&'a event::Notifier),
    Listener(&'a event::Listener),
}

impl Side<'_> {
    fn ids(&self) -> usize {
        match self {
            Side::Notifier(n) => n.ids(),
            Side::Listener(l) => l.ids(),
        }
    }

    fn stats(&self) -> event::Stats {
        match self {
            Side::Notifier(n) => n.stats(),
            Side::Listener(l) => l.stats(),
        }
    }
}

/// Runs `f` on the notifier or listener behind `h`, as [`with_handle`] checks it: NULL or
/// a handle of neither kind gives `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `h` is NULL or a live handle of this library (a notifier or listener, else it is
/// refused on a best-effort basis, as a handle of the wrong kind is in every call) not
/// used by another thread during the call.
unsafe fn with_side(h: *mut c_void, f: impl FnOnce(Side<'_>) -> Result<()>) -> c_int {
    if h.is_null() {
        return Status::IPCRING_ERR_BAD_HANDLE as c_int;
    }
    // SAFETY: a live handle of this library per the contract: `repr(C)` with its tag, and
    // so its magic number, first.
    let magic = unsafe { h.cast::<u64>().read() };
    if magic == NotifierHandle::MAGIC {
        // SAFETY: a live notifier (its magic number says so), per the contract;
        // `with_handle` checks it again.
        unsafe {
            with_handle(h.cast::<NotifierHandle>(), |n| {
                f(Side::Notifier(&n.notifier))
            })
        }
    } else if magic == ListenerHandle::MAGIC {
        // SAFETY: a live listener, as above.
        unsafe {
            with_handle(h.cast::<ListenerHandle>(), |l| {
                f(Side::Listener(&l.listener))
            })
        }
    } else {
        Status::IPCRING_ERR_BAD_HANDLE as c_int
    }
}

/// Stores in `*ids` how many event ids the segment has (they are `0..ids`). `handle` is
/// an `ipcring_notifier_t *` or an `ipcring_listener_t *`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE` (NULL, or
/// neither a notifier nor a listener).
///
/// # Safety
/// `handle` is NULL or a live handle of this library not used by another thread during
/// the call; `ids` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_event_ids(handle: *mut c_void, ids: *mut usize) -> c_int {
    let get = |side: Side<'_>| {
        let ids = out(ids)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { ids.write(side.ids()) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_side(handle, get) }
}

/// Stores in `*stats` the counters of the segment. `handle` is an `ipcring_notifier_t *`
/// or an `ipcring_listener_t *`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_event_ids`; `stats` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_event_stats(handle: *mut c_void, stats: *mut EventStats) -> c_int {
    let get = |side: Side<'_>| {
        let stats = out(stats)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(side.stats().into()) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_side(handle, get) }
}
