//! Test-only crash points, behind the cargo feature `crash-points` (off by default, so
//! the builds that users ship never have them). A process arms a point with a number of
//! passes to let through; at the pass after those it kills itself with `SIGKILL`: no
//! unwinding, no destructor, no detach — what a crash or a `kill -9` at that instant
//! leaves behind, at an instant a random kill almost never hits.

use core::sync::atomic::{AtomicU64, Ordering};

/// Where a process can be told to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Point {
    /// In an MPMC producer, after it claimed a slot and wrote the payload, before the
    /// commit: in every `send` and in `WriteGrant::commit`.
    MpmcBeforeCommit,
    /// In a broadcast publisher, after it claimed a slot and wrote the payload, before
    /// the commit: in every `send` and in `WriteGrant::commit`.
    BroadcastBeforeCommit,
    /// In a creator of a ring of any kind, after it initialised the segment and attached,
    /// before it publishes the segment (READY, final mode).
    CreateBeforePublish,
}

/// Passes left before the death at [`Point::MpmcBeforeCommit`]; `u64::MAX`: not armed.
/// (A process-local test switch, not shared memory: plain `core` atomics.)
static MPMC_BEFORE_COMMIT: AtomicU64 = AtomicU64::new(u64::MAX);
/// The same for [`Point::BroadcastBeforeCommit`].
static BROADCAST_BEFORE_COMMIT: AtomicU64 = AtomicU64::new(u64::MAX);
/// The same for [`Point::CreateBeforePublish`].
static CREATE_BEFORE_PUBLISH: AtomicU64 = AtomicU64::new(u64::MAX);

fn counter(point: Point) -> &'static AtomicU64 {
    match point {
        Point::MpmcBeforeCommit => &MPMC_BEFORE_COMMIT,
        Point::BroadcastBeforeCommit => &BROADCAST_BEFORE_COMMIT,
        Point::CreateBeforePublish => &CREATE_BEFORE_PUBLISH,
    }
}

/// Arms `point`: the process lets `passes` passes through it and dies at the next one.
pub fn arm(point: Point, passes: u64) {
    // Relaxed: read by this process's own threads, which the test started after arming.
    counter(point).store(passes.min(u64::MAX - 1), Ordering::Relaxed);
}

/// Called at `point`: dies there if it is armed and its passes are used up.
pub(crate) fn reached(point: Point) {
    let left = counter(point);
    // Relaxed: as in `arm`; racing threads may each take a pass, which a test that arms
    // a point runs one sender to avoid.
    match left.load(Ordering::Relaxed) {
        u64::MAX => {}
        0 => die(),
        n => left.store(n - 1, Ordering::Relaxed),
    }
}

#[cold]
fn die() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    // SIGKILL to ourselves is delivered before the call returns; should it not be:
    std::process::abort()
}
