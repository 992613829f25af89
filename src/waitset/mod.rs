//! Waiting on many rings at once: [`WaitSet`].
//!
//! A wait on many rings runs the protocol of a wait on one (see `wait.rs`) over all of
//! them: it spins while it polls every ring, and only when none has work does it announce
//! itself on every ring's wait line, fence once, poll every ring again, and sleep in one
//! `futex_waitv` on all the lines' futex words. A peer that publishes to any of them finds
//! the announcement and wakes it, as it would a waiter on that ring alone; a busy set
//! makes no syscall.

#[cfg(not(ipcring_loom))]
mod pollable;
#[cfg(not(ipcring_loom))]
pub(crate) mod reactor;
mod ready;

pub use ready::Ready;

use crate::futex::Beds;
use crate::layout::WaitLine;
use crate::pace::Pacer;
use crate::time::Deadline;
use crate::wait::{self, Check, Lines, WaitStrategy};
use core::ptr::NonNull;
use core::time::Duration;

/// A handle that a [`WaitSet`] can wait for: a receiving handle (ready when a
/// non-blocking receive would not say `Empty`: a message, or the end of the ring) or the
/// [`Room`] of a sending handle (ready when a non-blocking send of that many bytes would
/// not say `Full`). Implemented by the handles of every ring kind; sealed.
// Sealed: its supertrait is the crate's own, so that outside the crate it can be named but
// neither implemented nor called.
#[allow(private_bounds)]
pub trait Waitable: sealed::Waiting {}

pub(crate) mod sealed {
    use crate::layout::WaitLine;
    use crate::wait::Check;

    /// What a [`super::WaitSet`] asks of a handle: the protocol of its own blocking call,
    /// without taking anything.
    pub(crate) trait Waiting {
        /// The line the handle sleeps on while it waits.
        fn line(&self) -> &WaitLine;

        /// Keeps the memory of [`Waiting::line`] mapped, for the helper thread.
        #[cfg(not(ipcring_loom))]
        fn keep(&self) -> crate::region::Keep;

        /// A wait starts: forget what an earlier wait counted.
        fn begin(&mut self) {}

        /// Whether the handle's non-blocking call would do something now (see
        /// [`super::Waitable`]); at `Check::Park` and `Check::Peer`, also what its own
        /// blocking call does at that level before it sleeps (hand its peer what it may
        /// wait for, ask about its peer's liveness).
        fn ready(&mut self, level: Check) -> bool;
    }
}

/// A sending handle as a [`WaitSet`] member: ready when a message of `len` bytes would
/// fit (or when a send would fail for another reason than `Full`). Made by the handle's
/// `room` method.
#[derive(Debug)]
pub struct Room<'a, P> {
    pub(crate) handle: &'a mut P,
    pub(crate) len: usize,
}

impl<P> Room<'_, P> {
    /// The handle.
    pub fn handle(&mut self) -> &mut P {
        self.handle
    }
}

/// Waits on many rings at once, of any kind, in either direction.
///
/// Its [`wait`](WaitSet::wait) takes the handles to wait for, as a slice, and reports
/// which of them are ready; the caller then makes its non-blocking calls on those. No
/// syscall while a ring has work. When none has, it sleeps in one syscall on all of them
/// (`futex_waitv`, Linux ≥ 5.16). Beyond 128 rings it naps a millisecond at a time on
/// 128 of them in turn (on an older kernel, on one ring at a time) and looks at all of
/// them between naps.
///
/// A handle whose peer died (or detached) is ready: its non-blocking call reports it, as
/// a single-ring wait would. Readiness is a promise kept almost always, as that of
/// `epoll` is: a handle is rarely ready with nothing for its call to do (a peer in the
/// middle of leaving: its flag said gone, its lock was not yet released), and the call
/// then says `Empty` or `Full`, which a caller's loop takes in its stride.
///
/// ```
/// # let a = format!("doc-waitset-a-{}", std::process::id());
/// # let b = format!("doc-waitset-b-{}", std::process::id());
/// use ipcring::spsc::{Consumer, Producer};
/// use ipcring::WaitSet;
/// let mut rx_a = Consumer::create(&a, 4096)?;
/// let mut rx_b = Consumer::create(&b, 4096)?;
/// let mut tx_b = Producer::open(&b)?;
/// tx_b.send(b"to b")?;
///
/// let mut set = WaitSet::new();
/// let ready = set.wait(&mut [&mut rx_a, &mut rx_b]);
/// assert_eq!(ready.iter().collect::<Vec<_>>(), [1]);
/// let mut buf = Vec::new();
/// rx_b.try_recv_into(&mut buf)?;
/// assert_eq!(buf, b"to b");
/// # ipcring::unlink(&a)?; ipcring::unlink(&b)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct WaitSet {
    strategy: WaitStrategy,
    ready: Ready,
    /// The buffers of a wait, kept to make no allocation once they have grown: the lines
    /// of the handles of the current wait (empty between waits), and what the kernel is
    /// handed for them.
    lines: Vec<NonNull<WaitLine>>,
    beds: Beds,
    /// When a look without a sleep before it may next ask about the peers' liveness.
    pacer: Pacer,
    #[cfg(not(ipcring_loom))]
    armed: pollable::Armed,
}

