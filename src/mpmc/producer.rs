//! The sending side of an MPMC queue.

use super::queue::{Claimed, Queue, Spot};
use super::stats::Stats;
use crate::claims::{add, bump};
use crate::durability::{durable, Durability};
use crate::error::SendError;
use crate::grant::Writer;
use crate::pace::Pacer;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::{yield_now, Ordering};
use crate::time::Deadline;
use crate::wait::{self, Check, WaitStrategy};
use crate::waitset::Room;
use std::time::Duration;

/// The queue's fill is sampled (for the high-water mark) by the producer that commits a
/// position that is a multiple of this (a power of two): once per this many messages,
/// whoever sends them, with no count of its own to keep. A sample reads the head, the
/// consumers' hottest line, so it is kept rare.
const FILL_SAMPLE_EVERY: u64 = 1024;
const _: () = assert!(FILL_SAMPLE_EVERY.is_power_of_two());

/// A sending handle of an MPMC queue. Any number of producers (up to the queue's producer
/// slots) send at once, from any processes; each message goes to exactly one consumer, and
/// the messages of one producer arrive in the order it sent them. `Send`, not `Sync`.
///
/// ```
/// # let name = format!("doc-mpmc-producer-{}", std::process::id());
/// use ipcring::mpmc::{Consumer, Producer};
/// let mut tx = Producer::create(&name, 64, 32)?;   // 64 slots of 32 bytes
/// let mut rx = Consumer::open(&name)?;
/// tx.send(b"job #1")?;
/// let mut buf = Vec::new();
/// assert_eq!(rx.recv_into(&mut buf)?, 6);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Producer {
    q: Queue,
    strategy: WaitStrategy,
    /// When a non-blocking send that finds the queue full may next ask the kernel about
    /// the consumers and the holders of the cell it needs.
    pacer: Pacer,
    /// When the queue is written back to its file (see [`crate::SyncPolicy`]).
    sync: Durability,
}

impl Producer {
    pub(crate) fn attach(q: Queue, strategy: WaitStrategy) -> Producer {
        Producer {
            q,
            strategy,
            pacer: Pacer::default(),
            sync: Durability::default(),
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

    /// This handle as a member of a [`WaitSet`](crate::WaitSet), waiting for room for a
    /// message of `len` bytes: ready when [`Producer::try_send`] of that many bytes would
    /// not say `Full` (a slot is free, or the send would fail for another reason: every
    /// consumer gone, `TooLarge`, `Corrupted`). Waiting claims no slot: another producer
    /// may take the free one first, and the send then says `Full`.
    ///
    /// ```
    /// # let a = format!("doc-mpmc-room-a-{}", std::process::id());
    /// # let b = format!("doc-mpmc-room-b-{}", std::process::id());
    /// use ipcring::mpmc::{Consumer, Producer};
    /// use ipcring::WaitSet;
    /// let mut tx_a = Producer::create(&a, 1, 8)?;  // one slot of 8 bytes
    /// let mut tx_b = Producer::create(&b, 1, 8)?;
    /// let mut rx_b = Consumer::open(&b)?;
    /// let _rx_a = Consumer::open(&a)?;
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
    pub fn room(&mut self, len: usize) -> Room<'_, Producer> {
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
        self.sync.flush(self.q.region())
    }

    /// Counters of the queue, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.q)
    }

