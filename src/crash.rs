//! Test-only crash points, behind the cargo feature `crash-points` (off by default, so
//! the builds that users ship never have them). A process arms a point with a number of
//! passes to let through; at the pass after those it kills itself with `SIGKILL`: no
//! unwinding, no destructor, no detach — what a crash or a `kill -9` at that instant
//! leaves behind, at an instant a random kill almost never hits.

use core::sync::atomic::{AtomicU64, Ordering};

/// Where a process can be told to die: every step of a ring's life at which the shared
/// memory is between two states of its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Point {
    /// In a creator of a ring of any kind, after it made the object (empty, mode 0200,
    /// locked), before it gives it its size.
    CreateBeforeSize,
    /// In a creator of a ring of any kind, after it initialised the segment and attached,
    /// before it publishes the segment (READY, final mode).
    CreateBeforePublish,
    /// In a creator of a ring of any kind, after it stored READY, before it gives the
    /// object its final mode.
    CreateBeforeMode,
    /// In a handle of any kind that attaches: it holds its slot's lock and has replaced
    /// the slot's mark, but has neither set the slot's flag nor bumped its generation.
    AttachBeforeFlag,
    /// In an SPSC producer, after it found room for a message, before it writes a byte.
    SpscAfterClaim,
    /// In an SPSC producer, with the payload written and the word after it cleared,
    /// before the release store of the header that publishes it (of every publication:
    /// one message, a message behind padding, a batch).
    SpscBeforeHeader,
    /// In an SPSC producer wrapping around the ring's end: the message's header is
    /// written at the start of the ring, the padding record in front of it is not.
    SpscBeforePadding,
    /// In an SPSC producer's `try_send_batch`, after a record other than the first is
    /// written, before the batch is published.
    SpscMidBatch,
    /// In an SPSC consumer, after it copied a message out, before it releases its room.
    SpscBeforeRelease,
    /// In an MPMC producer's `send`, after it claimed a slot, before it writes a byte.
    MpmcAfterClaim,
    /// In an MPMC producer, after it claimed a slot and wrote the payload, before the
    /// commit: in every `send` and in `WriteGrant::commit`.
    MpmcBeforeCommit,
    /// In an MPMC consumer, after it took a message and copied it out, before it releases
    /// the cell.
    MpmcBeforeRelease,
    /// In a broadcast publisher, after it claimed a slot, before it marks the cell as
    /// being written.
    BroadcastAfterClaim,
    /// In a broadcast publisher, after it claimed a slot and wrote the payload, before
    /// the commit: in every `send` and in `WriteGrant::commit`.
    BroadcastBeforeCommit,
    /// In a broadcast subscriber of a lossless topic, after it copied a message out (or
    /// found a position to pass), before it publishes the cursor past it.
    BroadcastBeforeCursor,
    /// In a blackboard writer, after it made an entry's sequence odd and wrote the value,
    /// before it makes the sequence even again.
    BoardMidWrite,
    /// In an inbound NATS bridge, after it committed a message into its ring (and, with
    /// dedupe, recorded its sequence), before it acknowledges it to the server.
    BridgeBeforeAck,
}

/// How many points there are.
const POINTS: usize = Point::BridgeBeforeAck as usize + 1;

/// Passes left before the death at each point (indexed by `Point as usize`); `u64::MAX`:
/// not armed. (A process-local test switch, not shared memory: plain `core` atomics.)
static LEFT: [AtomicU64; POINTS] = [const { AtomicU64::new(u64::MAX) }; POINTS];

/// Arms `point`: the process lets `passes` passes through it and dies at the next one.
pub fn arm(point: Point, passes: u64) {
    // Relaxed: read by this process's own threads, which the test started after arming.
    LEFT[point as usize].store(passes.min(u64::MAX - 1), Ordering::Relaxed);
}

/// Called at `point`: dies there if it is armed and its passes are used up.
#[inline]
pub(crate) fn reached(point: Point) {
    let left = &LEFT[point as usize];
    // Relaxed: as in `arm`; racing threads may each take a pass, which a test that arms
    // a point runs one handle to avoid.
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