// SAFETY: `lines` holds pointers only during a wait, which borrows the set mutably; the
// rest is plain data.
unsafe impl Send for WaitSet {}
// SAFETY: no `&self` method reads `lines`.
unsafe impl Sync for WaitSet {}

impl WaitSet {
    /// A set that waits with the default strategy: spins for a few tens of microseconds,
    /// yields, then sleeps.
    pub fn new() -> WaitSet {
        WaitSet::default()
    }

    /// How [`WaitSet::wait`] waits while no ring is ready.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Waits until at least one of `handles` is ready; returns which are (their indices
    /// in `handles`). With no handles, returns an empty set at once.
    pub fn wait(&mut self, handles: &mut [&mut dyn Waitable]) -> &Ready {
        self.wait_until(handles, None)
    }

    /// As [`WaitSet::wait`], for at most `timeout`: the set returned is empty if none was
    /// ready by then.
    pub fn wait_timeout(&mut self, handles: &mut [&mut dyn Waitable], timeout: Duration) -> &Ready {
        self.wait_until(handles, Some(Deadline::after(timeout)))
    }

    /// Which of `handles` are ready now, without waiting (and without a syscall, but for
    /// a liveness check of their peers now and then).
    pub fn poll(&mut self, handles: &mut [&mut dyn Waitable]) -> &Ready {
        self.ready.reset(handles.len());
        for h in handles.iter_mut() {
            h.begin();
        }
        let level = self.pacer.level();
        Self::look_into(&mut self.ready, handles, level);
        &self.ready
    }

    fn wait_until(
        &mut self,
        handles: &mut [&mut dyn Waitable],
        deadline: Option<Deadline>,
    ) -> &Ready {
        self.ready.reset(handles.len());
        if handles.is_empty() {
            return &self.ready;
        }
        for h in handles.iter_mut() {
            h.begin();
        }
        self.lines.clear();
        self.lines
            .extend(handles.iter().map(|h| NonNull::from(h.line())));
        // SAFETY: `NonNull<WaitLine>` and `&WaitLine` have the same layout, and each line
        // lives in a ring that its handle maps: the handles are borrowed for this whole
        // call, none of them unmaps its ring while it is borrowed, and the slice is
        // dropped before the call returns.
        let lines: &[&WaitLine] =
            unsafe { core::slice::from_raw_parts(self.lines.as_ptr().cast(), self.lines.len()) };
        let ready = &mut self.ready;
        let look = |level| Self::look_into(ready, handles, level).then_some(());
        let lines = match lines {
            [one] => Lines::One(one),
            _ => Lines::Many(lines, &mut self.beds),
        };
        let _ = wait::block_on_lines(self.strategy, 0, lines, deadline, look);
        self.lines.clear();
        &self.ready
    }

    /// Asks every handle at `level`; records which are ready.
    fn look_into(ready: &mut Ready, handles: &mut [&mut dyn Waitable], level: Check) -> bool {
        let mut any = false;
        for (i, h) in handles.iter_mut().enumerate() {
            if h.ready(level) {
                ready.insert(i);
                any = true;
            }
        }
        any
    }
}
