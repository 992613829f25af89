//! The receiving side of an MPMC queue.

use super::queue::{Queue, Spot, Taken};
use super::stats::Stats;
use crate::bytes::ReadAccess;
use crate::claims::{add, bump};
use crate::error::RecvError;
use crate::pace::Pacer;
use crate::role::Role;
use crate::roles::Presence;
use crate::time::Deadline;
use crate::view::SharedBytes;
use crate::wait::{self, Check, WaitStrategy};
use core::ops::Deref;
use std::time::Duration;

/// A receiving handle of an MPMC queue: one of a pool of competing workers. Each message
/// goes to exactly one consumer (again to another one if the first dies before it releases
/// it). `Send`, not `Sync`.
///
/// ```
/// # let name = format!("doc-mpmc-consumer-{}", std::process::id());
/// use ipcring::mpmc::{Consumer, Producer};
/// let mut rx = Consumer::create(&name, 64, 8)?;
/// let mut tx = Producer::open(&name)?;
/// tx.send_value(&42u64)?;
/// assert_eq!(rx.recv_value::<u64>()?, 42);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Consumer {
    q: Queue,
    strategy: WaitStrategy,
    /// A message taken and handed back by [`ReadGrant::keep`] (or a wrong-sized
    /// `recv_value`): the next receive returns it.
    kept: Option<(Spot, usize)>,
    /// The uncommitted claim at the head that we waited for last, and since when (once
    /// the head has moved on, it names another position and is not looked at).
    pending: Option<(u64, Deadline)>,
    /// When a non-blocking poll may next ask the kernel about the producers and about
    /// dead readers.
    pacer: Pacer,
}

impl Consumer {
    pub(crate) fn attach(q: Queue, strategy: WaitStrategy) -> Consumer {
        // A consumer that died in the slot we now hold may have left a message taken and
        // not released: ours to deliver first.
        let kept = match q.adopt_at(q.inherited, false) {
            Some(Taken::At { at, len }) => Some((at, len)),
            _ => None,
        };
        Consumer {
            q,
            strategy,
            kept,
            pending: None,
            pacer: Pacer::default(),
        }
    }

    /// Largest message, in bytes: the slot size.
    pub fn max_message(&self) -> usize {
        self.q.geo.cells.slot_size
    }

    /// Number of slots (cells) of the queue.
    pub fn capacity(&self) -> usize {
        self.q.geo.cells.capacity
    }

    /// The queue's incarnation (see [`crate::spsc::Consumer::incarnation`]).
    pub fn incarnation(&self) -> u64 {
        self.q.region().incarnation()
    }

