//! A 32-bit word in shared memory that threads of any process can sleep on.
//!
//! Always the shared futex, never the process-private variant, which is keyed by the
//! caller's address space and would never wake a process that maps the same page. Under
//! `--cfg ipcring_loom` the futex is emulated with a loom mutex and condition variable (the
//! value re-checked under the lock), so that a lost wake-up leaves a thread asleep for
//! ever, which loom reports as a deadlock. The arm is chosen once, for the whole module.

use crate::sync::Ordering;
use crate::time::Deadline;

pub(crate) use imp::{Beds, Futex};

/// The most futexes one sleep can wait on together (the kernel's `FUTEX_WAITV_MAX`).
#[cfg(not(ipcring_loom))]
pub(crate) const MAX_BEDS: usize = 128;

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
    use crate::sync::{AtomicU32, Ordering};
    use core::num::NonZeroU32;
    use rustix::io::Errno;
    use rustix::thread::futex;
    use rustix::time::ClockId;

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
    /// Futexes to sleep on together, each with the value its waiter read: the argument of
    /// `futex_waitv` (Linux 5.16), kept by a waiter that sleeps on many rings.
    #[derive(Debug, Default)]
    pub(crate) struct Beds {
        waiters: Vec<futex::Wait>,
    }

    // SAFETY: the entries are addresses and values, only handed to the kernel; the futex
    // words they point to are atomics in memory that the owner of the `Beds` keeps mapped
    // while it sleeps.
    unsafe impl Send for Beds {}

    impl Beds {
        /// Forgets every futex.
        pub(crate) fn clear(&mut self) {
            self.waiters.clear();
        }

        /// Adds `futex`, to sleep on while its value is `expected`.
        pub(crate) fn push(&mut self, futex: &Futex, expected: u32) {
            let mut w = futex::Wait::new();
            w.val = u64::from(expected);
            w.uaddr = futex::WaitPtr::new(futex.0.as_ptr().cast());
            // Shared (no FUTEX2_PRIVATE): the word may be mapped by other processes.
            w.flags = futex::WaitFlags::SIZE_U32;
            self.waiters.push(w);
        }

        /// The value expected of the `k`-th futex.
        pub(crate) fn expected(&self, k: usize) -> u32 {
            self.waiters[k].val as u32
        }

        /// How many futexes there are.
        pub(crate) fn len(&self) -> usize {
            self.waiters.len()
        }

        /// Adds every futex of `other`.
        pub(crate) fn append(&mut self, other: &Beds) {
            self.waiters.extend_from_slice(&other.waiters);
        }

        /// Whether a futex no longer holds its expected value.
        ///
        /// # Safety
        /// Every futex lives in memory that stays mapped during the call.
        pub(crate) unsafe fn changed(&self) -> bool {
            self.waiters.iter().any(|w| {
                // SAFETY: per the contract; the words are atomics, pushed as `&Futex`.
                let word = unsafe { &*w.uaddr.ptr.cast::<AtomicU32>() };
                // SYNC(futex): Acquire, as `Futex::load`: a waiter told of the change then
                // sees what the waker published before it.
                u64::from(word.load(Ordering::Acquire)) != w.val
            })
        }

        /// Sleeps on the `k`-th futex alone, as [`Futex::wait`].
        pub(crate) fn sleep_on(&self, k: usize, deadline: Option<Deadline>) -> Woke {
            // SAFETY: the caller keeps the futexes mapped during a sleep (see `sleep`).
            let word = unsafe { &*self.waiters[k].uaddr.ptr.cast::<Futex>() };
            word.wait(self.expected(k), deadline)
        }

        /// Sleeps while every futex holds its expected value, until one of them is woken,
        /// until `deadline`, or spuriously. `Unsupported` if the kernel has no
        /// `futex_waitv` or there are more than [`super::MAX_BEDS`] futexes.
        ///
        /// Every futex must live in memory that stays mapped during the call.
        pub(crate) fn sleep(&self, deadline: Option<Deadline>) -> Woke {
            if self.waiters.len() > super::MAX_BEDS {
                return Woke::Unsupported;
            }
            sleep_on_all(&self.waiters, deadline)
        }

        /// A sleep for a waiter with more futexes than one sleep takes, or a kernel
        /// without `futex_waitv`: on the `turn`-th window of [`super::MAX_BEDS`] futexes,
        /// or (no `futex_waitv`) on the `turn`-th futex alone, until `deadline`. The
        /// caller keeps its naps short: a change of a futex outside the window is not
        /// seen before the nap ends.
        pub(crate) fn nap(&self, turn: usize, deadline: Deadline) -> Woke {
            let n = self.waiters.len();
            if n == 0 {
                return Woke::Unsupported;
            }
            let windows = n.div_ceil(super::MAX_BEDS);
            let start = turn % windows * super::MAX_BEDS;
            let window = &self.waiters[start..n.min(start + super::MAX_BEDS)];
            match sleep_on_all(window, Some(deadline)) {
                Woke::Unsupported => self.sleep_on(turn % n, Some(deadline)),
                woke => woke,
            }
        }
    }

    /// `futex_waitv` on `waiters` (at most [`super::MAX_BEDS`]).
    fn sleep_on_all(waiters: &[futex::Wait], deadline: Option<Deadline>) -> Woke {
        let timeout = deadline.map(|d| futex::Timespec {
            tv_sec: (d.as_nanos() / 1_000_000_000) as _,
            tv_nsec: (d.as_nanos() % 1_000_000_000) as _,
        });
        match futex::waitv(
            waiters,
            futex::WaitvFlags::empty(),
            timeout.as_ref(),
            ClockId::Monotonic,
        ) {
            // EAGAIN: a word had already changed.
            Ok(_) | Err(Errno::AGAIN) => Woke::Woken,
            Err(Errno::INTR) | Err(Errno::TIMEDOUT) => Woke::TimedOut,
            // ENOSYS (a kernel before 5.16), EFAULT, EINVAL...
            Err(_) => Woke::Unsupported,
        }
    }
}

