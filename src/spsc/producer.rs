//! The writing side of an SPSC ring.

use super::record::{self, Header};
use super::shared::Ring;
use super::stats::Stats;
use crate::bytes::WriteAccess;
use crate::durability::{durable, Durability};
use crate::error::{OpenError, SendError};
use crate::grant::Writer;
use crate::pace::Pacer;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::Ordering;
use crate::time::Deadline;
use crate::wait::{self, Check, WaitStrategy};
use crate::waitset::Room;
use std::time::Duration;

/// A hardware cache line: what the producer takes for writing ahead of its records.
const CACHE_LINE: usize = 64;

/// The writing handle of an SPSC ring. `Send`, not `Sync`: one thread writes at a time.
///
/// ```
/// # let name = format!("doc-producer-{}", std::process::id());
/// use ipcring::spsc::{Consumer, Producer};
/// let mut tx = Producer::create(&name, 4096)?;
/// let mut rx = Consumer::open(&name)?;
/// tx.send(b"order #1")?;
/// let mut buf = Vec::new();
/// assert_eq!(rx.recv_into(&mut buf)?, 8);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Producer {
    ring: Ring,
    /// Position of the next record.
    pos: u64,
    /// How far the consumer has read, as far as we know: its published position, or the
    /// position it released (read by non-blocking calls that find the ring full).
    cached_read: u64,
    /// The consumer's published position, as last read.
    published: u64,
    /// The position up to which records fit with no further look (see
    /// [`Producer::set_limit`]): the one bound of the fast path.
    limit: u64,
    /// `cached_read` when this handle attached: a position past it means a consumer was
    /// there.
    start_read: u64,
    /// Messages sent and their payload bytes (mirrored to shared memory for statistics).
    sent: u64,
    bytes: u64,
    rejected: u64,
    wakeups: u64,
    strategy: WaitStrategy,
    /// When a non-blocking call that finds the ring full may next ask the kernel about
    /// the consumer.
    pacer: Pacer,
    /// When the ring is written back to its file (see [`crate::SyncPolicy`]).
    sync: Durability,
}

/// Where a reserved record goes.
// Public in a private module: the room that a public write grant holds, never named
// outside the crate.
#[allow(unreachable_pub)]
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// Position of the padding record in front of it, if the record did not fit before
    /// the end of the area.
    pad_at: Option<u64>,
    /// Position of the record itself.
    pos: u64,
    /// Found by [`Producer::fits`] within [`Producer::limit`], which then still holds
    /// after the commit; a slot of [`Producer::try_claim`] needs the limit set again.
    within_limit: bool,
}

impl Producer {
    pub(crate) fn attach(ring: Ring, strategy: WaitStrategy) -> Result<Producer, OpenError> {
        let hdr = ring.hdr();
        // SYNC(space): Acquire pairs with the consumer's Release publication.
        let read = hdr.read.0.pos.load(Ordering::Acquire);
        let cap = ring.capacity as u64;
        if read % 8 != 0 {
            return Err(OpenError::BadGeometry {
                what: "read position",
                found: read,
                expected: read & !7,
            });
        }
        let published = read;
        // The consumer publishes lazily, and an earlier producer may have used the room up
        // to the position the consumer released (see `refresh_read`): up to a lap past
        // that, beyond a lap past the published one. Start from the released position.
        // SYNC(release): Acquire pairs with the Release store of the mark in the
        // consumer's `release`, which follows its reads of the records before it.
        let released = ring.counters(Role::Consumer).mark.load(Ordering::Acquire);
        let read = if released % 8 == 0 && released.wrapping_sub(read) <= cap {
            released
        } else {
            read
        };
        // Relaxed: a hint only; validated and followed by a scan of the headers.
        let hint = ring.own().mark.load(Ordering::Relaxed);
        let mut pos = if hint % 8 == 0 && hint.wrapping_sub(read) <= cap {
            hint
        } else {
            read
        };
        // A producer that died between publishing a record and updating the hint left
        // committed records after `hint`: walk the headers to the first empty one.
        while pos.wrapping_sub(read) < cap {
            let off = pos as usize & ring.mask;
            // SYNC(publish): Acquire pairs with the Release of the header in `publish`.
            match record::decode(ring.data.word(off).load(Ordering::Acquire), pos) {
                // Validated like the consumer does: a scribbled header ends the walk.
                Header::Data(len)
                    if len <= ring.max_message && off + record::size(len) <= ring.capacity =>
                {
                    pos = pos.wrapping_add(record::size(len) as u64)
                }
                Header::Pad(len) if off + record::HEADER + len == ring.capacity => {
                    pos = pos.wrapping_add((ring.capacity - off) as u64)
                }
                _ => break,
            }
        }
        if pos.wrapping_sub(read) > cap {
            // Only a scribbled chain of headers walks past a full lap.
            pos = read;
        }
        let p = ring.own();
        let mut producer = Producer {
            sent: p.sent.load(Ordering::Relaxed),
            bytes: p.bytes.load(Ordering::Relaxed),
            rejected: p.rejected.load(Ordering::Relaxed),
            wakeups: p.wakeups.load(Ordering::Relaxed),
            ring,
            pos,
            cached_read: read,
            start_read: read,
            published,
            limit: pos,
            strategy,
            pacer: Pacer::default(),
            sync: Durability::default(),
        };
        producer.set_limit();
        Ok(producer)
    }

