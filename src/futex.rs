//! The Linux futex on a word in shared memory, as typed calls.
//!
//! Always the shared variant, never the process-private one, because that one is keyed by
//! the caller's address space and would never wake a process that maps the same page.
//! Compiled only outside loom (see `sync.rs`).

use crate::wait::Deadline;
use core::num::NonZeroU32;
use core::sync::atomic::AtomicU32;
use rustix::io::Errno;
use rustix::thread::futex;

/// How a `FUTEX_WAIT` ended. Every outcome means "re-check your condition".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woke {
    /// Woken by `FUTEX_WAKE` (or spuriously).
    Woken,
    /// The word no longer held the expected value (`EAGAIN`).
    Changed,
    /// A signal interrupted the sleep (`EINTR`).
    Interrupted,
    /// The deadline passed (`ETIMEDOUT`).
    TimedOut,
    /// The kernel refused the call (`ENOSYS`, `EFAULT`, `EINVAL`...): the caller must not
    /// rely on sleeping and falls back to yielding.
    Refused(Errno),
}

/// Sleeps while `*word == expected`, until `deadline` (absolute, CLOCK_MONOTONIC).
pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<Deadline>) -> Woke {
    let timeout = deadline.map(|d| futex::Timespec {
        tv_sec: (d.as_nanos() / 1_000_000_000) as _,
        tv_nsec: (d.as_nanos() % 1_000_000_000) as _,
    });
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout, so a retried wait does
    // not drift. The bitset "match any" makes it interoperate with plain FUTEX_WAKE.
    let any = NonZeroU32::MAX;
    match futex::wait_bitset(word, futex::Flags::empty(), expected, timeout.as_ref(), any) {
        Ok(()) => Woke::Woken,
        Err(Errno::AGAIN) => Woke::Changed,
        Err(Errno::INTR) => Woke::Interrupted,
        Err(Errno::TIMEDOUT) => Woke::TimedOut,
        Err(e) => Woke::Refused(e),
    }
}

/// Wakes every waiter on `word`; returns how many were woken (0 if the call failed, which
/// can only mean a bad address and is then harmless to the caller, who re-checks anyway).
pub(crate) fn wake_all(word: &AtomicU32) -> usize {
    futex::wake(word, futex::Flags::empty(), i32::MAX as u32).unwrap_or(0)
}