#[cfg(ipcring_loom)]
mod imp {
    use super::{Deadline, Woke};
    use crate::sync::{AtomicU32, Condvar, Mutex, Ordering};

    loom::lazy_static! {
        /// The one lock and condition variable that every emulated futex sleeps on, so that
        /// a thread can sleep on several futexes at once (as `futex_waitv` does): a wake of
        /// any futex wakes every sleeper, each of which re-checks its values under the lock.
        static ref BED: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
    }

    /// The emulated futex: the word alone (see `BED`).
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub(crate) struct Futex(AtomicU32);

    impl Futex {
        #[inline]
        pub(super) fn word(&self) -> &AtomicU32 {
            &self.0
        }

        /// As the real `wait`; loom has no clock, so a timed wait is a wait that a wake
        /// ends.
        pub(crate) fn wait(&self, expected: u32, deadline: Option<Deadline>) -> Woke {
            let mut beds = Beds::default();
            beds.push(self, expected);
            beds.sleep(deadline)
        }

        /// As the real `wake_all`.
        pub(crate) fn wake_all(&self) {
            let _guard = BED.0.lock().unwrap();
            BED.1.notify_all();
        }
    }

    /// As the real `Beds`: the futexes are re-checked under the lock of `BED`.
    #[derive(Debug, Default)]
    pub(crate) struct Beds {
        waiters: Vec<(*const AtomicU32, u32)>,
    }

    impl Beds {
        pub(crate) fn clear(&mut self) {
            self.waiters.clear();
        }

        pub(crate) fn push(&mut self, futex: &Futex, expected: u32) {
            self.waiters.push((&futex.0, expected));
        }

        /// As the real `changed`.
        ///
        /// # Safety
        /// As the real `changed`.
        pub(crate) unsafe fn changed(&self) -> bool {
            self.waiters.iter().any(|&(w, v)| {
                // SAFETY: per the contract.
                unsafe { &*w }.load(Ordering::Acquire) != v
            })
        }

        /// As the real `nap`: under loom, a sleep on every futex.
        pub(crate) fn nap(&self, turn: usize, deadline: Deadline) -> Woke {
            let _ = turn;
            self.sleep(Some(deadline))
        }

        pub(crate) fn sleep(&self, deadline: Option<Deadline>) -> Woke {
            let _ = deadline;
            let guard = BED.0.lock().unwrap();
            // SAFETY: the caller keeps every futex alive during the sleep (see the real
            // `Beds::sleep`).
            let unchanged = self
                .waiters
                .iter()
                .all(|&(w, v)| unsafe { &*w }.load(Ordering::Acquire) == v);
            if unchanged {
                drop(BED.1.wait(guard).unwrap());
            }
            Woke::Woken
        }
    }
}
