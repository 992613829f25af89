//! A 32-bit word in shared memory that threads of any process can sleep on.
//!
//! Always the shared futex, never the process-private variant, which is keyed by the
//! caller's address space and would never wake a process that maps the same page. Under
//! `--cfg ipcring_loom` the futex is emulated with a loom mutex and condition variable (the
//! value re-checked under the lock), so that a lost wake-up leaves a thread asleep for
//! ever, which loom reports as a deadlock. The arm is chosen once, for the whole module.

use crate::sync::Ordering;
use crate::time::Deadline;

pub(crate) use imp::Futex;

/// How a futex sleep ended. Every outcome means "re-check your condition".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Loom cannot time out (its condition variable has no timed wait): only `Woken` there.
#[cfg_attr(ipcring_loom, allow(dead_code))]
pub(crate) enum Woke {
    /// Woken, or the word had already changed: the other side published.
    Woken,
    /// The deadline passed, or a signal interrupted the sleep: nobody woke us.
    TimedOut,
    /// The kernel refused to sleep (no futex support): the caller must not rely on it.
    Unsupported,
}

impl Futex {
    /// Reads the current value. SYNC(futex): Acquire pairs with the Release in
    /// [`Futex::bump`].
    #[inline]
    pub(crate) fn load(&self) -> u32 {
        self.word().load(Ordering::Acquire)
    }

    /// Changes the value so that a waiter that read the old one does not fall asleep.
    /// SYNC(futex): Release pairs with the Acquire in [`Futex::load`].
    #[inline]
    pub(crate) fn bump(&self) {
        self.word().fetch_add(1, Ordering::Release);
    }
}

#[cfg(not(ipcring_loom))]
mod imp {
    use super::{Deadline, Woke};
    use crate::sync::AtomicU32;
    use core::num::NonZeroU32;
    use rustix::io::Errno;
    use rustix::thread::futex;

    /// The futex word itself: 4 bytes of the shared layout.
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub(crate) struct Futex(AtomicU32);

    impl Futex {
        #[inline]
        pub(super) fn word(&self) -> &AtomicU32 {
            &self.0
        }

        /// Sleeps while the value is `expected`, until woken, until `deadline` (absolute,
        /// CLOCK_MONOTONIC), or spuriously. The caller re-checks its condition in a loop.
        pub(crate) fn wait(&self, expected: u32, deadline: Option<Deadline>) -> Woke {
            let timeout = deadline.map(|d| futex::Timespec {
                tv_sec: (d.as_nanos() / 1_000_000_000) as _,
                tv_nsec: (d.as_nanos() % 1_000_000_000) as _,
            });
            // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout, so a retried
            // wait does not drift. The bitset "match any" interoperates with FUTEX_WAKE.
            let any = NonZeroU32::MAX;
            match futex::wait_bitset(
                &self.0,
                futex::Flags::empty(),
                expected,
                timeout.as_ref(),
                any,
            ) {
                // EAGAIN: the word had already changed.
                Ok(()) | Err(Errno::AGAIN) => Woke::Woken,
                // EINTR: a signal; ETIMEDOUT: the deadline.
                Err(Errno::INTR) | Err(Errno::TIMEDOUT) => Woke::TimedOut,
                // ENOSYS, EFAULT, EINVAL...: the caller falls back to yielding.
                Err(_) => Woke::Unsupported,
            }
        }

        /// Wakes every thread sleeping on this word, in any process. A failure can only
        /// mean a bad address, and callers re-check their condition anyway.
        pub(crate) fn wake_all(&self) {
            let _ = futex::wake(&self.0, futex::Flags::empty(), i32::MAX as u32);
        }
    }
}

#[cfg(ipcring_loom)]
mod imp {
    use super::{Deadline, Woke};
    use crate::sync::{AtomicU32, Condvar, Mutex, Ordering};

    /// The emulated futex: the word, and a lock and condition variable to sleep on.
    #[derive(Debug, Default)]
    pub(crate) struct Futex {
        word: AtomicU32,
        lock: Mutex<()>,
        cond: Condvar,
    }

    impl Futex {
        #[inline]
        pub(super) fn word(&self) -> &AtomicU32 {
            &self.word
        }

        /// As the real `wait`; loom has no clock, so a timed wait is a wait that a wake
        /// ends.
        pub(crate) fn wait(&self, expected: u32, deadline: Option<Deadline>) -> Woke {
            let _ = deadline;
            let guard = self.lock.lock().unwrap();
            if self.word.load(Ordering::Acquire) == expected {
                drop(self.cond.wait(guard).unwrap());
            }
            Woke::Woken
        }

        /// As the real `wake_all`.
        pub(crate) fn wake_all(&self) {
            let _guard = self.lock.lock().unwrap();
            self.cond.notify_all();
        }
    }
}
