//! The sending side of a broadcast topic.

use super::stats::Stats;
use super::topic::{Claimed, Topic};
use crate::cells::Spot;
use crate::claims::{self, add, bump};
use crate::durability::{durable, Durability};
use crate::error::SendError;
use crate::grant::Writer;
use crate::hint::Waiting;
use crate::pace::Pacer;
use crate::role::Role;
use crate::sync::Ordering;
use crate::time::Deadline;
use crate::wait::{self, Check, WaitStrategy};
use crate::waitset::Room;
use std::time::Duration;

/// A publishing handle of a topic. Any number of publishers (up to the topic's publisher
/// slots) publish at once, from any processes; every subscriber receives every message,
/// all in one order. `Send`, not `Sync`.
///
/// ```
/// # let name = format!("doc-pub-{}", std::process::id());
/// use ipcring::broadcast::{Publisher, Subscriber};
/// let mut alice = Publisher::create(&name, 64, 256)?;  // 64 slots of 256 bytes
/// let mut bob = Subscriber::open(&name)?;
/// let mut carol = Subscriber::open(&name)?;
/// alice.send(b"hello, room")?;
/// let mut buf = Vec::new();
/// bob.recv_into(&mut buf)?;
/// assert_eq!(buf, b"hello, room");
/// carol.recv_into(&mut buf)?;
/// assert_eq!(buf, b"hello, room");
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Publisher {
    t: Topic,
    strategy: WaitStrategy,
    /// Lossless topics: the first position we may not claim before we look at the
    /// subscribers' cursors again.
    limit: u64,
    /// The limit at which the topic was last found full for us, and since when it has
    /// been full at that limit (see `kept_waiting`).
    full_since: Option<(u64, Deadline)>,
    /// Whether our last try found the topic full (non-blocking sends then look at the
    /// subscribers' liveness now and then).
    full: bool,
    /// When a non-blocking send may next ask the kernel about the subscribers.
    pacer: Pacer,
    /// When the topic is written back to its file (see [`crate::SyncPolicy`]).
    sync: Durability,
}

impl Publisher {
    pub(crate) fn attach(t: Topic, strategy: WaitStrategy) -> Publisher {
        // Relaxed: a first guess; the limit is checked against the cursors when reached.
        let limit = t.tail().load(Ordering::Relaxed);
        Publisher {
            t,
            strategy,
            limit,
            full_since: None,
            full: false,
            pacer: Pacer::default(),
            sync: Durability::default(),
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

    /// Whether the topic is lossy (publishers overwrite the oldest messages) rather than
    /// lossless (publishers wait for the slowest subscriber).
    pub fn is_lossy(&self) -> bool {
        self.t.geo.lossy
    }

    /// This handle as a member of a [`WaitSet`](crate::WaitSet), waiting for room for a
    /// message of `len` bytes: ready when [`Publisher::try_send`] of that many bytes would
    /// not say `Full` (the topic has room, or the send would fail for another reason:
    /// `TooLarge`, `Corrupted`). Waiting claims no slot: another publisher may take the
    /// room first, and the send then says `Full`. While it waits, it evicts the
    /// subscribers that hold the topic full as a waiting send does (dead ones, and with a
    /// `max_lag`, those that kept it waiting that long).
    ///
    /// ```
    /// # let a = format!("doc-pub-room-a-{}", std::process::id());
    /// # let b = format!("doc-pub-room-b-{}", std::process::id());
    /// use ipcring::broadcast::{Publisher, Subscriber};
    /// use ipcring::WaitSet;
    /// let mut tx_a = Publisher::create(&a, 1, 8)?;  // lossless, one slot of 8 bytes
    /// let mut tx_b = Publisher::create(&b, 1, 8)?;
    /// let _rx_a = Subscriber::open(&a)?;
    /// let mut rx_b = Subscriber::open(&b)?;
    /// tx_a.send(b"full")?;
    /// tx_b.send(b"full")?;
    /// let mut buf = Vec::new();
    /// rx_b.recv_into(&mut buf)?;                      // b has room again
    ///
    /// let mut set = WaitSet::new();
    /// let ready = set.wait(&mut [&mut tx_a.room(8), &mut tx_b.room(8)]);
    /// assert_eq!(ready.iter().collect::<Vec<_>>(), [1]);
    /// tx_b.try_send(b"to b")?;
    /// # ipcring::unlink(&a)?; ipcring::unlink(&b)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn room(&mut self, len: usize) -> Room<'_, Publisher> {
        Room { handle: self, len }
    }

    /// How blocking calls wait.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Writes the ring back to its file and waits until the storage has it (`msync` of
    /// the mapping, then `fdatasync`), against a power loss or a kernel crash; a
    /// file-backed ring needs nothing against processes that die. A named ring lives in
    /// memory: this returns at once. What it promises, and what not, is in
    /// [`crate::Builder::at`] ("Durability").
    ///
    /// # Errors
    /// The error of `msync` or `fdatasync`, such as `EIO` when the kernel could not write
    /// the file back (a later call may report it too, or not: treat it as lost); or the
    /// first error of a sync that the handle's [`SyncPolicy`](crate::SyncPolicy) made
    /// since the last `flush` (see [`Self::take_sync_error`]).
    pub fn flush(&self) -> std::io::Result<()> {
        self.t.region().flush()
    }

    /// Counters of the topic, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.t)
    }

