//! Time on CLOCK_MONOTONIC, the clock of futex deadlines.

use core::time::Duration;

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
