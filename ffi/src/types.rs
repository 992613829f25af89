//! Plain data crossing the boundary: options, wait strategies, statistics, versions, of
//! SPSC rings and MPMC queues.

use crate::place::Place;
use crate::status::{Result, Status};
use core::ffi::c_int;
use core::time::Duration;
use ipcring::spsc::{self, Builder};
use ipcring::{mpmc, WaitStrategy};

/// Major version of this library (semantic versioning).
pub const IPCRING_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const IPCRING_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const IPCRING_VERSION_PATCH: u32 = 0;
/// ABI major version of the shared ring layout: processes can share a ring only when
/// they agree on it.
pub const IPCRING_ABI_MAJOR: u32 = 2;
/// ABI minor version of the shared ring layout (compatible changes only).
pub const IPCRING_ABI_MINOR: u32 = 3;
/// Smallest ring capacity, in bytes.
pub const IPCRING_MIN_CAPACITY: usize = 64;
/// Largest ring capacity, in bytes (2 GiB).
pub const IPCRING_MAX_CAPACITY: usize = 0x8000_0000;
/// Capacity of a ring created with default options (1 MiB).
pub const IPCRING_DEFAULT_CAPACITY: usize = 0x10_0000;
/// Longest ring name, in bytes.
pub const IPCRING_MAX_NAME_LEN: usize = 247;
/// Most slots of an MPMC queue (2^24).
pub const IPCRING_MPMC_MAX_SLOTS: usize = 0x100_0000;
/// Largest slot of an MPMC queue, in bytes (256 MiB): its largest message.
pub const IPCRING_MPMC_MAX_SLOT_SIZE: usize = 0x1000_0000;
/// Most producers, and most consumers, attached to one MPMC queue at once.
pub const IPCRING_MPMC_MAX_ROLE_SLOTS: usize = 64;
/// Slots of an MPMC queue created with default options.
pub const IPCRING_MPMC_DEFAULT_CAPACITY: usize = 1024;
/// Slot size of an MPMC queue created with default options, in bytes.
pub const IPCRING_MPMC_DEFAULT_SLOT_SIZE: usize = 256;
/// Producer slots, and consumer slots, of an MPMC queue created with default options.
pub const IPCRING_MPMC_DEFAULT_ROLE_SLOTS: usize = 16;

const _: () = {
    assert!(IPCRING_ABI_MAJOR == ipcring::ABI_MAJOR);
    assert!(IPCRING_ABI_MINOR == ipcring::ABI_MINOR);
    assert!(IPCRING_MIN_CAPACITY == spsc::MIN_CAPACITY);
    assert!(IPCRING_MAX_CAPACITY == spsc::MAX_CAPACITY);
    assert!(IPCRING_DEFAULT_CAPACITY == spsc::DEFAULT_CAPACITY);
    assert!(IPCRING_MAX_NAME_LEN == ipcring::MAX_NAME_LEN);
    assert!(IPCRING_MPMC_MAX_SLOTS == mpmc::MAX_SLOTS_PER_QUEUE);
    assert!(IPCRING_MPMC_MAX_SLOT_SIZE == mpmc::MAX_SLOT_SIZE);
    assert!(IPCRING_MPMC_MAX_ROLE_SLOTS == mpmc::MAX_ROLE_SLOTS);
    assert!(IPCRING_MPMC_DEFAULT_CAPACITY == mpmc::DEFAULT_CAPACITY);
    assert!(IPCRING_MPMC_DEFAULT_SLOT_SIZE == mpmc::DEFAULT_SLOT_SIZE);
    assert!(IPCRING_MPMC_DEFAULT_ROLE_SLOTS == mpmc::DEFAULT_ROLE_SLOTS);
};

/// The values of `ipcring_wait_t.kind`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum WaitKind {
    /// Spin `spins` times, yield `yields` times, then sleep on a futex (the default).
    IPCRING_WAIT_SPIN_THEN_PARK = 0,
    /// Spin until ready: the lowest latency, one CPU kept busy while waiting.
    IPCRING_WAIT_BUSY_SPIN = 1,
    /// Sleep on a futex at once: no CPU burnt, a wake-up system call per message.
    IPCRING_WAIT_PARK = 2,
}

