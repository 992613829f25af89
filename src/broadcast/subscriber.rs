//! The receiving side of a broadcast topic.

use super::reading::Look;
use super::stats::{Stats, SubscriberStats};
use super::topic::{Join, Topic};
use crate::bytes::ReadAccess;
use crate::cells::Spot;
use crate::claims::{self, add, bump};
use crate::error::RecvError;
use crate::pace::Pacer;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::Ordering;
use crate::time::Deadline;
use crate::view::SharedBytes;
use crate::wait::{self, Check, WaitStrategy};
use core::ops::Deref;
use std::time::Duration;

/// Most positions one receive passes (skipped positions, overwritten ones of a join's
/// backlog) before it looks at the clock and the wait strategy again.
const PASSES_PER_LOOK: usize = 1024;

/// What a receive did with the message it found.
enum Took<R> {
    /// Copied out: checked, then passed.
    Copied(R),
    /// Copied out for a read grant: checked, passed when the grant is dropped.
    Checked(R),
    /// Lent in place: passed when the grant is dropped.
    Lent(R),
}

/// A subscribing handle of a topic: receives every message published after it joined
/// (or, with [`crate::broadcast::Builder::from_oldest`], every message the topic still
/// held then), in the one order that every subscriber sees. `Send`, not `Sync`.
///
/// In a lossy topic a subscriber that falls a lap behind is overtaken: its next receive
/// returns [`RecvError::Lagged`] with the exact number of positions it lost, and the one
/// after resumes at the oldest message still held. In a lossless topic publishers wait
/// for it, unless the topic has a `max_lag` and it kept them waiting that long: then it
/// is evicted, and its next receive returns [`RecvError::Evicted`] and rejoins at the
/// next message.
///
/// ```
/// # let name = format!("doc-sub-{}", std::process::id());
/// use ipcring::broadcast::{Publisher, Subscriber};
/// let mut rx = Subscriber::create(&name, 64, 8)?;
/// let mut tx = Publisher::open(&name)?;
/// tx.send_value(&42u64)?;
/// assert_eq!(rx.recv_value::<u64>()?, 42);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Subscriber {
    t: Topic,
    strategy: WaitStrategy,
    /// The next position to read.
    cursor: u64,
    /// The cursor as last published in our slot (lossless topics).
    published: u64,
    /// The first position that publishers of a lossless topic are sure to hold for us;
    /// the ones before (the backlog of a join at the oldest message) may be overwritten
    /// before we read them, and are passed silently then.
    safe: u64,
    /// A publisher evicted us: the next receive says so.
    evicted: bool,
    /// What a look for a [`WaitSet`](crate::WaitSet) met and already dealt with (a lag,
    /// passed; an eviction, joined again after): the next receive reports it.
    held: Option<RecvError>,
    /// The copy that a [`ReadGrant`] lends where the message cannot be lent in place.
    scratch: Vec<u8>,
    /// The uncommitted claim at the cursor that we waited for last, and since when (once
    /// the cursor has moved on, it names another position and is not looked at).
    pending: Option<(u64, Deadline)>,
    /// When a non-blocking poll may next ask the kernel about the publishers.
    pacer: Pacer,
    /// Looks that found nothing to read, which pace [`Topic::make_way`].
    empty: u32,
}

impl Subscriber {
    pub(crate) fn attach(t: Topic, strategy: WaitStrategy, join: Join) -> Subscriber {
        let (cursor, safe) = t.join(join);
        Subscriber {
            t,
            strategy,
            cursor,
            published: cursor,
            safe,
            evicted: false,
            held: None,
            scratch: Vec::new(),
            pending: None,
            empty: 0,
            pacer: Pacer::default(),
        }
    }

    /// Largest message, in bytes: the slot size.
    pub fn max_message(&self) -> usize {
        self.t.geo.cells.slot_size
    }

