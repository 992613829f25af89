//! The reading side of an SPSC ring.

use super::record::{self, Header};
use super::shared::Ring;
use super::stats::Stats;
use crate::bytes::ReadAccess;
use crate::error::{OpenError, RecvError};
use crate::pace::Pacer;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::{spin_hint, Ordering};
use crate::time::Deadline;
use crate::view::SharedBytes;
use crate::wait::{self, Check, WaitStrategy};
use core::ops::Deref;
use std::time::Duration;

/// How far ahead of the record being read the consumer prefetches, in bytes.
const PREFETCH_AHEAD: usize = 1024;

/// The reading handle of an SPSC ring. `Send`, not `Sync`: one thread reads at a time.
///
/// ```
/// # let name = format!("doc-consumer-{}", std::process::id());
/// use ipcring::spsc::{Consumer, Producer};
/// let mut rx = Consumer::create(&name, 4096)?;
/// let mut tx = Producer::open(&name)?;
/// tx.send_value(&42u64)?;
/// assert_eq!(rx.recv_value::<u64>()?, 42);
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Consumer {
    ring: Ring,
    /// Position of the next record to read.
    pos: u64,
    /// Where this handle started reading: a position past it means a producer was there.
    start: u64,
    /// The position last published to the producer.
    published: u64,
    /// Publish when this many bytes were released since the last publication.
    publish_every: u64,
    /// Messages released and their payload bytes (mirrored to shared memory).
    received: u64,
    bytes: u64,
    wakeups: u64,
    /// When a non-blocking poll may next ask the kernel about the producer.
    pacer: Pacer,
    /// Thorough checks in a row of a wait that found the producer waiting for room (see
    /// [`Consumer::contradiction`]).
    stuck: u8,
    strategy: WaitStrategy,
}

/// A committed record found at the consumer's position.
#[derive(Debug, Clone, Copy)]
struct Found {
    off: usize,
    len: usize,
    next: u64,
}

impl Consumer {
    pub(crate) fn attach(ring: Ring, strategy: WaitStrategy) -> Result<Consumer, OpenError> {
        let hdr = ring.hdr();
        // SYNC(space): Acquire pairs with the Release publications of the previous
        // consumer (and of the creator's start position).
        let read = hdr.read.0.pos.load(Ordering::Acquire);
        // SYNC(release): Acquire pairs with the Release store in `release`.
        let released = ring.own().mark.load(Ordering::Acquire);
        let cap = ring.capacity as u64;
        // The released position may run ahead of the published one by less than a lap;
        // anything else was scribbled: fall back to the published position.
        let pos = if released % 8 == 0 && released.wrapping_sub(read) <= cap {
            released
        } else {
            read
        };
        if read % 8 != 0 {
            return Err(OpenError::BadGeometry {
                what: "read position",
                found: read,
                expected: read & !7,
            });
        }
        let c = ring.own();
        let mut rx = Consumer {
            publish_every: cap / 4,
            received: c.received.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            wakeups: c.wakeups.load(Ordering::Relaxed),
            pacer: Pacer::default(),
            stuck: 0,
            pos,
            start: pos,
            published: read,
            strategy,
            ring,
        };
        rx.publish();
        Ok(rx)
    }

    /// Largest message the ring accepts, in bytes.
    pub fn max_message(&self) -> usize {
        self.ring.max_message
    }

    /// Size of the data area in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// The ring's incarnation: a random word drawn when it was created, so that a ring
    /// removed and created again under the same name tells its positions from the old
    /// ones (0 for a ring made by a build of ABI minor 0).
    pub fn incarnation(&self) -> u64 {
        self.ring.region().incarnation()
    }

