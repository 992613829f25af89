//! Pacing of the liveness checks that non-blocking calls make.
//!
//! A peer that detaches says so in a flag, which every poll reads for free; a peer that
//! crashed is only seen by asking the kernel whether its role lock is still held, a
//! syscall of about a microsecond. A caller that polls `try_recv_into` in a loop, or
//! retries `try_send` on a full ring, must not pay that on every few polls (it would
//! double a round trip), nor go long without it (a dead peer must be reported within
//! milliseconds, however often or rarely the caller polls). So the syscall is paced by
//! time: at most one per [`INTERVAL`], on a clock read that costs no syscall.

use crate::error::RecvError;
#[cfg(not(ipcring_loom))]
use crate::time::coarse_ns as ticks;
use crate::wait::Check;

/// The shortest time between two liveness syscalls of one handle, in ns of [`ticks`]:
/// one millisecond, or the coarse clock's step if that is longer (4 ms with a 250 Hz tick).
#[cfg(not(ipcring_loom))]
const INTERVAL: u64 = 1_000_000;

/// When a handle's next liveness syscall is due. Each handle has its own.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pacer {
    /// When the last one was made; 0 before the first, which is due at once. Under loom,
    /// how many polls asked.
    last: u64,
}

impl Pacer {
    /// Whether a poll made now may ask the kernel; if so, the next one waits an interval.
    #[cfg(not(ipcring_loom))]
    #[inline]
    pub(crate) fn due(&mut self) -> bool {
        let now = ticks();
        if now.wrapping_sub(self.last) < INTERVAL {
            return false;
        }
        self.last = now;
        true
    }

    /// Under loom, every other poll: a model must make the same choices each time it
    /// replays a schedule, which a clock would not, and so it explores both paths.
    #[cfg(ipcring_loom)]
    pub(crate) fn due(&mut self) -> bool {
        self.last = self.last.wrapping_add(1);
        self.last % 2 == 1
    }

    /// Makes the next check due at once: called when a check found the peer gone, so that
    /// the calls after it go on saying so (a crashed peer's flag still says attached; only
    /// the kernel knows better) until it is back.
    #[cfg(not(ipcring_loom))]
    #[inline]
    pub(crate) fn again(&mut self) {
        self.last = ticks().wrapping_sub(INTERVAL);
    }

    /// Under loom: the next poll is due (see the loom `due`).
    #[cfg(ipcring_loom)]
    pub(crate) fn again(&mut self) {
        self.last = 0;
    }

    /// After a receive's look at its peers: [`Pacer::again`] if it found them gone.
    #[inline]
    pub(crate) fn after<T>(&mut self, r: &Option<Result<T, RecvError>>) {
        if matches!(r, Some(Err(RecvError::Disconnected))) {
            self.again();
        }
    }

    /// How much a non-blocking poll may look at: [`Check::Peer`] when the syscall is due,
    /// [`Check::Park`] (flags only) otherwise.
    #[inline]
    pub(crate) fn level(&mut self) -> Check {
        if self.due() {
            Check::Peer
        } else {
            Check::Park
        }
    }
}
