//! Waiting for the other side: spin, then yield, then park on a futex in shared memory.
//!
//! The protocol that makes parking safe without a syscall on the fast path:
//!
//! - the waiter reads the futex word, announces itself (`announced = 1`), issues a SeqCst
//!   fence, re-checks the ring, and only then sleeps on the futex word it read;
//! - the waker publishes, issues a SeqCst fence, and calls `FUTEX_WAKE` only if a waiter
//!   is announced — and it consumes the announcement (swaps it back to 0), so that one
//!   sleep costs one wake-up however many messages are published before the sleeper runs.
//!
//! Many threads, of many processes, may wait on one line (consumers of a work queue,
//! subscribers of a topic). The announcement is therefore not a waiter's own flag: a
//! waiter only ever sets it, and never clears it when it stops waiting (that would erase
//! the announcement of another one that still sleeps). Only a waker clears it, and only to
//! bump the futex word and wake *every* sleeper, each of which re-checks and announces
//! again if it must go on waiting. A waiter that stops waiting without being woken (its
//! slice ran out, its deadline passed, its process died) leaves the announcement behind:
//! that costs the next publication one spare `FUTEX_WAKE`, never a lost wake-up.
//!
//! The two fences order "announce → re-check" against "publish → look for waiters": either
//! the waker sees the announcement and wakes, or the waiter's re-check sees the
//! publication. The futex word is read before the announcement: a waker that consumes an
//! announcement bumps the word after it, so the sleep returns at once and the waiter
//! announces again, even when that publication did not yet give it what it waits for
//! (read after the announcement, the waiter could sleep on the bumped value with its
//! announcement gone: a lost wake-up, found by loom). A busy pair therefore makes no
//! syscalls. Parked waits are sliced so that a waiter notices a dead peer (and its own
//! deadline) even if nobody wakes it.
//!
//! The fences are asymmetric where the kernel allows it. The waker's fence runs on every
//! publication; the waiter's only before it sleeps. So a waiter whose process can issue
//! `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)` says so on its wait line, and issues
//! one after its SeqCst fence: it runs a full barrier on every CPU that runs a registered
//! process, the waker's included. A registered waker that reads that promise replaces
//! its fence with a compiler fence, which takes the drain of the store buffer off every
//! send. A waiter that parks at once (`WaitStrategy::Park`) withdraws that promise at its
//! first sleep (see `park`). Loom cannot model `membarrier`; there both halves are SeqCst
//! fences.

use crate::futex::{Beds, Woke};
use crate::layout::WaitLine;
use crate::sync::{
    asymmetric_fences, fence_seqcst, heavy_fence, light_fence, spin_hint, yield_now, Ordering,
};
use crate::time::Deadline;
use core::time::Duration;

/// How a blocking call waits while the ring is full (send) or empty (receive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitStrategy {
    /// Spin until ready: the lowest latency, one CPU kept busy. Checks the peer's liveness
    /// every few thousand iterations. (An MPMC producer whose full queue waits for another
    /// producer's claim, a lap old, yields between looks: that producer may need the CPU.)
    BusySpin,
    /// Spin `spins` times, yield `yields` times, then park on the futex. The default.
    SpinThenPark {
        /// Busy iterations (each a CPU pause hint) before yielding.
        spins: u32,
        /// `sched_yield` calls before parking.
        yields: u32,
    },
    /// Park at once: no CPU burnt while waiting, a wake-up syscall on every message. Its
    /// sleeps use a full fence, not the `membarrier` of the other strategies (which would
    /// interrupt the peer's CPU on every message); the peer's sends that may wake it then
    /// use a full fence too, for good.
    Park,
}

impl Default for WaitStrategy {
    /// Spins for a few tens of microseconds (longer than a busy round trip, so a ping-pong
    /// stays in user space), then yields briefly, then parks.
    fn default() -> Self {
        WaitStrategy::SpinThenPark {
            spins: 1 << 14,
            yields: 16,
        }
    }
}

/// How long one parked sleep lasts at most before the waiter looks at its peer again.
pub(crate) const PARK_SLICE: Duration = Duration::from_millis(20);

/// How many spin iterations pass between two checks of the peer's liveness (a syscall).
const PEER_CHECK_EVERY: u32 = 1 << 12;

/// How many spin iterations pass between two readings of the clock.
const CLOCK_CHECK_EVERY: u32 = 1 << 6;