    /// Number of slots (cells) of the topic: the messages it holds.
    pub fn capacity(&self) -> usize {
        self.t.geo.cells.capacity
    }

    /// Whether the topic is lossy.
    pub fn is_lossy(&self) -> bool {
        self.t.geo.lossy
    }

    /// The topic's incarnation (see [`crate::spsc::Consumer::incarnation`]).
    pub fn incarnation(&self) -> u64 {
        self.t.region().incarnation()
    }

    /// How blocking calls wait.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Counters of the topic, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.t)
    }

    /// This subscriber's own counters (those of its role slot, carried on from the
    /// slot's earlier holders).
    pub fn own_stats(&self) -> SubscriberStats {
        let c = self.t.own();
        // Relaxed: statistics.
        SubscriberStats {
            received: c.received.load(Ordering::Relaxed),
            missed: c.missed.load(Ordering::Relaxed),
            evicted: c.evicted.load(Ordering::Relaxed),
        }
    }

    /// Receives the next message into `buf` (replacing its contents), waiting until one
    /// is published; returns its length.
    ///
    /// # Errors
    /// `Lagged` (lossy topics: messages were overwritten before we read them; the next
    /// receive resumes at the oldest message held), `Evicted` (lossless topics with a
    /// `max_lag`), `Disconnected` (every publisher is gone and nothing is left),
    /// `Corrupted`.
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        self.recv(None, true, None, |t, at, len| {
            t.copy_into(at, len, buf);
            Took::Copied(len)
        })
    }

    /// Receives the next message into `buf` if one is published; `Err(Empty)` otherwise.
    ///
    /// # Errors
    /// `Empty`, or as [`Subscriber::recv_into`].
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        self.recv(None, false, None, |t, at, len| {
            t.copy_into(at, len, buf);
            Took::Copied(len)
        })
    }

    /// Receives the next message into `buf`, waiting at most `timeout`.
    ///
    /// # Errors
    /// `Timeout`, or as [`Subscriber::recv_into`].
    pub fn recv_timeout_into(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<usize, RecvError> {
        let deadline = Some(Deadline::after(timeout));
        self.recv(deadline, true, None, |t, at, len| {
            t.copy_into(at, len, buf);
            Took::Copied(len)
        })
    }

    /// Lends the next message, waiting until one is published; dropping the grant moves
    /// on to the next message. In a lossless topic without a `max_lag` the grant is the
    /// message in place (zero-copy: publishers do not overwrite a slot that a subscriber
    /// has not passed); otherwise publishers may overwrite it at any time, so the grant is
    /// a checked copy (the same as [`Subscriber::recv_into`] into a buffer of the
    /// subscriber's own).
    ///
    /// ```
    /// # let name = format!("doc-sub-read-{}", std::process::id());
    /// # let mut tx = ipcring::broadcast::Publisher::create(&name, 8, 64)?;
    /// # let mut rx = ipcring::broadcast::Subscriber::open(&name)?;
    /// tx.send(b"hello")?;
    /// let msg = rx.read()?;
    /// assert_eq!(&*msg, b"hello");
    /// drop(msg);
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Subscriber::recv_into`].
    pub fn read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        self.lend(None, true)
    }

    /// Lends the next message if one is published; `Err(Empty)` otherwise.
    ///
    /// # Errors
    /// As [`Subscriber::try_recv_into`].
    pub fn try_read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        self.lend(None, false)
    }

    /// Like [`Subscriber::read`], waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`Subscriber::recv_timeout_into`].
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<ReadGrant<'_>, RecvError> {
        self.lend(Some(Deadline::after(timeout)), true)
    }

    fn lend(
        &mut self,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<ReadGrant<'_>, RecvError> {
        let lent = self.take_lent(deadline, block)?;
        Ok(self.grant(lent))
    }

    /// Lends the next message, waiting without blocking the thread while none is
    /// published (feature `tokio`; see [`crate::task`]). Cancel-safe.
    ///
    /// # Errors
    /// As [`Subscriber::try_read`], but never `Empty`.
    #[cfg(feature = "tokio")]
    pub async fn read_async(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let lent = loop {
            match self.take_lent(None, false) {
                Err(RecvError::Empty) => crate::task::ready(self).await,
                lent => break lent?,
            }
        };
        Ok(self.grant(lent))
    }

    /// The next message as [`Subscriber::lend`] finds it: in place (a window on its
    /// cell) or copied into the scratch buffer.
    fn take_lent(&mut self, deadline: Option<Deadline>, block: bool) -> Result<Lent, RecvError> {
        let in_place = !self.t.geo.lossy && self.t.geo.max_lag.is_none();
        let safe = self.safe;
        let mut scratch = core::mem::take(&mut self.scratch);
        let found = self.recv(deadline, block, None, |t, at, len| {
            // Positions before `safe` (a join's backlog) may be overwritten: copied.
            if in_place && !claims::past(safe, at.pos) {
                Took::Lent(Lent::InPlace(at, len))
            } else {
                t.copy_into(at, len, &mut scratch);
                Took::Checked(Lent::Copied)
            }
        });
        self.scratch = scratch;
        let lent = match found? {
            Lent::InPlace(at, len) => {
                // SAFETY: the message at `at` is committed with this length (the look
                // checked it), and publishers do not write its cell before our cursor has
                // passed it, which the grant's drop does.
                Lent::Window(unsafe { self.t.cells.read_window(at, len) })
            }
            copied => copied,
        };
        Ok(lent)
    }

    /// The grant of a message that [`Subscriber::take_lent`] found.
    fn grant(&mut self, lent: Lent) -> ReadGrant<'_> {
        let view = match &lent {
            // SAFETY: the view lives in the grant, which ends the window and passes the
            // message only when it drops.
            Lent::Window(access) => unsafe { access.view() },
            // SAFETY: the grant holds the subscriber, and with it the scratch copy, which
            // nothing writes until the grant is gone.
            _ => unsafe { SharedBytes::private(self.scratch.as_ptr(), self.scratch.len()) },
        };
        ReadGrant {
            subscriber: self,
            lent,
            view,
            pass: true,
        }
    }

    /// Receives the next message as a plain-old-data value.
    ///
    /// # Errors
    /// `WrongSize` if the message does not have the size of `T` (it is not consumed), or
    /// as [`Subscriber::recv_into`].
    pub fn recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        self.recv_value_with(true)
    }

    /// Receives the next message as a plain-old-data value, if one is published.
    ///
    /// # Errors
    /// `Empty`, or as [`Subscriber::recv_value`].
    pub fn try_recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        self.recv_value_with(false)
    }

    fn recv_value_with<T: bytemuck::Pod>(&mut self, block: bool) -> Result<T, RecvError> {
        let size = core::mem::size_of::<T>();
        self.recv(None, block, Some(size), |t, at, _| {
            let mut v = T::zeroed();
            t.copy_to(at, bytemuck::bytes_of_mut(&mut v));
            Took::Copied(v)
        })
    }

    /// Receives one message with `take` (which copies it out), waiting if `block` (until
    /// `deadline`). `size`: the length the message must have.
    fn recv<R>(
        &mut self,
        deadline: Option<Deadline>,
        block: bool,
        size: Option<usize>,
        mut take: impl FnMut(&Topic, Spot, usize) -> Took<R>,
    ) -> Result<R, RecvError> {
        if self.evicted {
            self.evicted = false;
            return Err(self.rejoin());
        }
        if let Some(e) = self.held.take() {
            return Err(e);
        }
        // A committed message at the cursor: taken here, without the loop of `step`.
        if let Some((at, len, word)) = self.t.ready_at(self.cursor) {
            if size.map_or(true, |s| s == len) {
                let took = take(&self.t, at, len);
                if let Some(r) = self.took(took, at, len, word) {
                    return Ok(r);
                }
            }
        }
        if !block {
            // A message at the cursor is taken without the clock that paces the costlier
            // looks (and the liveness syscall).
            if let Some(done) = self.step(Check::Spin, size, &mut take) {
                return done;
            }
            let level = self.pacer.level();
            let r = self.step(level, size, &mut take);
            self.pacer.after(&r);
            return r.unwrap_or(Err(RecvError::Empty));
        }
        if let Some(done) = self.step(Check::Spin, size, &mut take) {
            return done;
        }
        // SAFETY: the line lives in the topic that `self` owns, for the whole wait.
        let line = unsafe { self.t.wait_line_unbound(Role::Consumer) };
        wait::block_on(self.strategy, 0, line, deadline, |level| {
            self.step(level, size, &mut take)
        })
        .unwrap_or(Err(RecvError::Timeout))
    }

    /// One look at the cursor, passing what holds no message: `None` if we must wait.
    /// `level` says how much it may cost: from `Park` on, it also skips a claim whose
    /// publisher is gone (asked of the kernel at `Peer`) and notices that every publisher
    /// is gone.
    fn step<R>(
        &mut self,
        level: Check,
        size: Option<usize>,
        take: &mut impl FnMut(&Topic, Spot, usize) -> Took<R>,
    ) -> Option<Result<R, RecvError>> {
        if level != Check::Spin && self.t.broken() {
            return Some(Err(RecvError::Corrupted));
        }
        let thorough = level == Check::Peer;
        for _ in 0..PASSES_PER_LOOK {
            let look = match self.t.look(self.cursor, level != Check::Spin) {
                Ok(look) => look,
                Err(e) => return Some(Err(e)),
            };
            match look {
                Look::Ready { at, len, word } => {
                    if let Some(size) = size.filter(|&s| s != len) {
                        return Some(Err(RecvError::WrongSize {
                            found: len,
                            expected: size,
                        }));
                    }
                    let took = take(&self.t, at, len);
                    if let Some(r) = self.took(took, at, len, word) {
                        return Some(Ok(r));
                    }
                    if let Some(e) = self.overwritten() {
                        return Some(Err(e));
                    }
                }
                Look::Skip => self.pass(),
                Look::Overwritten => {
                    if let Some(e) = self.overwritten() {
                        return Some(Err(e));
                    }
                }
                Look::Pending { word } => {
                    let c = self.cursor;
                    if level == Check::Spin
                        || !(self.t.skip_abandoned(c, word, thorough)
                            || (self.stalled(c) && self.t.pass_stalled(c, word)))
                    {
                        return None;
                    }
                }
                Look::Empty => {
                    if level == Check::Spin {
                        self.t.make_way(&mut self.empty);
                        return None;
                    }
                    if self.t.presence(Role::Producer, thorough) != Presence::Gone {
                        return None;
                    }
                    // Everything the publishers committed before they left is visible now
                    // (the detach flag is Acquire; a death is seen through a syscall).
                    return match self.t.look(self.cursor, true) {
                        Ok(Look::Empty) => Some(Err(RecvError::Disconnected)),
                        Ok(_) => self.step(Check::Park, size, take),
                        Err(e) => Some(Err(e)),
                    };
                }
            }
        }
        None
    }

    /// Finishes a receive of the message of `len` bytes at `at`, whose cell's word was
    /// `word`, with what `take` did: a copy is checked (and passed, unless a grant passes
    /// it when dropped). `None` if the copy raced with a publisher that overwrote the cell.
    #[inline(always)]
    fn took<R>(&mut self, took: Took<R>, at: Spot, len: usize, word: u64) -> Option<R> {
        match took {
            Took::Lent(r) => Some(r),
            Took::Copied(_) | Took::Checked(_) if !self.t.intact(at, word) => None,
            Took::Checked(r) => Some(r),
            Took::Copied(r) => {
                bump(&self.t.own().received);
                add(&self.t.own().bytes, len as u64);
                self.pass();
                Some(r)
            }
        }
    }

    /// Whether the claim at `pos` has been pending longer than the stall timeout.
    fn stalled(&mut self, pos: u64) -> bool {
        let Some(limit) = self.t.geo.stall else {
            return false;
        };
        match self.pending {
            Some((p, since)) if p == pos => since.elapsed() >= limit,
            _ => {
                self.pending = Some((pos, Deadline::now()));
                false
            }
        }
    }

    /// Moves the cursor past the position it names, and publishes it in a lossless topic.
    #[inline]
    fn pass(&mut self) {
        self.cursor = self.cursor.wrapping_add(1);
        if !self.t.geo.lossy {
            #[cfg(feature = "crash-points")]
            crate::crash::reached(crate::crash::Point::BroadcastBeforeCursor);
            if !self.t.publish_cursor(self.published, self.cursor) {
                self.evicted = true;
            }
            self.published = self.cursor;
        }
    }

    /// The message at the cursor was overwritten before we read it. A lossy topic says how
    /// many messages we lost, and resumes at the oldest one held; a lossless one passes it
    /// silently if it was in a join's backlog, and otherwise we were evicted.
    fn overwritten(&mut self) -> Option<RecvError> {
        if self.t.geo.lossy {
            let resume = self.t.oldest_after(self.cursor);
            let missed = resume.wrapping_sub(self.cursor);
            let counter = &self.t.own().missed;
            // Relaxed: statistics, written by this slot's holder only.
            counter.store(
                counter.load(Ordering::Relaxed).wrapping_add(missed),
                Ordering::Relaxed,
            );
            self.cursor = resume;
            return Some(RecvError::Lagged { missed });
        }
        if claims::past(self.safe, self.cursor) {
            self.pass();
            return None;
        }
        if self.evicted || self.t.was_evicted(self.published) {
            self.evicted = false;
            return Some(self.rejoin());
        }
        self.t.poison();
        Some(RecvError::Corrupted)
    }

    /// Joins again at the next message after an eviction; the error to report.
    fn rejoin(&mut self) -> RecvError {
        let (cursor, safe) = self.t.rejoin();
        self.cursor = cursor;
        self.published = cursor;
        self.safe = safe;
        RecvError::Evicted
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.t.detach();
    }
}

impl crate::Waitable for Subscriber {}

impl crate::waitset::sealed::Waiting for Subscriber {
    fn line(&self) -> &crate::layout::WaitLine {
        self.t.wait_line(Role::Consumer)
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.t.region().keep()
    }

    /// Ready when a receive would return a message or an error. The look is the step of
    /// a receive with a `take` that lends and so leaves the message where it is (nor
    /// passes it); what the step deals with on the way (skipped claims, a lag, an
    /// eviction) it deals with as a receive would, and a lag or an eviction is held for
    /// the next receive to report.
    fn ready(&mut self, level: Check) -> bool {
        if self.evicted || self.held.is_some() {
            return true;
        }
        let outcome = self.step(level, None, &mut |_: &Topic, _: Spot, _: usize| {
            Took::Lent(())
        });
        // A crash of the publishers that the kernel told us of: the next `try_recv_into`
        // asks it too, and says so.
        self.pacer.after(&outcome);
        match outcome {
            Some(Err(e @ (RecvError::Lagged { .. } | RecvError::Evicted))) => {
                self.held = Some(e);
                true
            }
            Some(_) => true,
            // A cursor that a pass could not publish: evicted, for the next receive.
            None => self.evicted,
        }
    }
}

/// What a read lends.
#[derive(Debug)]
enum Lent {
    /// Found in place, not yet opened (inside a receive).
    InPlace(Spot, usize),
    /// The message in place: the grant passes it when dropped.
    Window(ReadAccess),
    /// A checked copy in the subscriber's own buffer.
    Copied,
}

/// A message lent by [`Subscriber::read`]. Dereferences to a [`SharedBytes`] view of its
/// bytes; dropping it moves the subscriber on to the next message.
#[derive(Debug)]
pub struct ReadGrant<'a> {
    subscriber: &'a mut Subscriber,
    lent: Lent,
    view: SharedBytes<'a>,
    /// Whether dropping the grant moves on (`keep` clears it).
    pass: bool,
}

impl ReadGrant<'_> {
    /// The message's position: its number in the topic, the same for every subscriber
    /// (wrapping at 2^64); with [`Subscriber::incarnation`] it names the message.
    pub fn position(&self) -> u64 {
        // The grant has not passed the message yet: the cursor names it.
        self.subscriber.cursor
    }

    /// Ends the loan without moving on: the next receive of this subscriber returns the
    /// message again (in a lossy topic: if it has not been overwritten meanwhile).
    pub fn keep(mut self) {
        self.pass = false;
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
        if let Lent::Window(access) = core::mem::replace(&mut self.lent, Lent::Copied) {
            access.end();
        }
        if self.pass {
            bump(&self.subscriber.t.own().received);
            add(&self.subscriber.t.own().bytes, self.view.len() as u64);
            self.subscriber.pass();
        }
    }
}

#[cfg(feature = "tokio")]
crate::task::receiver!(Subscriber);

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::Subscriber;

    /// Every subscriber finds a message at the same position, and one that keeps it finds
    /// it there again.
    #[test]
    fn subscribers_agree_on_positions() {
        let name = format!("unit-topic-position-{}", std::process::id());
        let mut a = Subscriber::create(&name, 8, 16).expect("create");
        let mut b = Subscriber::open(&name).expect("open");
        let mut tx = crate::broadcast::Publisher::open(&name).expect("open");
        tx.send(b"one").expect("send");
        tx.send(b"two").expect("send");
        a.try_read().expect("read");
        let g = a.try_read().expect("read");
        let at_a = g.position();
        g.keep();
        let again = a.try_read().expect("read again").position();
        b.try_read().expect("read");
        let at_b = b.try_read().expect("read").position();
        crate::unlink(&name).expect("remove");
        assert_eq!((again, at_b), (at_a, at_a));
    }

    /// A publisher that waits for room in a full topic says so on its wait line (the hint
    /// by which subscribers with nothing to read yield their CPU, `Topic::make_way`), and
    /// takes it back once it has room.
    #[test]
    fn a_publisher_says_that_it_waits_for_room_while_it_does() {
        use crate::broadcast::HeapTopic;
        use crate::hint;
        use crate::role::Role;
        use crate::WaitStrategy;
        use std::time::{Duration, Instant};
        let topic = HeapTopic::new(2, 8, (1, 1), false, None, 0);
        let mut tx = topic.publisher(WaitStrategy::default()).expect("publisher");
        let mut rx = topic
            .subscriber(WaitStrategy::default(), false)
            .expect("subscriber");
        let waiting = |rx: &Subscriber| hint::someone_waits(rx.t.wait_line(Role::Producer));
        tx.send(b"1").expect("send");
        tx.send(b"2").expect("send");
        assert!(!waiting(&rx));
        let third = std::thread::spawn(move || tx.send(b"3"));
        let since = Instant::now();
        while !waiting(&rx) {
            assert!(since.elapsed() < Duration::from_secs(10), "no hint");
            std::thread::yield_now();
        }
        let mut buf = Vec::new();
        rx.recv_into(&mut buf).expect("receive");
        third
            .join()
            .expect("publisher")
            .expect("send once there is room");
        assert!(!waiting(&rx));
        for want in [b"2", b"3"] {
            rx.recv_into(&mut buf).expect("receive");
            assert_eq!(buf, want);
        }
    }
}