    /// Sends `msg`, waiting while the queue is full.
    ///
    /// # Errors
    /// `TooLarge` if `msg` is longer than the slot size; `Disconnected` if the queue is
    /// full and every consumer that was attached is gone; `Skipped` (see
    /// [`crate::mpmc::Builder::stall_timeout`]); `Corrupted`.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let at = self.claim_blocking(msg.len(), None)?;
        self.write(at, msg)
    }

    /// Sends `msg` if there is a free slot now; `Err(Full)` at once otherwise (counted as
    /// rejected): the flash-sale path. `Full` is exact: once a consumer released a
    /// message, a send fits.
    ///
    /// # Errors
    /// `Full`; `Disconnected` if the queue is full and every consumer is gone (a crash is
    /// noticed within milliseconds); `TooLarge`, `Skipped`, `Corrupted`.
    pub fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let at = self.try_claim(msg.len())?;
        self.write(at, msg)
    }

    /// Sends `msg`, waiting at most `timeout` for a free slot.
    ///
    /// # Errors
    /// `Timeout`, or as [`Producer::send`].
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<(), SendError> {
        let at = self.claim_blocking(msg.len(), Some(Deadline::after(timeout)))?;
        self.write(at, msg)
    }

    /// Sends the bytes of a plain-old-data value.
    ///
    /// # Errors
    /// As [`Producer::send`].
    pub fn send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        // Inlined here rather than through `send`: the copy has a length known at compile
        // time.
        let msg = bytemuck::bytes_of(value);
        let at = self.claim_blocking(msg.len(), None)?;
        self.write(at, msg)
    }

    /// Sends the bytes of a plain-old-data value if there is a free slot now.
    ///
    /// # Errors
    /// As [`Producer::try_send`].
    pub fn try_send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        let msg = bytemuck::bytes_of(value);
        let at = self.try_claim(msg.len())?;
        self.write(at, msg)
    }

    /// Claims a slot for a message of up to `len` bytes and lends it for writing in place;
    /// waits while the queue is full. Nothing is visible to consumers until
    /// [`WriteGrant::commit`]; dropping the grant abandons the slot (consumers pass it).
    ///
    /// ```
    /// # let name = format!("doc-mpmc-reserve-{}", std::process::id());
    /// # let mut tx = ipcring::mpmc::Producer::create(&name, 8, 64)?;
    /// # let mut rx = ipcring::mpmc::Consumer::open(&name)?;
    /// let mut g = tx.reserve(64)?;
    /// g.write_at(0, b"hello");
    /// g.commit(5)?;
    /// assert_eq!(&*rx.read()?, b"hello");
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Producer::send`].
    pub fn reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let at = self.claim_blocking(len, None)?;
        Ok(self.grant(at, len))
    }

    /// Like [`Producer::reserve`], but `Err(Full)` at once when no slot is free.
    ///
    /// # Errors
    /// As [`Producer::try_send`].
    pub fn try_reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let at = self.try_claim(len)?;
        Ok(self.grant(at, len))
    }

    fn grant(&mut self, at: Spot, len: usize) -> WriteGrant<'_> {
        // SAFETY: `at` was just claimed by us for up to the slot size.
        let access = unsafe { self.q.write_window(at, len) };
        WriteGrant::new(self, at, len, access)
    }

    #[inline]
    fn write(&mut self, at: Spot, msg: &[u8]) -> Result<(), SendError> {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::MpmcAfterClaim);
        // SAFETY: `at` was just claimed by us; `msg` fits the slot (checked at the claim).
        let mut w = unsafe { self.q.write_window(at, msg.len()) };
        w.fill(msg);
        w.end();
        self.commit(at, msg.len())
    }

    #[inline]
    fn commit(&mut self, at: Spot, len: usize) -> Result<(), SendError> {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::MpmcBeforeCommit);
        self.q.commit(at, len)?;
        self.committed(at.pos, len);
        Ok(())
    }

    #[inline]
    fn check_len(&self, len: usize) -> Result<(), SendError> {
        if len > self.q.geo.cells.slot_size {
            return Err(SendError::TooLarge {
                len,
                max: self.q.geo.cells.slot_size,
            });
        }
        Ok(())
    }

    /// Claims a slot now, or `Full` (counted). A full queue is looked at as a waiting
    /// send looks at it before it sleeps: the cell we need may be held by a dead peer, and
    /// with every consumer gone the answer is `Disconnected` (a crash is asked of the
    /// kernel, paced by time).
    #[inline]
    fn try_claim(&mut self, len: usize) -> Result<Spot, SendError> {
        self.check_len(len)?;
        match self.q.claim()? {
            Claimed::At(at) => Ok(at),
            Claimed::Full { pos, word } => self.try_claim_full(pos, word),
        }
    }

    /// [`Producer::try_claim`] at a full queue, out of line.
    #[cold]
    #[inline(never)]
    fn try_claim_full(&mut self, pos: u64, word: u64) -> Result<Spot, SendError> {
        let level = self.pacer.level();
        match resolve_full(&self.q, pos, word, level) {
            Some(Ok(at)) => return Ok(at),
            Some(Err(e)) => {
                if e == SendError::Disconnected {
                    self.pacer.again();
                }
                return Err(e);
            }
            None => {}
        }
        bump(&self.q.own().rejected);
        self.note_full();
        Err(SendError::Full)
    }

    /// Claims a slot, waiting (until `deadline`) while the queue is full.
    #[inline]
    fn claim_blocking(
        &mut self,
        len: usize,
        deadline: Option<Deadline>,
    ) -> Result<Spot, SendError> {
        self.check_len(len)?;
        match self.q.claim()? {
            Claimed::At(at) => Ok(at),
            Claimed::Full { .. } => self.wait_claim(deadline),
        }
    }

    /// Claims a slot once the full queue has room again.
    #[inline(never)]
    fn wait_claim(&mut self, deadline: Option<Deadline>) -> Result<Spot, SendError> {
        self.note_full();
        // SAFETY: the line lives in the queue that `self` owns, for the whole wait.
        let line = unsafe { self.q.wait_line_unbound(Role::Producer) };
        let q = &self.q;
        let mut turn = 0;
        let outcome = wait::block_on(self.strategy, 0, line, deadline, |level| {
            if !wait::look_now(level, &mut turn) {
                return None;
            }
            let (pos, word) = match q.claim() {
                Ok(Claimed::At(at)) => return Some(Ok(at)),
                Err(e) => return Some(Err(e)),
                Ok(Claimed::Full { pos, word }) => (pos, word),
            };
            if level == Check::Spin {
                // Its holder may be waiting for this CPU (another producer of this process,
                // or one pinned with us): let it run. Between threads sharing a CPU this
                // made 2P/2C streaming a quarter faster; a queue full of messages that only
                // wait for consumers keeps spinning.
                if q.behind_a_claim(pos, word) {
                    yield_now();
                }
                return None;
            }
            resolve_full(q, pos, word, level)
        });
        outcome.unwrap_or(Err(SendError::Timeout))
    }

    /// Whether [`Producer::try_send`] of `len` bytes would not say `Full` now: one look of
    /// a wait for room at `level` (see [`Check`]), that claims nothing. From `Park` on it
    /// resolves a dead holder's claim of the cell it needs, as a waiting send does.
    fn has_room(&mut self, len: usize, level: Check) -> bool {
        if self.check_len(len).is_err() {
            return true;
        }
        let (pos, word) = match self.q.peek() {
            Ok(Claimed::Full { pos, word }) => (pos, word),
            Ok(Claimed::At(_)) | Err(_) => return true,
        };
        if level == Check::Spin {
            return false;
        }
        match unjam(&self.q, pos, word, level) {
            Ok(Jam::Held) => false,
            Ok(Jam::Cleared) | Err(_) => true,
            Ok(Jam::Deserted) => {
                // A crash that the kernel told us of: the next `try_send` asks it too.
                self.pacer.again();
                true
            }
        }
    }

    /// Bookkeeping of the commit of `pos`, after it (a claim is held as briefly as can
    /// be: a producer preempted while it holds one holds up every consumer): counts it and
    /// now and then samples the fill.
    #[inline]
    fn committed(&mut self, pos: u64, len: usize) {
        bump(&self.q.own().sent);
        add(&self.q.own().bytes, len as u64);
        if pos & (FILL_SAMPLE_EVERY - 1) == 0 {
            self.note_fill(self.q.fill());
        }
        self.sync.committed(1, self.q.region());
    }

    /// The queue is full: the high-water mark is its capacity.
    fn note_full(&self) {
        self.note_fill(self.q.geo.cells.capacity as u64);
    }

    fn note_fill(&self, fill: u64) {
        let hw = &self.q.own().high_water;
        // Relaxed: statistics, written by this slot's holder only.
        if fill > hw.load(Ordering::Relaxed) {
            hw.store(fill, Ordering::Relaxed);
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.q.detach();
        self.sync.close(self.q.region());
    }
}

/// A slot of the queue, lent for writing in place (see [`Producer::reserve`]).
/// [`WriteGrant::commit`] returns `Err(Skipped)` if consumers passed the claim while the
/// producer stalled (see [`crate::mpmc::Builder::stall_timeout`]); dropping the grant
/// without committing abandons the slot, which consumers then pass.
pub type WriteGrant<'a> = crate::grant::WriteGrant<'a, Producer>;

impl Writer for Producer {
    type At = Spot;
    type Committed = Result<(), SendError>;

    fn commit_at(&mut self, at: Spot, n: usize) -> Result<(), SendError> {
        self.commit(at, n)
    }

    fn abort_at(&mut self, at: Spot) {
        self.q.abort(at);
    }
}

/// A queue that was full at `pos` (whose cell held `word`), looked at more closely
/// (`level` is `Park` or `Peer`) by [`unjam`], and looked at once more if that changed
/// anything: the claim, or with every consumer gone, `Disconnected`. `None`: still full,
/// and somebody may yet free a slot.
fn resolve_full(q: &Queue, pos: u64, word: u64, level: Check) -> Option<Result<Spot, SendError>> {
    let unblocked = match unjam(q, pos, word, level) {
        Ok(Jam::Held) => return None,
        Ok(Jam::Cleared) => true,
        Ok(Jam::Deserted) => false,
        Err(e) => return Some(Err(e)),
    };
    // Look once more; with nobody left to free a slot, give up.
    match q.claim() {
        Ok(Claimed::At(at)) => Some(Ok(at)),
        Err(e) => Some(Err(e)),
        Ok(Claimed::Full { .. }) if !unblocked => Some(Err(SendError::Disconnected)),
        Ok(Claimed::Full { .. }) => None,
    }
}

/// What a closer look at a full queue found (see [`unjam`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jam {
    /// Still full, and somebody may yet free a slot.
    Held,
    /// The cell we need was held by a dead consumer or producer, whose claim is resolved:
    /// a slot may be free.
    Cleared,
    /// Every consumer is gone: nobody will free a slot.
    Deserted,
}

/// A queue that was full at `pos` (whose cell held `word`), looked at more closely
/// (`level` is `Park` or `Peer`): the cell may be held by a dead consumer or producer,
/// whose claim is resolved (the kernel is asked at `Peer`, a graceful detach is seen
/// otherwise); or every consumer may be gone.
///
/// # Errors
/// `Corrupted` if a handle found the queue corrupted.
fn unjam(q: &Queue, pos: u64, word: u64, level: Check) -> Result<Jam, SendError> {
    if q.broken() {
        return Err(SendError::Corrupted);
    }
    let thorough = level == Check::Peer;
    Ok(if q.unblock(pos, word, thorough) {
        Jam::Cleared
    } else if q.presence(Role::Consumer, thorough) == Presence::Gone {
        Jam::Deserted
    } else {
        Jam::Held
    })
}

impl crate::Waitable for Room<'_, Producer> {}

impl crate::waitset::sealed::Waiting for Room<'_, Producer> {
    fn line(&self) -> &crate::layout::WaitLine {
        self.handle.q.wait_line(Role::Producer)
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.handle.q.region().keep()
    }

    fn ready(&mut self, level: Check) -> bool {
        self.handle.has_room(self.len, level)
    }
}

durable!(Producer, q);

#[cfg(feature = "tokio")]
crate::task::sender!(Producer);