    /// Publishes `msg`, waiting while a lossless topic is full.
    ///
    /// # Errors
    /// `TooLarge` if `msg` is longer than the slot size; `Skipped` (see
    /// [`crate::broadcast::Builder::stall_timeout`]); `Corrupted`.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let at = self.claim_blocking(msg.len(), None)?;
        self.write(at, msg)
    }

    /// Publishes `msg` if a lossless topic has room now; `Err(Full)` at once otherwise
    /// (counted as rejected). A lossy topic always has room.
    ///
    /// # Errors
    /// `Full`, `TooLarge`, `Skipped`, `Corrupted`.
    pub fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let at = self.try_claim(msg.len())?;
        self.write(at, msg)
    }

    /// Publishes `msg`, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// `Timeout`, or as [`Publisher::send`].
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<(), SendError> {
        let at = self.claim_blocking(msg.len(), Some(Deadline::after(timeout)))?;
        self.write(at, msg)
    }

    /// Publishes the bytes of a plain-old-data value.
    ///
    /// # Errors
    /// As [`Publisher::send`].
    pub fn send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        self.send(bytemuck::bytes_of(value))
    }

    /// Publishes the bytes of a plain-old-data value if there is room now.
    ///
    /// # Errors
    /// As [`Publisher::try_send`].
    pub fn try_send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        self.try_send(bytemuck::bytes_of(value))
    }

    /// Claims a slot for a message of up to `len` bytes and lends it for writing in
    /// place; waits while a lossless topic is full. Nothing is visible to subscribers
    /// until [`WriteGrant::commit`]; dropping the grant abandons the slot (subscribers
    /// pass it). In a lossy topic, a subscriber that was lapped may copy the slot while
    /// it is written, and drops what it copied.
    ///
    /// ```
    /// # let name = format!("doc-pub-reserve-{}", std::process::id());
    /// # let mut tx = ipcring::broadcast::Publisher::create(&name, 8, 64)?;
    /// # let mut rx = ipcring::broadcast::Subscriber::open(&name)?;
    /// let mut g = tx.reserve(64)?;
    /// g.write_at(0, b"hello");
    /// g.commit(5)?;
    /// let mut buf = Vec::new();
    /// rx.recv_into(&mut buf)?;
    /// assert_eq!(buf, b"hello");
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Publisher::send`].
    pub fn reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let at = self.claim_blocking(len, None)?;
        Ok(self.grant(at, len))
    }

    /// Like [`Publisher::reserve`], but `Err(Full)` at once when a lossless topic has no
    /// room.
    ///
    /// # Errors
    /// As [`Publisher::try_send`].
    pub fn try_reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let at = self.try_claim(len)?;
        Ok(self.grant(at, len))
    }

    fn grant(&mut self, at: Spot, len: usize) -> WriteGrant<'_> {
        // SAFETY: `at` was just claimed by us for up to the slot size.
        let access = unsafe { self.t.write_window(at, len) };
        WriteGrant::new(self, at, len, access)
    }

    #[inline]
    fn write(&mut self, at: Spot, msg: &[u8]) -> Result<(), SendError> {
        self.t.write(at, msg);
        self.commit(at, msg.len())
    }

    #[inline]
    fn commit(&mut self, at: Spot, len: usize) -> Result<(), SendError> {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::BroadcastBeforeCommit);
        self.t.commit(at, len)?;
        bump(&self.t.own().sent);
        add(&self.t.own().bytes, len as u64);
        self.sync.committed(1, self.t.region());
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<(), SendError> {
        if len > self.t.geo.cells.slot_size {
            return Err(SendError::TooLarge {
                len,
                max: self.t.geo.cells.slot_size,
            });
        }
        Ok(())
    }

    /// A claim that needs no look at the subscribers: a lone publisher's under its limit
    /// (see [`Topic::claim_alone`]). `None`: claim the way that looks at everything.
    #[inline(always)]
    fn quick_claim(&mut self, len: usize) -> Option<Spot> {
        if len > self.t.geo.cells.slot_size {
            return None;
        }
        let limit = (!self.t.geo.lossy).then_some(self.limit);
        match self.t.claim_alone(limit)? {
            Ok(Claimed::At(at)) => {
                if self.full {
                    self.full = false;
                    self.full_since = None;
                }
                Some(at)
            }
            _ => None,
        }
    }

    /// Claims a slot now, or `Full` (counted).
    #[inline(always)]
    fn try_claim(&mut self, len: usize) -> Result<Spot, SendError> {
        match self.quick_claim(len) {
            Some(at) => Ok(at),
            None => self.try_claim_looking(len),
        }
    }

    /// [`Publisher::try_claim`] when the quick claim cannot be made.
    #[inline(never)]
    fn try_claim_looking(&mut self, len: usize) -> Result<Spot, SendError> {
        self.check_len(len)?;
        // Paced by time: the subscribers that hold a full topic are asked about at most
        // once a millisecond, however often the sender tries.
        let level = if self.full {
            self.pacer.level()
        } else {
            Check::Park
        };
        match self.claim_once(level)? {
            Some(at) => Ok(at),
            None => {
                bump(&self.t.own().rejected);
                Err(SendError::Full)
            }
        }
    }

    /// Claims a slot, waiting (until `deadline`) while a lossless topic is full.
    #[inline(always)]
    fn claim_blocking(
        &mut self,
        len: usize,
        deadline: Option<Deadline>,
    ) -> Result<Spot, SendError> {
        match self.quick_claim(len) {
            Some(at) => Ok(at),
            None => self.claim_looking(len, deadline),
        }
    }

    /// [`Publisher::claim_blocking`] when the quick claim cannot be made.
    #[inline(never)]
    fn claim_looking(&mut self, len: usize, deadline: Option<Deadline>) -> Result<Spot, SendError> {
        self.check_len(len)?;
        match self.claim_once(Check::Spin)? {
            Some(at) => Ok(at),
            None => self.wait_claim(deadline),
        }
    }

    /// Claims a slot once a full topic has room (or the claim a lap before is resolved).
    /// Says that publishers wait while it does (the wait line's `waiting` hint), so that
    /// subscribers that have nothing to read give their CPU to the ones that hold us.
    #[inline(never)]
    fn wait_claim(&mut self, deadline: Option<Deadline>) -> Result<Spot, SendError> {
        // SAFETY: the line lives in the topic that `self` owns, for the whole wait.
        let line = unsafe { self.t.wait_line_unbound(Role::Producer) };
        // Said from the first look on (after `LOOK_EVERY` spins): a wait shorter than that
        // touches no hint.
        let mut waiting: Option<Waiting> = None;
        let mut turn = 0;
        let outcome = wait::block_on(self.strategy, 0, line, deadline, |level| {
            if !wait::look_now(level, &mut turn) {
                return None;
            }
            match &mut waiting {
                Some(w) => w.still(),
                None => waiting = Some(Waiting::start(line)),
            }
            self.claim_once(level).transpose()
        });
        drop(waiting);
        outcome.unwrap_or(Err(SendError::Timeout))
    }

    /// One try at a claim: `None` while a lossless topic has no room or the cell waits for
    /// the claim a lap before (see [`Publisher::at_tail`]).
    fn claim_once(&mut self, level: Check) -> Result<Option<Spot>, SendError> {
        self.at_tail(level, Topic::claim)
    }

    /// Whether [`Publisher::try_send`] of `len` bytes would not say `Full` now: one look of
    /// a wait for room at `level` (see [`Publisher::at_tail`]) that claims nothing.
    fn has_room(&mut self, len: usize, level: Check) -> bool {
        self.check_len(len).is_err() || !matches!(self.at_tail(level, Topic::peek), Ok(None))
    }

    /// One look at the tail with `try_tail` (a claim, or a look that claims nothing),
    /// under our limit in a lossless topic: `None` while a lossless topic has no room or
    /// the cell waits for the claim a lap before. `level` says how much it may cost: from
    /// `Park` on, it also skips that claim if its holder detached without finishing it,
    /// and evicts subscribers that kept us waiting longer than the `max_lag`; at `Peer` it
    /// asks the kernel (and evicts dead subscribers that hold the topic full).
    #[inline]
    fn at_tail<A>(
        &mut self,
        level: Check,
        try_tail: impl Fn(&Topic, Option<u64>) -> Result<Claimed<A>, SendError>,
    ) -> Result<Option<A>, SendError> {
        let thorough = level == Check::Peer;
        for _ in 0..2 {
            let limit = (!self.t.geo.lossy).then_some(self.limit);
            match try_tail(&self.t, limit)? {
                Claimed::At(at) => {
                    self.full = false;
                    self.full_since = None;
                    return Ok(Some(at));
                }
                Claimed::Full { pos } => {
                    // Once a lap while the subscribers keep up, at every look while the
                    // topic is full: whether a handle found the topic corrupted.
                    if self.t.broken() {
                        return Err(SendError::Corrupted);
                    }
                    self.full = true;
                    let mut room = self.t.room(pos, thorough, false);
                    self.note_fill(room.fill);
                    if !claims::past(room.limit, pos) {
                        // Not while spinning: the clock is read at the looks that cost.
                        if level != Check::Spin && self.kept_waiting(room.limit) {
                            room = self.t.room(pos, thorough, true);
                        }
                        if !claims::past(room.limit, pos) {
                            self.limit = room.limit;
                            return Ok(None);
                        }
                    }
                    self.limit = room.limit;
                }
                Claimed::Behind { pos, word } => {
                    if level == Check::Spin {
                        return Ok(None);
                    }
                    if self.t.broken() {
                        return Err(SendError::Corrupted);
                    }
                    if !self.t.skip_abandoned(pos, word, thorough) {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(None)
    }

    /// Whether the topic, full for us at `limit` (the oldest cursor plus the capacity),
    /// has kept us waiting at that same limit for the topic's `max_lag`. A limit that
    /// moved means the slowest subscriber read on: the wait starts again.
    fn kept_waiting(&mut self, limit: u64) -> bool {
        let Some(lag) = self.t.geo.max_lag else {
            return false;
        };
        match self.full_since {
            Some((l, since)) if l == limit => since.elapsed() >= lag,
            _ => {
                self.full_since = Some((limit, Deadline::now()));
                false
            }
        }
    }

    fn note_fill(&self, fill: u64) {
        let hw = &self.t.own().high_water;
        // Relaxed: statistics, written by this slot's holder only.
        if fill > hw.load(Ordering::Relaxed) {
            hw.store(fill, Ordering::Relaxed);
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.t.detach();
        self.sync.close(self.t.region());
    }
}

/// A slot of the topic, lent for writing in place (see [`Publisher::reserve`]).
/// [`WriteGrant::commit`] returns `Err(Skipped)` if subscribers passed the claim while the
/// publisher stalled (see [`crate::broadcast::Builder::stall_timeout`]); dropping the
/// grant without committing abandons the slot, which subscribers then pass.
pub type WriteGrant<'a> = crate::grant::WriteGrant<'a, Publisher>;

impl Writer for Publisher {
    type At = Spot;
    type Committed = Result<(), SendError>;

    fn commit_at(&mut self, at: Spot, n: usize) -> Result<(), SendError> {
        self.commit(at, n)
    }

    fn abort_at(&mut self, at: Spot) {
        self.t.abort(at);
    }
}

impl crate::Waitable for Room<'_, Publisher> {}

impl crate::waitset::sealed::Waiting for Room<'_, Publisher> {
    fn line(&self) -> &crate::layout::WaitLine {
        self.handle.t.wait_line(Role::Producer)
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.handle.t.region().keep()
    }

    fn ready(&mut self, level: Check) -> bool {
        self.handle.has_room(self.len, level)
    }
}

durable!(Publisher, t);

#[cfg(feature = "tokio")]
crate::task::sender!(Publisher);