/// How many spins of a wait for room pass between two looks at the ring (see
/// [`look_now`]): about a microsecond. Two under loom, as [`INLINE_SPINS`].
#[cfg(not(ipcring_loom))]
const LOOK_EVERY: u32 = 32;
#[cfg(ipcring_loom)]
const LOOK_EVERY: u32 = 2;

/// Whether a sender that waits for room looks at the ring at this turn of its wait (`turn`
/// counts them): at every costlier check, and at every [`LOOK_EVERY`]-th spin. A look reads
/// the lines that receivers write as they release what they read, so a look at every spin
/// pulls them away from the receivers once a message; and what a look finds after a
/// microsecond is a batch of free slots rather than one. (Looking at every spin halved a
/// broadcast stream through a full topic, and cost MPMC producers sharing a CPU a tenth.)
#[inline]
pub(crate) fn look_now(level: Check, turn: &mut u32) -> bool {
    *turn = turn.wrapping_add(1);
    level != Check::Spin || *turn % LOOK_EVERY == 0
}

/// How many iterations of a spin a caller may run inline, on its fast path, before it
/// calls [`block_on`]: about 1.6 µs with a 25 ns pause, longer than a busy round trip, so
/// that a message that comes within it is taken without leaving the fast path. Two under
/// loom, where every spin is a yield that the model explores.
#[cfg(not(ipcring_loom))]
const INLINE_SPINS: u32 = 64;
#[cfg(ipcring_loom)]
const INLINE_SPINS: u32 = 2;

/// The number of spins of `strategy` that its caller runs inline before [`block_on`]
/// (which it then tells how many it ran): none for `Park`.
#[inline(always)]
pub(crate) fn inline_spins(strategy: WaitStrategy) -> u32 {
    match strategy {
        WaitStrategy::BusySpin => INLINE_SPINS,
        WaitStrategy::SpinThenPark { spins, .. } => spins.min(INLINE_SPINS),
        WaitStrategy::Park => 0,
    }
}

/// How much a waiting side looks at, each time it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Spinning: poll the ring, nothing that costs.
    Spin,
    /// About to sleep: poll, hand the peer everything it may wait for, and notice a peer
    /// that detached gracefully (a flag). No syscall.
    Park,
    /// As `Park`, and also ask the kernel whether the peer is alive (a syscall): every few
    /// thousand spins, and after a sleep that nobody ended.
    Peer,
}

/// What a waiter sleeps on: the wait line of its ring, or those of many rings (a
/// [`crate::WaitSet`]), with the buffer that the kernel is handed for them.
pub(crate) enum Lines<'a> {
    /// One ring's line.
    One(&'a WaitLine),
    /// Several rings' lines; woken by a wake-up on any of them.
    Many(&'a [&'a WaitLine], &'a mut Beds),
}

/// Waits until `check` returns `Some`, or until `deadline`. Returns `None` once the
/// deadline has passed. `spun` spins of the strategy already ran (see [`inline_spins`]).
#[inline]
pub(crate) fn block_on<T>(
    strategy: WaitStrategy,
    spun: u32,
    line: &WaitLine,
    deadline: Option<Deadline>,
    check: impl FnMut(Check) -> Option<T>,
) -> Option<T> {
    block_on_lines(strategy, spun, Lines::One(line), deadline, check)
}

/// As [`block_on`], sleeping on `lines`.
pub(crate) fn block_on_lines<T>(
    strategy: WaitStrategy,
    spun: u32,
    lines: Lines<'_>,
    deadline: Option<Deadline>,
    mut check: impl FnMut(Check) -> Option<T>,
) -> Option<T> {
    let (spins, yields) = match strategy {
        WaitStrategy::BusySpin => (u32::MAX, 0),
        WaitStrategy::SpinThenPark { spins, yields } => (spins, yields),
        WaitStrategy::Park => (0, 0),
    };
    let mut i: u32 = spun;
    loop {
        let level = if i % PEER_CHECK_EVERY == PEER_CHECK_EVERY - 1 {
            Check::Peer
        } else {
            Check::Spin
        };
        if let Some(t) = check(level) {
            return Some(t);
        }
        if i % CLOCK_CHECK_EVERY == CLOCK_CHECK_EVERY - 1 && deadline.is_some_and(Deadline::passed)
        {
            return None;
        }
        if i < spins {
            spin_hint();
        } else if i - spins < yields {
            // A yield may give the CPU away for a whole time slice on a busy machine: the
            // deadline is looked at before each one, not every `CLOCK_CHECK_EVERY` turns.
            if deadline.is_some_and(Deadline::passed) {
                return None;
            }
            yield_now();
        } else {
            break;
        }
        // A busy spinner wraps around after 2^32 iterations and simply goes on.
        i = i.wrapping_add(1);
        if strategy == WaitStrategy::BusySpin && i == u32::MAX {
            i = 0;
        }
    }
    park(lines, deadline, strategy == WaitStrategy::Park, check)
}

