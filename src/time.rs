//! Time on CLOCK_MONOTONIC, the clock of futex deadlines.

use core::time::Duration;

/// Nanoseconds of CLOCK_MONOTONIC_COARSE: the time of the last timer tick, which the vDSO
/// reads from memory the kernel shares (about 7 ns, against 12 for the time-stamp counter
/// and 30 for a precise `clock_gettime`, which reads it). For paces and hints, which need
/// no more than its step (up to 4 ms, with a 250 Hz tick).
#[cfg(not(ipcring_loom))]
#[inline]
pub(crate) fn coarse_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    (t.tv_sec as u64).saturating_mul(1_000_000_000) + t.tv_nsec as u64
}

/// A point in time on CLOCK_MONOTONIC, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Deadline(u64);

impl Deadline {
    /// Now.
    pub(crate) fn now() -> Deadline {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        Deadline((t.tv_sec as u64).saturating_mul(1_000_000_000) + t.tv_nsec as u64)
    }

    /// `d` from now (saturating).
    pub(crate) fn after(d: Duration) -> Deadline {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Deadline(Deadline::now().0.saturating_add(ns))
    }

    /// Time since this moment (zero if it is still to come).
    pub(crate) fn elapsed(self) -> Duration {
        Duration::from_nanos(Deadline::now().0.saturating_sub(self.0))
    }

    /// Whether this moment has passed.
    pub(crate) fn passed(self) -> bool {
        Deadline::now() >= self
    }

    /// Nanoseconds since boot.
    #[cfg_attr(ipcring_loom, allow(dead_code))]
    pub(crate) fn as_nanos(self) -> u64 {
        self.0
    }
}
