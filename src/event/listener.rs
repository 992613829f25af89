//! The waiting side of an event segment.

use super::fired::Fired;
use super::peers::Peers;
use super::shared::Events;
use super::stats::Stats;
use crate::claims::add;
use crate::error::RecvError;
use crate::pace::Pacer;
use crate::role::Role;
use crate::sync::Ordering;
use crate::time::Deadline;
use crate::wait::{self, Check, WaitStrategy};
use std::time::Duration;

/// A listening handle of an event segment: waits until ids fire (or peers leave) and
/// reports each id that fired once, with how many times. Any number of listeners (up to
/// the segment's listener slots) each see every notification. `Send`, not `Sync`.
///
/// A listener sees what fires from its attach on: it starts from the counts it finds then.
/// Each wait reports what fired since the wait before (a count per id, never lost, never
/// twice), and the peers that left since: a departure is reported as soon as a handle is
/// dropped, and within a park slice (20 ms) of a crash for a listener that sleeps, within
/// about 10 ms for one that polls.
///
/// ```
/// # let name = format!("doc-event-listener-{}", std::process::id());
/// use ipcring::event::{Listener, Notifier, Party};
/// let mut rx = Listener::create(&name, 16)?;   // ids 0 to 15
/// let mut tx = Notifier::open(&name)?;
/// tx.notify(7)?;
/// let fired = rx.wait()?;
/// assert_eq!(fired.count(7), 1);
///
/// drop(tx);                                   // a departure is an event too
/// let fired = rx.wait()?;
/// assert_eq!(fired.departures()[0].role, Party::Notifier);
/// # drop(rx);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Listener {
    ev: Events,
    strategy: WaitStrategy,
    /// The count of each id when this listener last scanned it.
    seen: Box<[u64]>,
    /// The epoch read before the last scan.
    epoch: u64,
    peers: Peers,
    fired: Fired,
    /// Whether `fired` was lent by the last wait: the next look starts a new report. A
    /// look that does not lend it (a `WaitSet`'s, an async wait's) adds to it, and the next
    /// wait lends what it holds.
    lent: bool,
    pacer: Pacer,
}

impl Listener {
    pub(crate) fn attach(ev: Events, strategy: WaitStrategy) -> Listener {
        // Before the counters (SYNC(epoch)): a count whose bump this read misses changes
        // the epoch for the first look, which scans again.
        let epoch = ev.epoch();
        // SYNC(fire): Acquire, as in `scan`.
        let seen = (0..ev.geo.ids)
            .map(|id| ev.counter(id).load(Ordering::Acquire))
            .collect();
        let peers = Peers::new(&ev);
        Listener {
            fired: Fired::new(ev.geo.ids),
            ev,
            strategy,
            seen,
            epoch,
            peers,
            lent: false,
            pacer: Pacer::default(),
        }
    }

    /// Number of event ids of the segment: ids are 0 to this minus one.
    pub fn ids(&self) -> usize {
        self.ev.geo.ids
    }