    /// How blocking calls wait.
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.strategy = strategy;
    }

    /// Counters of the ring, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.ring)
    }

    /// Receives the next message into `buf` (replacing its contents), waiting while the
    /// ring is empty. Returns the message length. Once `buf` has grown to the largest
    /// message, no call allocates.
    ///
    /// # Errors
    /// `Disconnected` once every committed message was received and the producer is gone;
    /// `Corrupted`.
    #[inline]
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        let found = self.find_blocking(None)?;
        Ok(self.copy_out(found, buf))
    }

    /// Receives the next message into `buf` if there is one; `Err(Empty)` otherwise.
    ///
    /// # Errors
    /// `Empty`, `Disconnected`, `Corrupted`.
    #[inline(always)]
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        let found = self.try_find()?;
        Ok(self.copy_out(found, buf))
    }

    /// Receives the next message into `buf`, waiting at most `timeout`.
    ///
    /// # Errors
    /// `Timeout`, `Disconnected`, `Corrupted`.
    pub fn recv_timeout_into(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<usize, RecvError> {
        let found = self.find_blocking(Some(Deadline::after(timeout)))?;
        Ok(self.copy_out(found, buf))
    }

    /// Waits for the next message and lends it in place; it is released when the grant
    /// is dropped.
    ///
    /// # Errors
    /// As [`Consumer::recv_into`].
    #[inline]
    pub fn read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = self.find_blocking(None)?;
        Ok(self.grant(found))
    }

    /// Lends the next message in place if there is one.
    ///
    /// # Errors
    /// As [`Consumer::try_recv_into`].
    #[inline]
    pub fn try_read(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = self.try_find()?;
        Ok(self.grant(found))
    }

    /// Lends the next message in place, waiting without blocking the thread while the
    /// ring is empty (feature `tokio`; see [`crate::task`]). Cancel-safe.
    ///
    /// # Errors
    /// As [`Consumer::try_read`], but never `Empty`.
    #[cfg(feature = "tokio")]
    pub async fn read_async(&mut self) -> Result<ReadGrant<'_>, RecvError> {
        let found = loop {
            match self.try_find() {
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
        let found = self.find_blocking(Some(Deadline::after(timeout)))?;
        Ok(self.grant(found))
    }

    /// Lends up to `max` messages in place, oldest first, to `f`: the first once there is
    /// one (waiting while the ring is empty), then those committed behind it. They are
    /// released together when `f` has seen the last: one release and at most one
    /// publication of the position for the whole batch. Returns how many `f` saw (at
    /// least one; `max` 0 is taken as 1).
    ///
    /// ```
    /// # let name = format!("doc-batch-{}", std::process::id());
    /// # let mut tx = ipcring::spsc::Producer::create(&name, 4096)?;
    /// # let mut rx = ipcring::spsc::Consumer::open(&name)?;
    /// for word in [&b"log"[..], b"ship", b"batch"] {
    ///     tx.send(word)?;
    /// }
    /// let mut total = 0;
    /// assert_eq!(rx.read_batch(16, |msg| total += msg.len())?, 3);
    /// assert_eq!(total, 12);
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Consumer::recv_into`] (only when `f` saw nothing: a batch that meets a
    /// scribbled record ends before it, and the next call reports it).
    pub fn read_batch(
        &mut self,
        max: usize,
        f: impl FnMut(&SharedBytes<'_>),
    ) -> Result<usize, RecvError> {
        let first = self.find_blocking(None)?;
        Ok(self.take_batch(first, max, f))
    }

    /// Like [`Consumer::read_batch`], but `Err(Empty)` at once when the ring is empty.
    ///
    /// # Errors
    /// As [`Consumer::try_recv_into`].
    pub fn try_read_batch(
        &mut self,
        max: usize,
        f: impl FnMut(&SharedBytes<'_>),
    ) -> Result<usize, RecvError> {
        let first = self.try_find()?;
        Ok(self.take_batch(first, max, f))
    }

    /// Lends up to `max` of the messages that the ring holds for this consumer, oldest
    /// first, after passing over the first `skip` of them, to `f` with the position of
    /// each (see [`ReadGrant::position`]), and releases none: the next read or peek
    /// returns them again. Never waits; returns how many `f` saw (0 when the ring holds no
    /// more than `skip` messages).
    ///
    /// A reader that must not release a message before it handed it on (a bridge that
    /// waits for the acknowledgement of each) peeks ahead with it, and releases what was
    /// handed on with [`Consumer::try_read_batch`].
    ///
    /// ```
    /// # let name = format!("doc-peek-{}", std::process::id());
    /// # let mut tx = ipcring::spsc::Producer::create(&name, 4096)?;
    /// # let mut rx = ipcring::spsc::Consumer::open(&name)?;
    /// for word in [&b"a"[..], b"bb", b"ccc"] {
    ///     tx.send(word)?;
    /// }
    /// let mut lens = Vec::new();
    /// assert_eq!(rx.try_peek_batch(1, 8, |_, msg| lens.push(msg.len()))?, 2);
    /// assert_eq!(lens, [2, 3]);
    /// assert_eq!(rx.try_read_batch(8, |_| ())?, 3); // all three are still there
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `Corrupted` (only when `f` saw nothing, as [`Consumer::read_batch`]).
    pub fn try_peek_batch(
        &mut self,
        skip: usize,
        max: usize,
        mut f: impl FnMut(u64, &SharedBytes<'_>),
    ) -> Result<usize, RecvError> {
        // Walked as a batch read walks, and put back: nothing is released or published.
        let start = self.pos;
        let mut seen = 0;
        let mut n = 0;
        let outcome = loop {
            if n >= max {
                break Ok(n);
            }
            let found = match self.ready() {
                Some(found) => found,
                None => match self.poll_slow() {
                    Ok(Some(found)) => found,
                    Ok(None) => break Ok(n),
                    Err(e) => break if n == 0 { Err(e) } else { Ok(n) },
                },
            };
            if seen >= skip {
                // SAFETY: as in `grant`: a committed, validated record, which the producer
                // leaves alone until we publish a position past it (we publish nothing
                // here).
                let access = unsafe { self.ring.data.read(found.off + record::HEADER, found.len) };
                // SAFETY: the view is gone before the window ends.
                f(self.pos, &unsafe { access.view() });
                access.end();
                n += 1;
            }
            seen += 1;
            self.pos = found.next;
        };
        self.pos = start;
        outcome
    }

    /// Lends `first` and the records committed behind it, up to `max` in all, to `f`, and
    /// releases them together.
    fn take_batch(
        &mut self,
        first: Found,
        max: usize,
        mut f: impl FnMut(&SharedBytes<'_>),
    ) -> usize {
        let mut found = first;
        let mut n = 0;
        let mut bytes = 0;
        loop {
            // SAFETY: as in `grant`: a committed, validated record that the producer leaves
            // alone until we publish a position past it.
            let access = unsafe { self.ring.data.read(found.off + record::HEADER, found.len) };
            // SAFETY: the view is gone before the window ends and the record is released.
            f(&unsafe { access.view() });
            access.end();
            // Ours from here: a panic in a later `f` leaves this one taken, to be released
            // with the next release (or published at drop).
            self.pos = found.next;
            n += 1;
            bytes += found.len as u64;
            if n >= max {
                break;
            }
            found = match self.ready() {
                Some(next) => next,
                None => match self.poll_slow() {
                    Ok(Some(next)) => next,
                    Ok(None) | Err(_) => break,
                },
            };
        }
        self.release_many(self.pos, n as u64, bytes);
        n
    }

    /// Receives a plain-old-data value, waiting while the ring is empty.
    ///
    /// # Errors
    /// `WrongSize` if the next message is not `size_of::<T>()` bytes long (it then stays
    /// in the ring, for [`Consumer::read`]); otherwise as [`Consumer::recv_into`].
    #[inline]
    pub fn recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        let found = self.find_blocking(None)?;
        self.value_of(found)
    }

    /// Receives a plain-old-data value if one is waiting.
    ///
    /// # Errors
    /// `Empty`, or as [`Consumer::recv_value`].
    #[inline(always)]
    pub fn try_recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError> {
        let found = self.try_find()?;
        self.value_of(found)
    }

    #[inline]
    fn value_of<T: bytemuck::Pod>(&mut self, found: Found) -> Result<T, RecvError> {
        let expected = core::mem::size_of::<T>();
        if found.len != expected {
            return Err(RecvError::WrongSize {
                found: found.len,
                expected,
            });
        }
        Ok(self.take(found, ReadAccess::value))
    }

    #[inline]
    fn grant(&mut self, found: Found) -> ReadGrant<'_> {
        // SAFETY: `found` is a committed record inside the area (validated in `poll`),
        // which the producer leaves alone until we publish a position past it.
        let access = unsafe { self.ring.data.read(found.off + record::HEADER, found.len) };
        // SAFETY: the view lives in the grant, which ends the window and releases the
        // record only when it drops.
        let view = unsafe { access.view() };
        ReadGrant {
            next: found.next,
            consumer: self,
            access: Some(access),
            view,
            release: true,
        }
    }

    #[inline]
    fn copy_out(&mut self, found: Found, buf: &mut Vec<u8>) -> usize {
        self.take(found, |a| a.copy_into(buf));
        found.len
    }

    /// Reads the record with `read` and releases it: no grant on the way, so that nothing
    /// of it has to live on the stack.
    #[inline(always)]
    fn take<R>(&mut self, found: Found, read: impl FnOnce(&ReadAccess) -> R) -> R {
        // SAFETY: as in `grant`.
        let access = unsafe { self.ring.data.read(found.off + record::HEADER, found.len) };
        let r = read(&access);
        access.end();
        self.release(found.next, found.len);
        r
    }

    /// The committed message record at our position, validated. `None` for anything
    /// else (nothing yet, padding, a scribbled header), which [`Consumer::poll`] sorts
    /// out off the fast path. Returning a bare `Option` keeps the record in registers.
    #[inline(always)]
    fn ready(&self) -> Option<Found> {
        let off = self.pos as usize & self.ring.mask;
        // SYNC(publish): Acquire pairs with the Release store of the header in the
        // producer's `publish`.
        let w = self.ring.data.word(off).load(Ordering::Acquire);
        if self.ring.poisoned() {
            return None;
        }
        self.found(off, record::message_len(w, self.pos)?)
    }

    /// Looks for a committed record at our position, skipping a padding record.
    #[inline(always)]
    fn poll(&mut self) -> Result<Option<Found>, RecvError> {
        match self.ready() {
            Some(found) => Ok(Some(found)),
            None => self.poll_slow(),
        }
    }

    /// What [`Consumer::ready`] turned down: nothing yet, padding, or corruption.
    #[cold]
    #[inline(never)]
    fn poll_slow(&mut self) -> Result<Option<Found>, RecvError> {
        if self.ring.poisoned() {
            return Err(RecvError::Corrupted);
        }
        let r = self.look_slow();
        if matches!(r, Err(RecvError::Corrupted)) {
            self.ring.poison();
        }
        r
    }

    /// The look of [`Consumer::poll_slow`].
    fn look_slow(&mut self) -> Result<Option<Found>, RecvError> {
        let off = self.pos as usize & self.ring.mask;
        // SYNC(publish): as in `ready`.
        let w = self.ring.data.word(off).load(Ordering::Acquire);
        match record::decode(w, self.pos) {
            Header::Empty => Ok(None),
            Header::Data(len) => self.found(off, len).map(Some).ok_or(RecvError::Corrupted),
            Header::Pad(len) => self.skip_pad(off, len),
            Header::Corrupt => Err(RecvError::Corrupted),
        }
    }

    /// Validates a message header found at `off` (a peer may have scribbled it): `None`
    /// if its record would not fit.
    #[inline(always)]
    fn found(&self, off: usize, len: usize) -> Option<Found> {
        let size = record::size(len);
        if len > self.ring.max_message || off + size > self.ring.capacity {
            return None;
        }
        // Start fetching what comes next while this record is used.
        self.ring.data.prefetch(off + size + PREFETCH_AHEAD);
        Some(Found {
            off,
            len,
            next: self.pos.wrapping_add(size as u64),
        })
    }

    /// Skips the padding record at `off` and looks at the start of the area.
    #[cold]
    #[inline(never)]
    fn skip_pad(&mut self, off: usize, len: usize) -> Result<Option<Found>, RecvError> {
        let cap = self.ring.capacity;
        if off + record::HEADER + len != cap {
            return Err(RecvError::Corrupted);
        }
        self.pos = self.pos.wrapping_add((cap - off) as u64);
        // SYNC(publish): as in `poll`; the padding record was published after this one.
        let w = self.ring.data.word(0).load(Ordering::Acquire);
        match record::decode(w, self.pos) {
            Header::Data(len) => self.found(0, len).map(Some).ok_or(RecvError::Corrupted),
            // The producer publishes the padding record only together with the record
            // after it, so anything else here is corruption.
            _ => Err(RecvError::Corrupted),
        }
    }

    #[inline(always)]
    fn try_find(&mut self) -> Result<Found, RecvError> {
        match self.ready() {
            Some(found) => Ok(found),
            None => self.try_find_empty(),
        }
    }

    /// What [`Consumer::try_find`] does when the word at our position is no message. An
    /// empty ring, what a polling loop meets most, costs little: a coarse clock read and a
    /// flag (a graceful detach is seen at once); a crash needs a syscall, paced by time.
    #[inline(never)]
    fn try_find_empty(&mut self) -> Result<Found, RecvError> {
        // `ready` turns down every record once the handle is poisoned: not `Empty`.
        if self.ring.poisoned() {
            return Err(RecvError::Corrupted);
        }
        let off = self.pos as usize & self.ring.mask;
        // SYNC(publish): as in `ready`.
        let w = self.ring.data.word(off).load(Ordering::Acquire);
        if record::decode(w, self.pos) != Header::Empty {
            if let Some(found) = self.poll_slow()? {
                return Ok(found);
            }
        }
        self.on_empty();
        let thorough = self.pacer.due();
        if !thorough && self.ring.peer_attached() {
            return Err(RecvError::Empty);
        }
        let r = self.check_producer(thorough);
        self.pacer.after(&r);
        r.unwrap_or(Err(RecvError::Empty))
    }

    /// The ring looked empty: if the producer waits for room, give it what we read.
    #[inline]
    fn on_empty(&mut self) {
        // Relaxed peek: a producer that announced itself is seen soon enough; a missed
        // announcement is covered by the publication before we park (see `find_blocking`).
        if self.pos != self.published && self.producer_waiting() {
            self.publish();
        }
    }

    /// Whether the producer announced that it sleeps waiting for room. A Relaxed peek: that
    /// line changes only when the producer parks, so it stays in our cache while both
    /// sides are busy; a missed announcement is covered by the publication before we park.
    #[inline(always)]
    fn producer_waiting(&self) -> bool {
        self.ring
            .hdr()
            .producer_wait
            .0
            .announced
            .load(Ordering::Relaxed)
            != 0
    }

    /// If the producer is gone, looks once more and reports `Disconnected` when the ring
    /// is drained.
    fn check_producer(&mut self, thorough: bool) -> Option<Result<Found, RecvError>> {
        if self.ring.broken() {
            return Some(Err(RecvError::Corrupted));
        }
        if self.ring.peer(thorough, self.pos != self.start) != Presence::Gone {
            return None;
        }
        // Everything the producer committed before it died or detached is visible now
        // (the detach flag is Acquire; a death is seen through a syscall).
        match self.poll() {
            Ok(Some(found)) => Some(Ok(found)),
            Ok(None) => Some(Err(RecvError::Disconnected)),
            Err(e) => Some(Err(e)),
        }
    }

    /// Finds the next record, waiting (until `deadline`) while the ring is empty.
    #[inline(always)]
    fn find_blocking(&mut self, deadline: Option<Deadline>) -> Result<Found, RecvError> {
        match self.ready() {
            Some(found) => Ok(found),
            None => self.spin_then_wait(deadline),
        }
    }

    /// The ring looked empty. The first spins of the wait run here, polling only the
    /// header word: a message that comes within them (a busy round trip) is taken without
    /// the detour through [`Consumer::wait_for_message`], whose way out added about 30 ns
    /// to a busy round trip of 150. Not inlined, so that the receive calls stay small.
    #[inline(never)]
    fn spin_then_wait(&mut self, deadline: Option<Deadline>) -> Result<Found, RecvError> {
        let spins = wait::inline_spins(self.strategy);
        if spins > 0 {
            // What `wait_for_message` does on its spins, once here: a producer that sleeps
            // waiting for room gets what we read.
            self.on_empty();
            for _ in 0..spins {
                spin_hint();
                if let Some(found) = self.ready() {
                    return Ok(found);
                }
            }
        }
        self.wait_for_message(spins, deadline)
    }

    #[cold]
    #[inline(never)]
    fn wait_for_message(
        &mut self,
        spun: u32,
        deadline: Option<Deadline>,
    ) -> Result<Found, RecvError> {
        // SAFETY: the line lives in the ring that `self` owns, for the whole wait.
        let line = unsafe { self.ring.wait_line(Role::Consumer) };
        let strategy = self.strategy;
        self.stuck = 0;
        let outcome = wait::block_on(strategy, spun, line, deadline, |level| self.look(level));
        outcome.unwrap_or(Err(RecvError::Timeout))
    }

    /// One look of a wait for a message, at `level` (see [`Check`]).
    fn look(&mut self, level: Check) -> Option<Result<Found, RecvError>> {
        match self.poll() {
            Ok(Some(found)) => return Some(Ok(found)),
            Err(e) => return Some(Err(e)),
            Ok(None) => {}
        }
        if level == Check::Spin {
            self.on_empty();
            return None;
        }
        // Before sleeping (and now and then while spinning): hand the producer
        // everything we read, so that neither side waits for the other.
        if self.pos != self.published {
            self.publish();
        }
        if level == Check::Peer {
            self.restore_published();
            if let Some(e) = self.contradiction() {
                return Some(Err(e));
            }
        }
        self.check_producer(level == Check::Peer)
    }

    /// Releases the record of `len` payload bytes that ends at `next`.
    #[inline(always)]
    fn release(&mut self, next: u64, len: usize) {
        self.release_many(next, 1, len as u64);
    }

    /// Releases the `count` records of `bytes` payload bytes in all that end at `next`.
    #[inline(always)]
    fn release_many(&mut self, next: u64, count: u64, bytes: u64) {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::SpscBeforeRelease);
        self.pos = next;
        self.received = self.received.wrapping_add(count);
        self.bytes = self.bytes.wrapping_add(bytes);
        let c = self.ring.own();
        // SYNC(release): Release pairs with the Acquire loads in `attach` of a later
        // consumer and in the producer's `refresh_read`, which reads it only when a
        // non-blocking call finds the ring full. On our own line: nobody reads it on the
        // hot path.
        c.mark.store(next, Ordering::Release);
        // Relaxed: statistics.
        c.received.store(self.received, Ordering::Relaxed);
        c.bytes.store(self.bytes, Ordering::Relaxed);
        // Publish a fraction of the ring at a time, and at once when the producer sleeps
        // waiting for room. Relaxed peek, as in `on_empty`: that line only changes when
        // the producer parks, so it stays in our cache while both sides are busy.
        if next.wrapping_sub(self.published) >= self.publish_every || self.producer_waiting() {
            self.publish();
        }
    }

    /// Puts back the position we published and the one we released if the shared memory
    /// no longer says them (a peer scribbled over them): a producer that waits for room
    /// would otherwise wait for a publication that never comes, since we publish only
    /// what is new to us. Called at each thorough check of a wait (at least once a slice).
    #[cold]
    fn restore_published(&mut self) {
        // Relaxed: compared with our own values only; what we store again is ordered as
        // in `release_many` and `publish`. Waiting, we hold no record: released is `pos`.
        if self.ring.own().mark.load(Ordering::Relaxed) != self.pos {
            // SYNC(release): as in `release_many`.
            self.ring.own().mark.store(self.pos, Ordering::Release);
        }
        if self.ring.hdr().read.0.pos.load(Ordering::Relaxed) != self.published {
            self.publish();
        }
    }

    /// Whether the producer waits for room while we wait for a message at the position we
    /// published: impossible in an intact ring (an empty ring has room for any message),
    /// so a header that a peer erased hides the records after it, and without this both
    /// sides would wait for each other for good. Each thorough check that finds it wakes
    /// the producer, so that it looks again at what we published (it announces itself
    /// again only if it still finds no room); the third in a row is `Corrupted`.
    #[cold]
    fn contradiction(&mut self) -> Option<RecvError> {
        if !self.producer_waiting() {
            self.stuck = 0;
            return None;
        }
        self.stuck += 1;
        if self.stuck < 3 {
            self.publish();
            return None;
        }
        self.ring.poison();
        Some(RecvError::Corrupted)
    }

    /// Publishes our position to the producer and wakes it if it sleeps.
    fn publish(&mut self) {
        let hdr = self.ring.hdr();
        // SYNC(space): Release pairs with the Acquire load in the producer's
        // `refresh_read`: our reads of the records before `pos` happen before it reuses
        // their bytes.
        hdr.read.0.pos.store(self.pos, Ordering::Release);
        self.published = self.pos;
        if wait::wake(&hdr.producer_wait.0, self.ring.registered) {
            self.wakeups = self.wakeups.wrapping_add(1);
            // Relaxed: statistics.
            self.ring
                .own()
                .wakeups
                .store(self.wakeups, Ordering::Relaxed);
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        if self.pos != self.published {
            self.publish();
        }
        self.ring.detach();
    }
}