    /// Largest message this ring accepts, in bytes (a quarter of the capacity).
    pub fn max_message(&self) -> usize {
        self.ring.max_message
    }

    /// Size of the data area in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// This handle as a member of a [`WaitSet`](crate::WaitSet), waiting for room for a
    /// message of `len` bytes.
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
        self.sync.flush(self.ring.region())
    }

    /// Counters of the ring, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.ring)
    }

    /// Sends `msg`, waiting while the ring is full.
    ///
    /// # Errors
    /// `TooLarge` if `msg` is longer than [`Producer::max_message`]; `Disconnected` if the
    /// ring is full and the consumer that was attached is gone; `Corrupted`.
    #[inline(always)]
    pub fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if self.fits(msg.len()) {
            self.write(self.here(), msg);
            return Ok(());
        }
        self.send_slow(msg)
    }

    /// [`Producer::send`] off its fast path: padding, a ring that looks full, a message
    /// that is too large.
    #[cold]
    #[inline(never)]
    fn send_slow(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let slot = self.claim_blocking(msg.len(), None)?;
        self.write(slot, msg);
        Ok(())
    }

    /// Sends `msg` if there is room now; `Err(Full)` at once otherwise. `Full` is exact:
    /// once the consumer received a message, a message that needs no more room than it
    /// freed fits.
    ///
    /// # Errors
    /// `Full`; `Disconnected` if the ring is full and the consumer is gone (a crash is
    /// noticed within milliseconds); `TooLarge`, `Corrupted`.
    #[inline(always)]
    pub fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if self.fits(msg.len()) {
            self.write(self.here(), msg);
            return Ok(());
        }
        self.try_send_slow(msg)
    }

    /// [`Producer::try_send`] off its fast path, as [`Producer::send_slow`]: kept out of
    /// line so that the fast path inlines into the caller's loop (it did not, with this
    /// path in it: 19 more instructions a message than `send`).
    #[cold]
    #[inline(never)]
    fn try_send_slow(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let slot = self.try_claim_counted(msg.len())?;
        self.write(slot, msg);
        Ok(())
    }

    /// Sends `msg`, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// `Timeout`, `TooLarge`, `Disconnected`, `Corrupted`.
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<(), SendError> {
        let slot = self.claim_blocking(msg.len(), Some(Deadline::after(timeout)))?;
        self.write(slot, msg);
        Ok(())
    }

    /// Sends the bytes of a plain-old-data value.
    ///
    /// # Errors
    /// As [`Producer::send`].
    #[inline(always)]
    pub fn send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        self.send(bytemuck::bytes_of(value))
    }

    /// Sends the bytes of a plain-old-data value if there is room now.
    ///
    /// # Errors
    /// As [`Producer::try_send`].
    #[inline(always)]
    pub fn try_send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError> {
        self.try_send(bytemuck::bytes_of(value))
    }

    /// Sends as many of `msgs` as fit now, with one publication and at most one wake-up
    /// for all of them. Returns how many were sent (0 when the ring is full).
    ///
    /// # Errors
    /// `TooLarge` (for the first message that is; the ones before it are sent),
    /// `Disconnected` (none fit and the consumer is gone), `Corrupted`.
    pub fn try_send_batch<'m>(
        &mut self,
        msgs: impl IntoIterator<Item = &'m [u8]>,
    ) -> Result<usize, SendError> {
        let mut first: Option<(usize, u64)> = None;
        let mut n = 0;
        let mut bytes = 0;
        let mut result = Ok(());
        for msg in msgs {
            let slot = match self.try_claim(msg.len(), true) {
                Ok(Some(slot)) => slot,
                Ok(None) if n == 0 && self.consumer_gone() => {
                    result = Err(SendError::Disconnected);
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            // SAFETY: `try_claim` reserved `msg.len()` payload bytes at `slot.pos`.
            let mut w = unsafe { self.window(slot.pos, msg.len()) };
            w.fill(msg);
            w.end();
            let pad = slot
                .pad_at
                .map(|at| pad_header(at, self.ring.capacity, self.ring.mask));
            let data = (
                slot.pos as usize & self.ring.mask,
                record::data(slot.pos, msg.len()),
            );
            for (at, header) in pad.into_iter().chain([data]) {
                if first.is_none() {
                    first = Some((at, header));
                } else {
                    // Relaxed: published by the Release store of the batch's first header,
                    // which the consumer must acquire before it can reach this one.
                    self.ring.data.word(at).store(header, Ordering::Relaxed);
                }
            }
            self.pos = slot.pos.wrapping_add(record::size(msg.len()) as u64);
            #[cfg(feature = "crash-points")]
            if n > 0 {
                crate::crash::reached(crate::crash::Point::SpscMidBatch);
            }
            n += 1;
            bytes += msg.len() as u64;
        }
        self.set_limit();
        if let Some((at, header)) = first {
            self.publish(at, header, n as u64, bytes);
        }
        result.map(|()| n)
    }

    /// Reserves room for a message of up to `len` bytes and hands it out for writing in
    /// place; waits while the ring is full. Nothing is visible to the consumer until
    /// [`WriteGrant::commit`]; dropping the grant abandons it.
    ///
    /// ```
    /// # let name = format!("doc-reserve-{}", std::process::id());
    /// # let mut tx = ipcring::spsc::Producer::create(&name, 4096)?;
    /// # let mut rx = ipcring::spsc::Consumer::open(&name)?;
    /// let mut g = tx.reserve(64)?;
    /// g.write_at(0, b"hello");
    /// g.commit(5);
    /// assert_eq!(&*rx.read()?, b"hello");
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Producer::send`].
    pub fn reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let slot = self.claim_blocking(len, None)?;
        Ok(self.grant(slot, len))
    }

    /// Like [`Producer::reserve`], but `Err(Full)` at once when there is no room.
    ///
    /// # Errors
    /// As [`Producer::try_send`].
    pub fn try_reserve(&mut self, len: usize) -> Result<WriteGrant<'_>, SendError> {
        let slot = self.try_claim_counted(len)?;
        Ok(self.grant(slot, len))
    }

    fn grant(&mut self, slot: Slot, len: usize) -> WriteGrant<'_> {
        // SAFETY: the slot was claimed for `len` payload bytes.
        let access = unsafe { self.window(slot.pos, len) };
        WriteGrant::new(self, slot, len, access)
    }

    /// The payload window of a claimed record.
    ///
    /// # Safety
    /// `pos` was claimed for at least `len` payload bytes and is not yet published.
    #[inline]
    unsafe fn window(&self, pos: u64, len: usize) -> WriteAccess {
        let off = pos as usize & self.ring.mask;
        debug_assert!(off + record::size(len) <= self.ring.capacity);
        // SAFETY: the claim keeps the record inside the area and the consumer out of it.
        unsafe { self.ring.data.write(off + record::HEADER, len) }
    }

    #[inline(always)]
    fn write(&mut self, slot: Slot, msg: &[u8]) {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::SpscAfterClaim);
        // SAFETY: the slot was claimed for `msg.len()` payload bytes.
        let mut w = unsafe { self.window(slot.pos, msg.len()) };
        w.fill(msg);
        w.end();
        self.commit_slot(slot, msg.len());
    }

    /// Publishes the record of `len` bytes at `slot` (and its padding record).
    #[inline(always)]
    fn commit_slot(&mut self, slot: Slot, len: usize) {
        self.pos = slot.pos.wrapping_add(record::size(len) as u64);
        if !slot.within_limit {
            self.set_limit();
        }
        let off = slot.pos as usize & self.ring.mask;
        let header = record::data(slot.pos, len);
        match slot.pad_at {
            None => self.publish(off, header, 1, len as u64),
            Some(at) => {
                // The padding record is in front: it is published last, and the record
                // behind it with it. Relaxed: published by that Release store.
                self.ring.data.word(off).store(header, Ordering::Relaxed);
                #[cfg(feature = "crash-points")]
                crate::crash::reached(crate::crash::Point::SpscBeforePadding);
                let (pad_off, pad) = pad_header(at, self.ring.capacity, self.ring.mask);
                self.publish(pad_off, pad, 1, len as u64);
            }
        }
    }

    /// Clears the word after the last record, publishes the first header of a batch of
    /// `count` messages of `bytes` in all, updates the counters and wakes the consumer if
    /// it sleeps.
    #[inline(always)]
    fn publish(&mut self, at: usize, header: u64, count: u64, bytes: u64) {
        // The next header goes at `self.pos`: clear its word, so that stale payload of an
        // earlier lap is never taken for a header. Relaxed: published by the Release below
        // (the consumer reads this word only after acquiring the header before it).
        let next = self.pos as usize & self.ring.mask;
        self.ring.data.word(next).store(0, Ordering::Relaxed);
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::SpscBeforeHeader);
        // SYNC(publish): Release pairs with the Acquire load of the header in the
        // consumer's `poll` (and in a taking-over producer's scan): the payload, the later
        // headers of a batch and the cleared word are visible once this header is.
        self.ring.data.word(at).store(header, Ordering::Release);
        // Take the line after the next header's for writing now, while the consumer reads
        // what we published: when a record crosses into it, its store would otherwise
        // wait for the consumer's copy to be invalidated (it prefetches ahead, and read
        // it a lap ago), in front of that record's header. Only a line known to be free:
        // on a ring that is nearly full, the consumer may be reading it.
        if self.limit.wrapping_sub(self.pos) >= (2 * CACHE_LINE - record::HEADER) as u64 {
            self.ring
                .data
                .prefetch_write((next + CACHE_LINE) & self.ring.mask);
        }
        self.sent = self.sent.wrapping_add(count);
        self.bytes = self.bytes.wrapping_add(bytes);
        // Relaxed: statistics, on the producer's own line.
        let own = self.ring.own();
        own.sent.store(self.sent, Ordering::Relaxed);
        own.bytes.store(self.bytes, Ordering::Relaxed);
        if wait::wake(&self.ring.hdr().consumer_wait.0, self.ring.registered) {
            self.wakeups = self.wakeups.wrapping_add(1);
            self.ring
                .own()
                .wakeups
                .store(self.wakeups, Ordering::Relaxed);
        }
        self.sync.committed(count, self.ring.region());
    }

    /// Records where the next record goes, for a producer that takes over after us. Not
    /// on every send (a store per message that only a takeover reads): before each wait
    /// and at detach. A producer that dies between two leaves an older position, from
    /// which the takeover's walk over the committed headers finds the end.
    fn save_hint(&self) {
        // Relaxed: a hint, validated by the reader (see `attach`).
        self.ring.own().mark.store(self.pos, Ordering::Relaxed);
    }

    /// Whether a message of `len` bytes fits at our position now, with no padding in
    /// front of it and within the room we know of: the one test of the fast path.
    /// Otherwise [`Producer::try_claim`] sorts it out.
    #[inline(always)]
    fn fits(&self, len: usize) -> bool {
        // A slice is at most `isize::MAX` bytes, so `size` does not overflow.
        len <= self.ring.max_message
            && !self.ring.poisoned()
            && self.limit.wrapping_sub(self.pos) >= record::size(len) as u64
    }

    /// Sets [`Producer::limit`] for our position and the consumer's position we know:
    /// the end of the area in this lap, or the end of the room less the next header word
    /// (which a commit clears), whichever comes first. A record that ends within it needs
    /// no padding and no look at the consumer. Called wherever either position moves but
    /// on the fast path, which moves ours only within the limit (so it stays right).
    fn set_limit(&mut self) {
        let cap = self.ring.capacity as u64;
        let to_end = cap - (self.pos & self.ring.mask as u64);
        // A validated `cached_read` is at most a lap behind `pos`.
        let used = self.pos.wrapping_sub(self.cached_read);
        let room = (cap - record::HEADER as u64).saturating_sub(used);
        self.limit = self.pos.wrapping_add(to_end.min(room));
    }

    /// The slot at our position, for a message that [`Producer::fits`].
    #[inline(always)]
    fn here(&self) -> Slot {
        Slot {
            pad_at: None,
            pos: self.pos,
            within_limit: true,
        }
    }

    /// Finds room for a record of `len` bytes, or `None` if the ring is full. `exact`: a
    /// ring that looks full by the consumer's published position is looked at again by
    /// the position it released (see [`Producer::refresh_read`]).
    #[inline(always)]
    fn try_claim(&mut self, len: usize, exact: bool) -> Result<Option<Slot>, SendError> {
        if self.ring.poisoned() {
            return Err(SendError::Corrupted);
        }
        if len > self.ring.max_message {
            return Err(SendError::TooLarge {
                len,
                max: self.ring.max_message,
            });
        }
        let cap = self.ring.capacity;
        let size = record::size(len);
        let off = self.pos as usize & self.ring.mask;
        let pad = if off + size > cap { cap - off } else { 0 };
        // The record, the padding in front of it, and the next header word, which the
        // commit clears: all must be free.
        let need = (pad + size + record::HEADER) as u64;
        if self.pos.wrapping_sub(self.cached_read) + need > cap as u64 {
            self.refresh_read(exact)?;
            if self.pos.wrapping_sub(self.cached_read) + need > cap as u64 {
                return Ok(None);
            }
        }
        Ok(Some(Slot {
            pad_at: (pad > 0).then_some(self.pos),
            pos: self.pos.wrapping_add(pad as u64),
            within_limit: false,
        }))
    }

    fn try_claim_counted(&mut self, len: usize) -> Result<Slot, SendError> {
        match self.try_claim(len, true)? {
            Some(slot) => Ok(slot),
            None => {
                self.rejected = self.rejected.wrapping_add(1);
                // Relaxed: statistics.
                self.ring
                    .own()
                    .rejected
                    .store(self.rejected, Ordering::Relaxed);
                Err(if self.ring.broken() {
                    SendError::Corrupted
                } else if self.consumer_gone() {
                    SendError::Disconnected
                } else {
                    SendError::Full
                })
            }
        }
    }

    /// Whether the consumer is gone, for a non-blocking call that found the ring full
    /// (`Disconnected` rather than `Full`): its detach flag at once, a crash asked of the
    /// kernel, paced by time.
    #[cold]
    fn consumer_gone(&mut self) -> bool {
        let thorough = self.pacer.due();
        let gone = self.ring.peer(thorough, self.met_consumer()) == Presence::Gone;
        if gone {
            self.pacer.again();
        }
        gone
    }

    /// Re-reads the consumer's published position and validates it: it may only move
    /// forward, and never past what we wrote.
    ///
    /// The consumer publishes lazily (every quarter of the ring, or when we sleep), so
    /// that it does not write a line we read on every message while both sides stream.
    /// With `exact`, the position it released (stored on its own line at every release)
    /// is read as well, so that a non-blocking call reports `Full` only when the ring is
    /// full. A released position that does not validate is no room, not an error: the
    /// published one is the protocol, this one a hint.
    #[cold]
    #[inline(never)]
    fn refresh_read(&mut self, exact: bool) -> Result<(), SendError> {
        // SYNC(space): Acquire pairs with the Release publication in the consumer, so its
        // reads of the records before `read` are done before we overwrite them.
        let read = self.ring.hdr().read.0.pos.load(Ordering::Acquire);
        if read % 8 != 0 || !self.between(self.published, read) {
            self.ring.poison();
            return Err(SendError::Corrupted);
        }
        self.published = read;
        self.take_read(read);
        if exact {
            // SYNC(release): Acquire pairs with the Release store of the mark in the
            // consumer's `release`, which follows its reads of the records before it.
            let released = self
                .ring
                .counters(Role::Consumer)
                .mark
                .load(Ordering::Acquire);
            if released % 8 == 0 {
                self.take_read(released);
            }
        }
        Ok(())
    }

    /// Whether a consumer gave room back since this handle attached.
    fn met_consumer(&self) -> bool {
        self.cached_read != self.start_read
    }

    /// Whether `read` lies between `from` and our position (both included).
    #[inline]
    fn between(&self, from: u64, read: u64) -> bool {
        read.wrapping_sub(from) <= self.pos.wrapping_sub(from)
    }

    /// Takes `read` as the consumer's position if it is further than the one we know.
    #[inline]
    fn take_read(&mut self, read: u64) {
        if self.between(self.cached_read, read) {
            self.cached_read = read;
            self.set_limit();
        }
    }

    /// Claims room for `len` bytes, waiting (until `deadline`) while the ring is full.
    #[inline(always)]
    fn claim_blocking(
        &mut self,
        len: usize,
        deadline: Option<Deadline>,
    ) -> Result<Slot, SendError> {
        match self.try_claim(len, false)? {
            Some(slot) => Ok(slot),
            None => self.wait_for_room(len, deadline),
        }
    }

    #[cold]
    #[inline(never)]
    fn wait_for_room(&mut self, len: usize, deadline: Option<Deadline>) -> Result<Slot, SendError> {
        self.save_hint();
        // SAFETY: the line lives in the ring that `self` owns, for the whole wait.
        let line = unsafe { self.ring.wait_line(Role::Producer) };
        let strategy = self.strategy;
        let outcome = wait::block_on(strategy, 0, line, deadline, |level| {
            self.look_for_room(len, level)
        });
        outcome.unwrap_or(Err(SendError::Timeout))
    }

    /// One look of a wait for room for `len` bytes, at `level` (see [`Check`]).
    fn look_for_room(&mut self, len: usize, level: Check) -> Option<Result<Slot, SendError>> {
        // Spinning, the published position: the consumer publishes when we park.
        match self.try_claim(len, level != Check::Spin) {
            Ok(Some(slot)) => return Some(Ok(slot)),
            Err(e) => return Some(Err(e)),
            Ok(None) => {}
        }
        if level != Check::Spin && self.ring.broken() {
            return Some(Err(SendError::Corrupted));
        }
        if level != Check::Spin
            && self.ring.peer(level == Check::Peer, self.met_consumer()) == Presence::Gone
        {
            // The consumer published its final position when it detached; a crashed
            // one will not publish again. Look once more, then give up.
            return Some(match self.try_claim(len, true) {
                Ok(Some(slot)) => Ok(slot),
                Ok(None) => Err(SendError::Disconnected),
                Err(e) => Err(e),
            });
        }
        None
    }
}

/// Offset and header word of the padding record at position `at`, which fills the area
/// up to its end.
#[inline]
fn pad_header(at: u64, capacity: usize, mask: usize) -> (usize, u64) {
    let off = at as usize & mask;
    (off, record::pad(at, capacity - off - record::HEADER))
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.save_hint();
        self.ring.detach();
        self.sync.close(self.ring.region());
    }
}

/// Room for one message, written in place (see [`Producer::reserve`]). Dropping the grant
/// without committing abandons the reservation and leaves the ring as it was.
pub type WriteGrant<'a> = crate::grant::WriteGrant<'a, Producer>;

impl Writer for Producer {
    type At = Slot;
    type Committed = ();

    fn commit_at(&mut self, slot: Slot, n: usize) {
        self.commit_slot(slot, n);
    }

    fn abort_at(&mut self, _: Slot) {}
}

impl crate::Waitable for Room<'_, Producer> {}

impl crate::waitset::sealed::Waiting for Room<'_, Producer> {
    fn line(&self) -> &crate::layout::WaitLine {
        // SAFETY: the line lives in the ring that the handle owns; the reference is bound
        // to `&self`.
        unsafe { self.handle.ring.wait_line(Role::Producer) }
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.handle.ring.keep()
    }

    fn begin(&mut self) {
        self.handle.save_hint();
    }

    fn ready(&mut self, level: Check) -> bool {
        self.handle.look_for_room(self.len, level).is_some()
    }
}

durable!(Producer, ring);

#[cfg(feature = "tokio")]
crate::task::sender!(Producer);