    /// How blocking calls wait.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Counters of the segment, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.ev)
    }

    /// What fired (and who left) since the last wait, if anything; `Err(Empty)` otherwise.
    /// Costs one load while nothing happened (and, now and then, a liveness syscall).
    ///
    /// # Errors
    /// `Empty`; `Corrupted` if a handle found the segment corrupted.
    pub fn try_wait(&mut self) -> Result<&Fired, RecvError> {
        self.try_look()?;
        Ok(self.lend())
    }

    /// Waits until an id fires or a peer leaves; returns what fired (and who left) since
    /// the last wait.
    ///
    /// # Errors
    /// `Corrupted` if a handle found the segment corrupted. A segment that every notifier
    /// left is not an error: the departures are reported, and the wait goes on.
    pub fn wait(&mut self) -> Result<&Fired, RecvError> {
        self.wait_until(None)?;
        Ok(self.lend())
    }

    /// As [`Listener::wait`], for at most `timeout`.
    ///
    /// # Errors
    /// `Timeout`, or as [`Listener::wait`].
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<&Fired, RecvError> {
        self.wait_until(Some(Deadline::after(timeout)))?;
        Ok(self.lend())
    }

    /// As [`Listener::wait`], without blocking the thread (feature `tokio`; see
    /// [`crate::task`]). Cancel-safe: what a dropped future found is reported by the next
    /// wait.
    ///
    /// # Errors
    /// As [`Listener::wait`].
    #[cfg(all(feature = "tokio", not(ipcring_loom)))]
    pub async fn wait_async(&mut self) -> Result<&Fired, RecvError> {
        loop {
            match self.try_look() {
                Err(RecvError::Empty) => crate::task::ready(self).await,
                r => {
                    r?;
                    return Ok(self.lend());
                }
            }
        }
    }

    /// A non-blocking look; `Ok` when the report holds something.
    fn try_look(&mut self) -> Result<(), RecvError> {
        self.begin();
        let level = self.pacer.level();
        self.look(level).unwrap_or(Err(RecvError::Empty))
    }

    fn wait_until(&mut self, deadline: Option<Deadline>) -> Result<(), RecvError> {
        self.begin();
        if let Some(r) = self.look(Check::Spin) {
            return r;
        }
        // SAFETY: the line lives in the segment that `self` maps, for the whole wait.
        let line = unsafe { self.ev.wait_line_unbound(Role::Consumer) };
        let outcome = wait::block_on(self.strategy, 0, line, deadline, |level| self.look(level));
        outcome.unwrap_or(Err(RecvError::Timeout))
    }

    /// Starts a new report if the last one was lent.
    fn begin(&mut self) {
        if self.lent {
            self.fired.clear();
            self.lent = false;
        }
    }

    /// Lends the report (counted as received).
    fn lend(&mut self) -> &Fired {
        self.fired.sort();
        self.lent = true;
        add(&self.ev.own().received, self.fired.total());
        &self.fired
    }

    /// One look, at `level`: adds to the report what fired since the last look (if the
    /// epoch moved) and who left (if the roster moved, or at `Check::Peer` the kernel says
    /// so). `Some` once the report holds something, or on an error.
    fn look(&mut self, level: Check) -> Option<Result<(), RecvError>> {
        if level != Check::Spin && self.ev.broken() {
            return Some(Err(RecvError::Corrupted));
        }
        // The roster before the epoch: a graceful departure that this look reports (the
        // roster's Acquire pairs with the detach's Release) comes with every notification
        // the peer made before it, which the epoch read after it covers.
        let roster = self.ev.roster();
        let epoch = self.ev.epoch();
        if epoch != self.epoch {
            // Before the scan (SYNC(epoch)).
            self.epoch = epoch;
            self.scan();
        }
        self.peers.look(&self.ev, roster, level, &mut self.fired);
        (!self.fired.is_empty()).then_some(Ok(()))
    }

    /// Adds to the report every id whose count moved since the last scan.
    fn scan(&mut self) {
        for (id, seen) in self.seen.iter_mut().enumerate() {
            // SYNC(fire): Acquire, pairs with the Release increment in `Events::fire`.
            let now = self.ev.counter(id).load(Ordering::Acquire);
            let moved = now.wrapping_sub(*seen);
            if moved != 0 {
                *seen = now;
                self.fired.add(id, moved);
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.ev.detach();
    }
}

impl crate::Waitable for Listener {}

impl crate::waitset::sealed::Waiting for Listener {
    fn line(&self) -> &crate::layout::WaitLine {
        self.ev.wait_line(Role::Consumer)
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.ev.region().keep()
    }

    fn begin(&mut self) {
        Listener::begin(self);
    }

    /// Ready when a [`Listener::try_wait`] would report something (or an error). What the
    /// look found is kept in the report, which the next wait lends.
    fn ready(&mut self, level: Check) -> bool {
        self.look(level).is_some()
    }
}