    /// How blocking calls wait.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Counters of the queue, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.q)
    }

    /// Receives the next message into `buf` (replacing its contents), waiting while the
    /// queue is empty. Returns the message length.
    ///
    /// # Errors
    /// `Disconnected` once the queue is drained and every producer that was attached is
    /// gone (messages that live consumers hold do not count; if such a consumer dies, a
    /// later receive delivers its message again); `Corrupted`.
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        let found = self.take_blocking(None)?;
        Ok(self.copy_out(found, buf))
    }

    /// Receives the next message into `buf` if one is committed; `Err(Empty)` otherwise.
    ///
    /// # Errors
    /// `Empty`, `Disconnected`, `Corrupted`.
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        let found = self.try_take()?;
        Ok(self.copy_out(found, buf))
    }

    /// Receives the next message into `buf`, waiting at most `timeout`.
    ///
    /// # Errors
    /// `Timeout`, or as [`Consumer::recv_into`].
    pub fn recv_timeout_into(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<usize, RecvError> {
        let found = self.take_blocking(Some(Deadline::after(timeout)))?;
        Ok(self.copy_out(found, buf))
    }

    /// Waits for the next message and lends it in place; it is released when the grant
    /// is dropped. If this process dies first, the message goes to another consumer.
    ///
    /// # Errors
    /// As [`Consumer::recv_into`].
    pub fn read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = self.take_blocking(None)?;
        Ok(self.grant(found))
    }

    /// Lends the next message in place if one is committed.
    ///
    /// # Errors
    /// As [`Consumer::try_recv_into`].
    pub fn try_read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = self.try_take()?;
        Ok(self.grant(found))
    }

    /// Lends the next message in place, waiting without blocking the thread while the
    /// queue is empty (feature `tokio`; see [`crate::task`]). Cancel-safe.
    ///
    /// # Errors
    /// As [`Consumer::try_read`], but never `Empty`.
    #[cfg(feature = "tokio")]
    pub async fn read_async(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = loop {
            match self.try_take() {
                Err(RecvError::Empty) => crate::task::ready(self).await,
                found => break found?,
            }
        };
        Ok(self.grant(found))
    }

    /// Like [`Consumer::read`], waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`Consumer::recv_timeout_into`].
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<ReadGrant<'_>, RecvError> {
        let found = self.take_blocking(Some(Deadline::after(timeout)))?;
        Ok(self.grant(found))
    }

    /// Receives a plain-old-data value, waiting while the queue is empty.
    ///
    /// # Errors
    /// `WrongSize` if the next message is not `size_of::<T>()` bytes long (it then stays
    /// with this consumer, for [`Consumer::read`]); otherwise as [`Consumer::recv_into`].
    pub fn recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        let found = self.take_blocking(None)?;
        self.value_of(found)
    }

    /// Receives a plain-old-data value if one is committed.
    ///
    /// # Errors
    /// `Empty`, or as [`Consumer::recv_value`].
    pub fn try_recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        let found = self.try_take()?;
        self.value_of(found)
    }

    #[inline]
    fn value_of<T: bytemuck::Pod>(&mut self, (at, len): (Spot, usize)) -> Result<T, RecvError> {
        let expected = core::mem::size_of::<T>();
        if len != expected {
            self.kept = Some((at, len));
            return Err(RecvError::WrongSize {
                found: len,
                expected,
            });
        }
        // SAFETY: we took `at` with this length and have not released it.
        let access = unsafe { self.q.read_window(at, len) };
        let value = access.value();
        access.end();
        self.release(at, len);
        Ok(value)
    }

    #[inline]
    fn copy_out(&mut self, (at, len): (Spot, usize), buf: &mut Vec<u8>) -> usize {
        // SAFETY: we took `at` with this length and have not released it.
        let access = unsafe { self.q.read_window(at, len) };
        access.copy_into(buf);
        access.end();
        self.release(at, len);
        len
    }

    fn grant(&mut self, (at, len): (Spot, usize)) -> ReadGrant<'_> {
        // SAFETY: we took `at` with this length; the grant releases it.
        let access = unsafe { self.q.read_window(at, len) };
        // SAFETY: the view lives in the grant, which ends the window and releases the
        // message only when it drops.
        let view = unsafe { access.view() };
        ReadGrant {
            consumer: self,
            at,
            len,
            access: Some(access),
            view,
            release: true,
        }
    }

    #[inline]
    fn release(&mut self, at: Spot, len: usize) {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::MpmcBeforeRelease);
        self.q.release(at);
        bump(&self.q.own().received);
        add(&self.q.own().bytes, len as u64);
    }

    /// One look for a message. `level` says how much it may cost: at `Spin` only the
    /// head; from `Park` on, also passing a dead producer's claim (asked of the kernel at
    /// `Peer`) or a stalled one, and adopting a dead consumer's message.
    fn look(&mut self, level: Check) -> Result<Option<(Spot, usize)>, RecvError> {
        if let Some(kept) = self.kept.take() {
            return Ok(Some(kept));
        }
        let thorough = level == Check::Peer;
        loop {
            match self.q.take(level != Check::Spin)? {
                Taken::At { at, len } => {
                    self.pending = None;
                    return Ok(Some((at, len)));
                }
                Taken::Pending { pos } if level != Check::Spin => {
                    let stalled = self.stalled(pos);
                    if !self.q.pass(pos, thorough, stalled) {
                        return Ok(None);
                    }
                }
                Taken::Empty if level != Check::Spin => {
                    return Ok(match self.q.adopt(thorough) {
                        Some(Taken::At { at, len }) => Some((at, len)),
                        _ => None,
                    });
                }
                Taken::Pending { .. } | Taken::Empty => return Ok(None),
            }
        }
    }

    /// Whether the claim at the head has been pending longer than the stall timeout.
    fn stalled(&mut self, pos: u64) -> bool {
        let Some(limit) = self.q.geo.stall else {
            return false;
        };
        match self.pending {
            Some((p, since)) if p == pos => {
                Deadline::now().as_nanos() - since.as_nanos() >= limit.as_nanos() as u64
            }
            _ => {
                self.pending = Some((pos, Deadline::now()));
                false
            }
        }
    }

    /// If every producer is gone, looks once more and reports `Disconnected` when the
    /// queue is drained.
    fn check_producers(&mut self, thorough: bool) -> Option<Result<(Spot, usize), RecvError>> {
        if self.q.broken() {
            return Some(Err(RecvError::Corrupted));
        }
        if self.q.presence(Role::Producer, thorough) != Presence::Gone {
            return None;
        }
        // Everything the producers committed before they left is visible now (the detach
        // flag is Acquire; a death is seen through a syscall). The last look asks the
        // kernel about consumers that hold messages: one that died with a message must
        // not leave it undelivered behind a `Disconnected`.
        match self.look(Check::Peer) {
            Ok(Some(found)) => Some(Ok(found)),
            Ok(None) => Some(Err(RecvError::Disconnected)),
            Err(e) => Some(Err(e)),
        }
    }

    fn try_take(&mut self) -> Result<(Spot, usize), RecvError> {
        // A message at the head is taken as a blocking receive takes it: the clock that
        // paces the costlier looks is read only when there is none.
        if self.kept.is_none() {
            if let Ok(found) = self.q.take_fast() {
                return Ok(found);
            }
        }
        let level = self.pacer.level();
        if let Some(found) = self.look(level)? {
            return Ok(found);
        }
        let r = self.check_producers(level == Check::Peer);
        self.pacer.after(&r);
        r.unwrap_or(Err(RecvError::Empty))
    }

    #[inline]
    fn take_blocking(&mut self, deadline: Option<Deadline>) -> Result<(Spot, usize), RecvError> {
        if self.kept.is_none() {
            if let Ok(found) = self.q.take_fast() {
                return Ok(found);
            }
        }
        self.wait_take(deadline)
    }

    /// Takes a message once one is committed (or kept).
    #[inline(never)]
    fn wait_take(&mut self, deadline: Option<Deadline>) -> Result<(Spot, usize), RecvError> {
        if let Some(found) = self.look(Check::Spin)? {
            return Ok(found);
        }
        // SAFETY: the line lives in the queue that `self` owns, for the whole wait.
        let line = unsafe { self.q.wait_line_unbound(Role::Consumer) };
        let outcome = wait::block_on(self.strategy, 0, line, deadline, |level| {
            self.look_for_message(level)
        });
        outcome.unwrap_or(Err(RecvError::Timeout))
    }

    /// One look of a wait for a message, at `level` (see [`Check`]): [`Consumer::look`],
    /// and from `Park` on, the end of the queue once every producer is gone.
    fn look_for_message(&mut self, level: Check) -> Option<Result<(Spot, usize), RecvError>> {
        match self.look(level) {
            Ok(Some(found)) => return Some(Ok(found)),
            Err(e) => return Some(Err(e)),
            Ok(None) => {}
        }
        if level == Check::Spin {
            return None;
        }
        self.check_producers(level == Check::Peer)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        // A kept message stays claimed by us; once we are detached, another consumer
        // adopts it.
        self.q.detach();
    }
}