/// How a handle's blocking calls wait while the ring is full (send, reserve) or empty
/// (recv, read).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// One of the `ipcring_wait_kind_t` values; others give `IPCRING_ERR_INVALID_ARGUMENT`.
    pub kind: u32,
    /// With `IPCRING_WAIT_SPIN_THEN_PARK`: busy iterations before yielding.
    pub spins: u32,
    /// With `IPCRING_WAIT_SPIN_THEN_PARK`: `sched_yield` calls before sleeping.
    pub yields: u32,
}

impl Wait {
    pub(crate) fn strategy(&self) -> Result<WaitStrategy> {
        match self.kind {
            k if k == WaitKind::IPCRING_WAIT_SPIN_THEN_PARK as u32 => {
                Ok(WaitStrategy::SpinThenPark {
                    spins: self.spins,
                    yields: self.yields,
                })
            }
            k if k == WaitKind::IPCRING_WAIT_BUSY_SPIN as u32 => Ok(WaitStrategy::BusySpin),
            k if k == WaitKind::IPCRING_WAIT_PARK as u32 => Ok(WaitStrategy::Park),
            _ => Err(Status::IPCRING_ERR_INVALID_ARGUMENT),
        }
    }

    pub(crate) fn default_strategy() -> Wait {
        match WaitStrategy::default() {
            WaitStrategy::SpinThenPark { spins, yields } => Wait {
                kind: WaitKind::IPCRING_WAIT_SPIN_THEN_PARK as u32,
                spins,
                yields,
            },
            WaitStrategy::BusySpin => Wait {
                kind: WaitKind::IPCRING_WAIT_BUSY_SPIN as u32,
                spins: 0,
                yields: 0,
            },
            _ => Wait {
                kind: WaitKind::IPCRING_WAIT_PARK as u32,
                spins: 0,
                yields: 0,
            },
        }
    }
}

/// Options for creating or opening a ring. Fill it with `ipcring_options_init`, then
/// change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Size of the data area in bytes, when creating: a power of two from
    /// `IPCRING_MIN_CAPACITY` to `IPCRING_MAX_CAPACITY`. Messages may be up to a quarter
    /// of it. Ignored when opening an existing ring.
    pub capacity: usize,
    /// Permission bits of a created ring: 0600 (the default) or 0600 with group bits
    /// (0660 lets the group in), exactly, whatever the umask. Bits for other users, or a
    /// mode without the owner's read and write, give `IPCRING_ERR_INVALID_ARGUMENT`.
    /// Ignored when opening.
    pub mode: u32,
    /// Non-zero: fault in every page when mapping, so the first messages take no page
    /// faults.
    pub populate: c_int,
    /// How the handle's blocking calls wait.
    pub wait: Wait,
}

impl Options {
    pub(crate) fn builder(&self, place: &Place) -> Result<Builder> {
        let b: Builder = place.builder();
        Ok(b.capacity(self.capacity)
            .mode(self.mode)
            .populate(self.populate != 0)
            .wait_strategy(self.wait.strategy()?))
    }

    /// The options that `ipcring_options_init` fills in.
    pub(crate) fn defaults() -> Options {
        Options {
            capacity: IPCRING_DEFAULT_CAPACITY,
            mode: 0o600,
            populate: 0,
            wait: Wait::default_strategy(),
        }
    }
}

/// Counters of a ring, read from its shared header, and its geometry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Messages committed by producers.
    pub sent: u64,
    /// Messages released by consumers.
    pub received: u64,
    /// `try_send` and `try_reserve` calls that found the ring full.
    pub rejected: u64,
    /// Futex wake calls made by producers (a busy pair makes none).
    pub producer_wakeups: u64,
    /// Futex wake calls made by consumers.
    pub consumer_wakeups: u64,
    /// Size of the data area in bytes.
    pub capacity: u64,
    /// Largest message the ring accepts, in bytes.
    pub max_message: u64,
}