/// A message lent in place. Dereferences to a [`SharedBytes`] view of its bytes; dropping
/// it releases the message.
#[derive(Debug)]
pub struct ReadGrant<'a> {
    consumer: &'a mut Consumer,
    next: u64,
    access: Option<ReadAccess>,
    view: SharedBytes<'a>,
    /// Whether dropping the grant releases the message (`keep` clears it).
    release: bool,
}

impl ReadGrant<'_> {
    /// The message's position: where its record starts in the ring's byte positions
    /// (which only grow, wrapping at 2^64). Stable: a consumer that reads the message
    /// again, this one after [`ReadGrant::keep`] or a successor after this one died, finds
    /// it at the same position; with [`Consumer::incarnation`] it names the message.
    pub fn position(&self) -> u64 {
        self.next.wrapping_sub(record::size(self.view.len()) as u64)
    }

    /// Ends the loan without releasing the message: the next read returns it again.
    ///
    /// ```
    /// # let name = format!("doc-keep-{}", std::process::id());
    /// # let mut tx = ipcring::spsc::Producer::create(&name, 4096)?;
    /// # let mut rx = ipcring::spsc::Consumer::open(&name)?;
    /// tx.send(b"too big for a small buffer")?;
    /// let g = rx.read()?;
    /// let needed = g.len();
    /// g.keep();
    /// let mut buf = Vec::with_capacity(needed);
    /// assert_eq!(rx.recv_into(&mut buf)?, needed);
    /// # ipcring::unlink(&name)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep(mut self) {
        self.release = false;
    }
}