/// How long a waiter on many rings sleeps on some of them at a time when the kernel cannot
/// sleep on all of them at once (no `futex_waitv`: one ring; more rings than it takes: 128
/// of them): a wake-up on any other ring is seen within this.
const NAP: Duration = Duration::from_millis(1);

/// The parking stage of [`block_on_lines`]. `at_once`: the strategy parks without
/// spinning first, and withdraws the heavy-fence promise of the lines (see below).
fn park<T>(
    mut lines: Lines<'_>,
    deadline: Option<Deadline>,
    at_once: bool,
    mut check: impl FnMut(Check) -> Option<T>,
) -> Option<T> {
    let mut level = Check::Park;
    // When a many-ring waiter that naps (see `NAP`) last asked about its peers.
    let mut asked = Deadline::now();
    let mut turn = 0usize;
    loop {
        let epoch = settle(&mut lines, at_once);
        let ready = check(level);
        let mut woke = Woke::Woken;
        if ready.is_none() && !deadline.is_some_and(Deadline::passed) {
            let slice = Deadline::after(PARK_SLICE);
            let until = deadline.map_or(slice, |d| d.min(slice));
            woke = match &lines {
                Lines::One(line) => line.futex.wait(epoch, Some(until)),
                Lines::Many(_, beds) => match beds.sleep(Some(until)) {
                    Woke::Unsupported => {
                        turn = turn.wrapping_add(1);
                        nap(beds, turn, until, &mut asked)
                    }
                    woke => woke,
                },
            };
            if woke == Woke::Unsupported {
                // The kernel refuses to sleep: degrade to yielding rather than fail.
                yield_now();
            }
        }
        // The announcement stays: only a waker clears it (see the module docs).
        if ready.is_some() {
            return ready;
        }
        if deadline.is_some_and(Deadline::passed) {
            return check(Check::Peer);
        }
        // Woken means the peer published: it is alive. A sleep that ran out (or a signal)
        // is the moment to ask the kernel whether it still is.
        level = if woke == Woke::Woken {
            Check::Park
        } else {
            Check::Peer
        };
    }
}

/// What a waiter does on `lines` before its last look and its sleep: reads each futex
/// word (into the beds of `Lines::Many`; returned for `Lines::One`), announces itself on
/// each line, and fences.
pub(crate) fn settle(lines: &mut Lines<'_>, at_once: bool) -> u32 {
    // SYNC(futex): Acquire (in `load`) pairs with the Release bump in `wake`: a waiter
    // that reads a bumped value sees what the waker published before bumping. Read
    // before announcing: a waker that consumes this announcement bumps after it, so the
    // sleep returns at once and we announce again (read after it, the bump could be in
    // the value read and we would sleep with no announcement left: lost wake-up).
    let epoch = match lines {
        Lines::One(line) => line.futex.load(),
        Lines::Many(many, beds) => {
            beds.clear();
            for line in many.iter() {
                beds.push(&line.futex, line.futex.load());
            }
            0
        }
    };
    let mut heavy = false;
    for_each(lines, |line| heavy |= announce(line, at_once));
    // SYNC(wait-announce): pairs with the fence in `wake`. Either the waker's load of
    // `announced` sees our announcement, or our re-check sees what it published. Heavy
    // if we promised it (see `advertise`): one `membarrier` serves every line; a refusal
    // withdraws the promise.
    if !heavy_fence(heavy) {
        // Relaxed: a waker that still reads the promise may miss this one sleep (which
        // then ends with its slice); a waker that reads the withdrawal fences.
        for_each(lines, |line| line.heavy.store(0, Ordering::Relaxed));
        fence_seqcst();
    }
    epoch
}