impl Stats {
    pub(crate) fn new(s: spsc::Stats, max_message: usize) -> Stats {
        Stats {
            sent: s.sent,
            received: s.received,
            rejected: s.rejected,
            producer_wakeups: s.producer_wakeups,
            consumer_wakeups: s.consumer_wakeups,
            capacity: s.capacity,
            max_message: max_message as u64,
        }
    }
}

/// Options for creating or opening an MPMC queue. Fill it with
/// `ipcring_mpmc_options_init`, then change what you need. The geometry (the first five
/// fields) and the mode matter only when creating.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpmcOptions {
    /// Number of slots, each holding one message: a power of two from 1 to
    /// `IPCRING_MPMC_MAX_SLOTS`.
    pub capacity: usize,
    /// Largest message, in bytes: from 1 to `IPCRING_MPMC_MAX_SLOT_SIZE`. Each slot takes
    /// this much (rounded up to 8) plus 16 bytes.
    pub slot_size: usize,
    /// How many producers may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub producers: usize,
    /// How many consumers may be attached at once: 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    pub consumers: usize,
    /// 0 (the default): consumers wait for a live producer's commit however long it takes,
    /// and pass only the reservations of producers that died. Otherwise they also pass a
    /// reservation that a live producer holds longer than this many nanoseconds; its
    /// commit then fails with `IPCRING_ERR_SKIPPED`.
    pub stall_timeout_ns: u64,
    /// Permission bits of a created queue: 0600 (the default) or 0600 with group bits
    /// (0660 lets the group in), exactly, whatever the umask. Bits for other users, or a
    /// mode without the owner's read and write, give `IPCRING_ERR_INVALID_ARGUMENT`.
    pub mode: u32,
    /// Non-zero: fault in every page when mapping, so the first messages take no page
    /// faults.
    pub populate: c_int,
    /// How the handle's blocking calls wait.
    pub wait: Wait,
}

impl MpmcOptions {
    pub(crate) fn builder(&self, place: &Place) -> Result<mpmc::Builder> {
        let b: mpmc::Builder = place.builder();
        let b = b
            .capacity(self.capacity)
            .slot_size(self.slot_size)
            .producers(self.producers)
            .consumers(self.consumers)
            .mode(self.mode)
            .populate(self.populate != 0)
            .wait_strategy(self.wait.strategy()?);
        Ok(match self.stall_timeout_ns {
            0 => b,
            ns => b.stall_timeout(Duration::from_nanos(ns)),
        })
    }

    /// The options that `ipcring_mpmc_options_init` fills in.
    pub(crate) fn defaults() -> MpmcOptions {
        MpmcOptions {
            capacity: IPCRING_MPMC_DEFAULT_CAPACITY,
            slot_size: IPCRING_MPMC_DEFAULT_SLOT_SIZE,
            producers: IPCRING_MPMC_DEFAULT_ROLE_SLOTS,
            consumers: IPCRING_MPMC_DEFAULT_ROLE_SLOTS,
            stall_timeout_ns: 0,
            mode: 0o600,
            populate: 0,
            wait: Wait::default_strategy(),
        }
    }
}

/// Counters of an MPMC queue, summed over its producer and consumer slots, and its
/// geometry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpmcStats {
    /// Messages committed by producers.
    pub sent: u64,
    /// Messages released by consumers (a message delivered again counts once per delivery).
    pub received: u64,
    /// `try_send` and `try_reserve` calls that found the queue full.
    pub rejected: u64,
    /// Reservations of dead (or stalled) producers that consumers passed.
    pub skipped: u64,
    /// Messages of dead consumers that were delivered again.
    pub redelivered: u64,
    /// The most messages producers saw in the queue (sampled every 64 reservations of each
    /// producer, and the capacity whenever one found it full).
    pub high_water: u64,
    /// Futex wake calls made by producers (a busy queue makes none).
    pub producer_wakeups: u64,
    /// Futex wake calls made by consumers.
    pub consumer_wakeups: u64,
    /// Number of slots.
    pub capacity: u64,
    /// Largest message, in bytes.
    pub slot_size: u64,
}