/// A message lent in place. Dereferences to a [`SharedBytes`] view of its bytes; dropping
/// it releases the message.
#[derive(Debug)]
pub struct ReadGrant<'a> {
    consumer: &'a mut Consumer,
    at: Spot,
    len: usize,
    access: Option<ReadAccess>,
    view: SharedBytes<'a>,
    /// Whether dropping the grant releases the message (`keep` clears it).
    release: bool,
}

impl ReadGrant<'_> {
    /// The message's position: the ticket of its cell, the number of the message in the
    /// queue's order of claims (wrapping at 2^64). Stable: a consumer that adopts the
    /// message after this one died finds it at the same position; with
    /// [`Consumer::incarnation`] it names the message.
    pub fn position(&self) -> u64 {
        self.at.pos
    }

    /// Ends the loan without releasing the message: the next receive of this consumer
    /// returns it again.
    pub fn keep(mut self) {
        self.release = false;
        self.consumer.kept = Some((self.at, self.len));
    }
}

impl<'a> Deref for ReadGrant<'a> {
    type Target = SharedBytes<'a>;
    fn deref(&self) -> &SharedBytes<'a> {
        &self.view
    }
}

impl Drop for ReadGrant<'_> {
    fn drop(&mut self) {
        if let Some(a) = self.access.take() {
            a.end();
        }
        if self.release {
            self.consumer.release(self.at, self.len);
        }
    }
}

impl crate::Waitable for Consumer {}

impl crate::waitset::sealed::Waiting for Consumer {
    fn line(&self) -> &crate::layout::WaitLine {
        self.q.wait_line(Role::Consumer)
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.q.region().keep()
    }

    /// Ready when a receive would return a message or an error. A message found is taken
    /// and kept, as [`ReadGrant::keep`] keeps one: the next receive returns it (and if
    /// this consumer is dropped first, another one adopts it).
    fn ready(&mut self, level: Check) -> bool {
        let outcome = self.look_for_message(level);
        // A crash of the producers that the kernel told us of: the next `try_recv_into`
        // asks it too, and says so.
        self.pacer.after(&outcome);
        match outcome {
            Some(Ok(found)) => {
                self.kept = Some(found);
                true
            }
            Some(Err(_)) => true,
            None => false,
        }
    }
}

#[cfg(feature = "tokio")]
crate::task::receiver!(Consumer);

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::Consumer;

    /// A message that a consumer kept and never released goes to another consumer once
    /// the first one is gone, at the position it had.
    #[test]
    fn an_adopted_message_keeps_its_position() {
        let name = format!("unit-mpmc-position-{}", std::process::id());
        let mut a = Consumer::create(&name, 8, 16).expect("create");
        let mut b = Consumer::open(&name).expect("open");
        let mut tx = crate::mpmc::Producer::open(&name).expect("open");
        tx.send(b"job").expect("send");
        let g = a.try_read().expect("read");
        let lent = g.position();
        g.keep();
        drop(a);
        let adopted = b.read_timeout(std::time::Duration::from_secs(5));
        let adopted = adopted.map(|g| (g.position(), g.to_vec()));
        crate::unlink(&name).expect("remove");
        assert_eq!(adopted, Ok((lent, b"job".to_vec())));
    }
}