/// Announces a waiter on `line`; returns whether the line promises heavy fences, which
/// the waiter must then issue. A waiter that parks at once (`at_once`) withdraws that
/// promise for good: it sleeps on every message, often while its peer runs, and a heavy
/// fence then interrupts the peer's CPU (about 5 µs in a VM), more than the full fence on
/// each of the peer's publications that it saves. The promise still covers this sleep: a
/// waker may have read it before the withdrawal; the heavy fence that follows also makes
/// every waker read the withdrawal from then on.
fn announce(line: &WaitLine, at_once: bool) -> bool {
    // Relaxed: the fence after the announcements orders them before the re-check; the
    // Acquire load of the epoch keeps it before them. Other waiters' announcements are
    // the same value: nothing is lost if ours lands on theirs.
    line.announced.store(1, Ordering::Relaxed);
    let heavy = line.heavy.load(Ordering::Relaxed) != 0;
    if heavy && at_once {
        // Relaxed: ordered for wakers by the heavy fence that follows.
        line.heavy.store(0, Ordering::Relaxed);
    }
    heavy
}

fn for_each(lines: &Lines<'_>, mut f: impl FnMut(&WaitLine)) {
    match lines {
        Lines::One(line) => f(line),
        Lines::Many(many, _) => many.iter().for_each(|line| f(line)),
    }
}

/// A many-ring sleep that the kernel cannot make in one call (see [`Beds::nap`]): a nap of
/// at most [`NAP`] on the `turn`-th window of lines. Says `Woken` while a slice has not
/// passed since the peers were `asked` about, so that the naps of a slice make no
/// liveness syscall.
#[cold]
fn nap(beds: &Beds, turn: usize, until: Deadline, asked: &mut Deadline) -> Woke {
    let woke = beds.nap(turn, until.min(Deadline::after(NAP)));
    if woke == Woke::TimedOut {
        if asked.elapsed() < PARK_SLICE {
            return Woke::Woken;
        }
        *asked = Deadline::now();
    }
    woke
}

/// Wakes whoever sleeps on `line`, if anybody announced it; called after publishing.
/// `registered`: what [`advertise`] returned to the calling handle. Returns whether a
/// wake-up was sent.
#[inline(always)]
pub(crate) fn wake(line: &WaitLine, registered: bool) -> bool {
    // SYNC(wait-announce): pairs with the fence in `park`; orders our publication before
    // the load of `announced`. Relaxed load of `heavy`: it only picks the kind of fence.
    light_fence(registered && line.heavy.load(Ordering::Relaxed) != 0);
    // Relaxed: ordered by the fence above. The swap consumes the announcement, so that
    // the messages published before the sleepers run do not each make a syscall.
    line.announced.load(Ordering::Relaxed) != 0 && wake_announced(line)
}

/// The part of [`wake`] that runs only when a waiter announced itself.
#[cold]
#[inline(never)]
fn wake_announced(line: &WaitLine) -> bool {
    // Relaxed: ordered by the fence in `wake`. Every thread that announced itself before
    // this swap read the futex word before the bump below, so the wake-all (or the changed
    // word) reaches each of them.
    if line.announced.swap(0, Ordering::Relaxed) == 0 {
        return false;
    }
    // SYNC(futex): Release pairs with the Acquire load of the futex word in `park`.
    line.futex.bump();
    line.futex.wake_all();
    true
}

/// Prepares a wait line of a ring being created: promises heavy fences on it if this
/// process can issue them (a guess for the processes that will wait there, each of which
/// withdraws the promise in [`advertise`] if it cannot keep it).
pub(crate) fn prepare(line: &WaitLine) {
    // Relaxed: published with the rest of the header by the segment's READY store.
    line.heavy
        .store(u32::from(asymmetric_fences()), Ordering::Relaxed);
}

/// Called by a handle that attaches and may wait on `line`: withdraws, for good, the
/// promise that every waiter there issues heavy fences if this process cannot (so that
/// wakers fall back to full fences). Also registers this process to receive heavy fences,
/// for its own wake-ups; returns whether it is registered, which the handle keeps and
/// passes to [`wake`] (it never changes once known).
///
/// A waker that read the promise a moment before it was withdrawn may miss the new
/// waiter's first sleep, which then ends with its slice ([`PARK_SLICE`]).
pub(crate) fn advertise(line: &WaitLine) -> bool {
    let registered = asymmetric_fences();
    if !registered {
        // Relaxed: read by wakers only to choose their fence (see `park` and `wake`).
        line.heavy.store(0, Ordering::Relaxed);
    }
    registered
}

/// Wakes whoever sleeps on `line` unconditionally (detach paths, not the hot path).
pub(crate) fn wake_always(line: &WaitLine) {
    // SYNC(wait-announce): as in `wake`.
    fence_seqcst();
    line.futex.bump();
    line.futex.wake_all();
}