impl From<mpmc::Stats> for MpmcStats {
    fn from(s: mpmc::Stats) -> MpmcStats {
        MpmcStats {
            sent: s.sent,
            received: s.received,
            rejected: s.rejected,
            skipped: s.skipped,
            redelivered: s.redelivered,
            high_water: s.high_water,
            producer_wakeups: s.producer_wakeups,
            consumer_wakeups: s.consumer_wakeups,
            capacity: s.capacity,
            slot_size: s.slot_size,
        }
    }
}

/// Versions of the library and of the shared ring layout.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// `IPCRING_VERSION_MAJOR` of the library that runs.
    pub major: u32,
    /// `IPCRING_VERSION_MINOR` of the library that runs.
    pub minor: u32,
    /// `IPCRING_VERSION_PATCH` of the library that runs.
    pub patch: u32,
    /// `IPCRING_ABI_MAJOR` of the library that runs.
    pub abi_major: u32,
    /// `IPCRING_ABI_MINOR` of the library that runs.
    pub abi_minor: u32,
}

/// Fills `*opts` with the default options: capacity `IPCRING_DEFAULT_CAPACITY`, mode
/// 0600, no populate, the default spin-then-park wait.
///
/// Returns `IPCRING_OK`, or `IPCRING_ERR_NULL_POINTER` if `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `ipcring_options_t`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_options_init(opts: *mut Options) -> c_int {
    crate::guard(|| {
        let opts = crate::out(opts)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { opts.write(Options::defaults()) };
        Ok(())
    })
}

/// Fills `*opts` with the default MPMC options: `IPCRING_MPMC_DEFAULT_CAPACITY` slots of
/// `IPCRING_MPMC_DEFAULT_SLOT_SIZE` bytes, `IPCRING_MPMC_DEFAULT_ROLE_SLOTS` producers and
/// consumers, no stall timeout, mode 0600, no populate, the default spin-then-park wait.
///
/// Returns `IPCRING_OK`, or `IPCRING_ERR_NULL_POINTER` if `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `ipcring_mpmc_options_t`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_options_init(opts: *mut MpmcOptions) -> c_int {
    crate::guard(|| {
        let opts = crate::out(opts)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { opts.write(MpmcOptions::defaults()) };
        Ok(())
    })
}

/// The versions of the library that runs, to compare with the `IPCRING_VERSION_*` and
/// `IPCRING_ABI_*` constants of the header a program was compiled with.
///
/// # Safety
/// None. Thread-safe.
#[no_mangle]
pub extern "C" fn ipcring_version() -> Version {
    Version {
        major: IPCRING_VERSION_MAJOR,
        minor: IPCRING_VERSION_MINOR,
        patch: IPCRING_VERSION_PATCH,
        abi_major: IPCRING_ABI_MAJOR,
        abi_minor: IPCRING_ABI_MINOR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package_version() {
        let v = ipcring_version();
        let text = format!("{}.{}.{}", v.major, v.minor, v.patch);
        assert_eq!(text, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn default_options_round_trip_to_the_default_strategy() {
        let o = Options::defaults();
        assert_eq!(o.wait.strategy(), Ok(WaitStrategy::default()));
        assert_eq!(o.capacity, spsc::DEFAULT_CAPACITY);
    }

    #[test]
    fn default_mpmc_options_create_the_default_queue() {
        let name = format!("ffi-mpmc-defaults-{}", std::process::id());
        let tx = MpmcOptions::defaults()
            .builder(&Place::Name(&name))
            .and_then(|b| Ok(b.create_producer()?))
            .expect("create with the defaults");
        ipcring::unlink(&name).expect("remove the queue");
        assert_eq!(tx.capacity(), mpmc::DEFAULT_CAPACITY);
        assert_eq!(tx.max_message(), mpmc::DEFAULT_SLOT_SIZE);
        assert_eq!(
            MpmcOptions::defaults().wait.strategy(),
            Ok(WaitStrategy::default())
        );
    }

    #[test]
    fn an_unknown_wait_kind_is_refused() {
        let w = Wait {
            kind: 3,
            spins: 0,
            yields: 0,
        };
        assert_eq!(w.strategy(), Err(Status::IPCRING_ERR_INVALID_ARGUMENT));
    }
}
