//! A cheap clock for round trips: the TSC on x86_64 (constant-rate on every CPU this
//! tool expects), calibrated against `Instant`; `Instant` elsewhere.

use std::time::{Duration, Instant};

/// Ticks to nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    ns_per_tick: f64,
}

impl Clock {
    /// Calibrates over about 20 ms.
    pub fn calibrate() -> Clock {
        if cfg!(not(target_arch = "x86_64")) {
            return Clock { ns_per_tick: 1.0 };
        }
        let (t0, c0) = (Instant::now(), ticks());
        std::thread::sleep(Duration::from_millis(20));
        let (t1, c1) = (Instant::now(), ticks());
        Clock {
            ns_per_tick: (t1 - t0).as_nanos() as f64 / (c1 - c0).max(1) as f64,
        }
    }

    /// Nanoseconds between two readings of [`ticks`].
    #[inline]
    pub fn ns(&self, from: u64, to: u64) -> u64 {
        (to.wrapping_sub(from) as f64 * self.ns_per_tick) as u64
    }
}

/// A reading of the clock.
#[inline]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: RDTSC is available on every x86_64 CPU and has no memory effects.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}