impl<'a> Deref for ReadGrant<'a> {
    type Target = SharedBytes<'a>;
    #[inline]
    fn deref(&self) -> &SharedBytes<'a> {
        &self.view
    }
}

impl Drop for ReadGrant<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(a) = self.access.take() {
            a.end();
        }
        if self.release {
            self.consumer.release(self.next, self.view.len());
        }
    }
}

impl crate::Waitable for Consumer {}

impl crate::waitset::sealed::Waiting for Consumer {
    fn line(&self) -> &crate::layout::WaitLine {
        // SAFETY: the line lives in the ring that `self` owns; the reference is bound to
        // `&self`.
        unsafe { self.ring.wait_line(Role::Consumer) }
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.ring.keep()
    }

    fn begin(&mut self) {
        self.stuck = 0;
    }

    fn ready(&mut self, level: Check) -> bool {
        self.look(level).is_some()
    }
}

#[cfg(feature = "tokio")]
crate::task::receiver!(Consumer);

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::Consumer;
    use crate::waitset::sealed::Waiting;

    /// The role locks are on a description of their own (see `segment::Segment`): the
    /// memory that a helper thread keeps mapped after its handle is gone holds no role.
    #[test]
    fn memory_kept_after_its_handle_holds_no_role() {
        let name = format!("unit-kept-{}", std::process::id());
        let rx = Consumer::create(&name, 4096).expect("create");
        let kept = Waiting::keep(&rx);
        drop(rx);
        let again = Consumer::open(&name);
        crate::unlink(&name).expect("remove");
        assert!(again.is_ok(), "{:?}", again.map(|_| ()));
        drop(kept);
    }

    /// A peek lends what a read would, at the positions the read grants tell, across the
    /// wrap of the data area (a padding record), and releases nothing.
    #[test]
    fn a_peek_across_the_wrap_lends_what_reads_find_and_releases_nothing() {
        let name = format!("unit-peek-{}", std::process::id());
        let mut rx = Consumer::create(&name, 256).expect("create");
        let mut tx = crate::spsc::Producer::open(&name).expect("open");
        // 7 records of 32 bytes (24 of payload), read: the next ones wrap.
        for _ in 0..7 {
            tx.send(&[0; 24]).expect("send");
            rx.try_read().expect("read");
        }
        for i in 0..4u8 {
            tx.send(&[i; 40]).expect("send");
        }
        let mut peeked = Vec::new();
        let n = rx.try_peek_batch(1, 8, |pos, msg| peeked.push((pos, msg.to_vec())));
        assert_eq!(n, Ok(3));
        assert_eq!(rx.try_peek_batch(4, 8, |_, _| ()), Ok(0));
        let mut read = Vec::new();
        while let Ok(g) = rx.try_read() {
            read.push((g.position(), g.to_vec()));
        }
        crate::unlink(&name).expect("remove");
        assert_eq!(read.len(), 4, "the peek released nothing");
        assert_eq!(peeked, read[1..]);
    }

    /// Positions are the ring's: a consumer that comes after one that left finds the
    /// message it did not release at the position that one was lent it.
    #[test]
    fn a_message_not_released_keeps_its_position_for_the_next_consumer() {
        let name = format!("unit-position-{}", std::process::id());
        let mut rx = Consumer::create(&name, 4096).expect("create");
        let mut tx = crate::spsc::Producer::open(&name).expect("open");
        tx.send(b"first").expect("send");
        tx.send(b"second").expect("send");
        rx.try_read().expect("read");
        let g = rx.try_read().expect("read");
        let lent = g.position();
        g.keep();
        drop(rx);
        let mut next = Consumer::open(&name).expect("open");
        let again = next.try_read().map(|g| (g.position(), g.to_vec()));
        crate::unlink(&name).expect("remove");
        assert_eq!(again, Ok((lent, b"second".to_vec())));
    }

    /// A ring created again under the same name has another incarnation, which survey
    /// and the handles tell alike.
    #[test]
    fn a_ring_created_again_has_another_incarnation() {
        let name = format!("unit-incarnation-{}", std::process::id());
        let first = Consumer::create(&name, 4096).expect("create");
        let surveyed = crate::survey::inspect(&name).expect("inspect").incarnation;
        let a = first.incarnation();
        drop(first);
        crate::unlink(&name).expect("remove");
        let b = Consumer::create(&name, 4096)
            .expect("create again")
            .incarnation();
        crate::unlink(&name).expect("remove");
        assert_eq!(surveyed, a);
        assert!(a != 0 && b != 0 && a != b, "{a:x} {b:x}");
    }
}
