//! The MPMC algorithm, on the cells of a queue: what both kinds of handle hold, and every
//! step that moves a cell from one hand to the next.
//!
//! It is the bounded queue of Vyukov (crossbeam's `ArrayQueue`): a producer claims the
//! position `tail` by a compare-and-swap of `tail` to the next one, once the position's
//! cell is free for it; it writes the payload and commits with a store of the cell's state.
//! A consumer takes the position `head` the same way once its cell is committed, reads,
//! and releases the cell with a store that frees it for its next lap. That is one
//! compare-and-swap and one store per message on each side.
//!
//! What a crash needs on top of that: who holds each claim. Every handle marks the
//! position it is about to claim in its role slot (see `claims.rs`), so that a claim whose
//! holder died is told from a live one ([`crate::claims::abandoned`]), and:
//!
//! - a producer's claim is skipped: the cell is freed for its next lap;
//! - a consumer's message is delivered again: a consumer takes it over (it marks the
//!   position and flips the cell's `READY` tag: of several that try, one compare-and-swap
//!   wins), or a producer that needs the cell turns it into the message of its own position
//!   in place.
//!
//! The steps that resolve an abandoned claim are in `recovery.rs`.
//!
//! Orderings, named at each access: SYNC(publish) (commit → take), SYNC(release) (release
//! or skip → the next claim of the cell), SYNC(mark) (a mark, stored before the claim, is
//! visible to whoever sees the index past the position; a mark moved on means the position
//! was finished before).
//!
//! Committed and released, precisely: a message is **committed** when the store (the
//! compare-and-swap, with a stall timeout) of its cell's state from `FREE` to `READY` (with
//! the length)
//! happens (`send*` and `WriteGrant::commit` return then); from that moment it is delivered
//! to exactly one consumer, unless that consumer dies before it **releases** the cell
//! (stores `FREE` of the next lap: the end of `recv_into`, or the drop of a read grant), in
//! which case it is delivered again, once per death, and counted as redelivered.

use super::cell::{self, Seen, State};
use super::layout::{Geometry, MpmcHeader};
use crate::attachment::{Attachment, WaitLines};
use crate::bytes::{ReadAccess, WriteAccess};
use crate::cells::Cells;
pub(crate) use crate::cells::Spot;
use crate::claims::{self, advance, idle, past, within_lap};
use crate::error::OpenError;
use crate::layout::WaitLine;
use crate::region::Region;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::{AtomicU64, Ordering};
use crate::wait;
use core::ops::{Deref, DerefMut};

/// What a producer found at the tail: `A` is the claimed [`Spot`] for a claim, the
/// position a claim would try for a look that claims nothing ([`Queue::peek`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claimed<A = Spot> {
    /// This position is ours to write (a look: its cell is free for it, and a claim
    /// would try it).
    At(A),
    /// The queue is full: the cell of `pos` still holds the position a lap before it; its
    /// state word is `word`.
    Full { pos: u64, word: u64 },
}

/// What a consumer found at the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// This position's message (of `len` bytes) is ours to read.
    At { at: Spot, len: usize },
    /// Nothing is committed at the head.
    Empty,
    /// A producer has claimed the head and not committed it yet.
    Pending { pos: u64 },
}

/// One handle's view of a queue: its attachment (memory, slot, counters, wait lines, all
/// reached through `Deref`) and the queue's cells.
#[derive(Debug)]
pub(crate) struct Queue {
    cells: Cells,
    /// Private copies, never re-read from shared memory.
    pub(crate) geo: Geometry,
    /// The mark that this handle's predecessor in its slot left (a consumer delivers that
    /// message again if its holder died with it).
    pub(crate) inherited: u64,
    /// The tail and the head when this handle attached (see [`index_of`]): one that moved
    /// since shows that producers (tail) or consumers (head) were there.
    first: (u64, u64),
    at: Attachment<MpmcHeader>,
}

// SAFETY: the cells point into the memory of the attachment's region, which moves with the
// queue; all shared accesses go through atomics or protocol-guarded windows. Not `Sync`: a
// handle is used by one thread at a time (`&mut self` on every operation).
unsafe impl Send for Queue {}

impl Deref for Queue {
    type Target = Attachment<MpmcHeader>;
    fn deref(&self) -> &Attachment<MpmcHeader> {
        &self.at
    }
}

impl DerefMut for Queue {
    fn deref_mut(&mut self) -> &mut Attachment<MpmcHeader> {
        &mut self.at
    }
}

impl WaitLines for MpmcHeader {
    fn line(&self, role: Role) -> &WaitLine {
        match role {
            Role::Producer => &self.producer_wait.0,
            Role::Consumer => &self.consumer_wait.0,
        }
    }
}

impl Queue {
    /// Attaches `role` to the queue in `region`: takes a slot or fails with `RoleTaken`.
    pub(crate) fn attach(
        region: Region<MpmcHeader>,
        role: Role,
        geo: Geometry,
    ) -> Result<Queue, OpenError> {
        let mut inherited = 0;
        let mut unfinished = false;
        let at = Attachment::attach(region, geo.class(role), |h, slot| {
            // Relaxed: the slot's lock (or flag) orders the predecessor's last mark before
            // us, and `attach` publishes the replaced one with the slot (SYNC(attach)). The
            // index only places our idle mark and tells whether the old one may matter.
            let at = index_of(h, role).load(Ordering::Relaxed);
            inherited = slot.counters.0.mark.swap(idle(at), Ordering::Relaxed);
            unfinished = within_lap(at, inherited, geo.cells.capacity);
        })?;
        // Relaxed: evidence only (see `presence`).
        let first = (
            index_of(at.hdr(), Role::Producer).load(Ordering::Relaxed),
            index_of(at.hdr(), Role::Consumer).load(Ordering::Relaxed),
        );
        let q = Queue {
            cells: Cells::new(at.region().data(), &geo.cells),
            geo,
            inherited,
            first,
            at,
        };
        if unfinished {
            // In one process the slot's flag showed it held before the mark was replaced:
            // whoever waited on that mark looks again.
            wait::wake_always(q.wait_line(Role::Producer));
            wait::wake_always(q.wait_line(Role::Consumer));
        }
        Ok(q)
    }

    /// Whether anybody holds a slot of `role`; `thorough` asks the kernel.
    pub(crate) fn presence(&self, role: Role, thorough: bool) -> Presence {
        // Relaxed: evidence that `role` was ever held, however stale; a scribbled index
        // at worst makes holders that are gone `Gone` rather than never there.
        let now = index_of(self.hdr(), role).load(Ordering::Relaxed);
        let then = match role {
            Role::Producer => self.first.0,
            Role::Consumer => self.first.1,
        };
        let met = now != then;
        self.at.presence(self.geo.class(role), thorough, met)
    }

    #[inline]
    pub(super) fn lap(&self, pos: u64) -> u32 {
        self.cells.lap(pos)
    }

    /// The state word of the cell of `pos`.
    #[inline]
    pub(super) fn state(&self, pos: u64) -> &AtomicU64 {
        self.cells.state(pos)
    }

    #[inline]
    pub(super) fn spot(&self, pos: u64) -> Spot {
        self.cells.spot(pos)
    }

    /// Most cells one claim or take looks at before it gives up: a lap, and as many again
    /// for compare-and-swaps lost to other handles. Only a peer that scribbles over the
    /// states can make a search run that long.
    fn search_limit(&self) -> usize {
        2 * self.geo.cells.capacity + 16
    }

    /// Stores this handle's mark: the position it is about to claim (or holds).
    #[inline]
    pub(super) fn mark(&self, pos: u64) {
        claims::mark(self.own(), pos);
    }

    /// Claims the position at `tail` for writing, once its cell is free for it.
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes.
    #[inline]
    pub(crate) fn claim(&self) -> Result<Claimed, crate::SendError> {
        if self.poisoned() {
            return Err(crate::SendError::Corrupted);
        }
        let tail = &self.hdr().tail.0.pos;
        // SYNC(mark): Acquire, as every load of an index.
        let t = tail.load(Ordering::Acquire);
        let at = self.spot(t);
        // SYNC(release): as in `frontier`.
        if self.cells.word(at).load(Ordering::Acquire) == cell::free(self.lap(t)) {
            self.mark(t);
            // SYNC(mark): as in `claim_from`.
            if tail
                .compare_exchange(t, t.wrapping_add(1), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Ok(Claimed::At(at));
            }
        }
        self.claim_from(t)
    }

    /// The general case of [`Queue::claim`], from the tail value `t`.
    #[inline(never)]
    fn claim_from(&self, mut t: u64) -> Result<Claimed, crate::SendError> {
        let tail = &self.hdr().tail.0.pos;
        let found = 'search: {
            for _ in 0..self.search_limit() {
                let free = match self.frontier(t) {
                    Ok(Claimed::At(free)) => free,
                    Ok(Claimed::Full { pos, word }) => {
                        break 'search Ok(Claimed::Full { pos, word })
                    }
                    Err(e) => break 'search Err(e),
                };
                t = free;
                self.mark(t);
                // SYNC(mark): AcqRel: the Release half publishes our mark to whoever sees
                // the tail past `t`; the Acquire half keeps the sequence whole.
                match tail.compare_exchange(
                    t,
                    t.wrapping_add(1),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Ok(Claimed::At(self.spot(t))),
                    Err(now) => t = now,
                }
            }
            // More compare-and-swaps lost than `search_limit` allows.
            self.poison();
            Err(crate::SendError::Corrupted)
        };
        // A mark stored by the fast path, or by a compare-and-swap we lost, moves away.
        self.mark(idle(t));
        found
    }

    /// Looks at the tail as a claim does, and claims nothing: whether the cell of the
    /// tail is free for its lap (`At`: the position a claim would try), or the full
    /// frontier (`Full`, as [`Queue::claim`] reports it). A tail left behind a position
    /// that is taken already is moved on, as a claim moves it.
    ///
    /// # Errors
    /// `Corrupted`, as [`Queue::claim`].
    pub(crate) fn peek(&self) -> Result<Claimed<u64>, crate::SendError> {
        if self.poisoned() {
            return Err(crate::SendError::Corrupted);
        }
        // SYNC(mark): Acquire, as every load of an index.
        let t = self.hdr().tail.0.pos.load(Ordering::Acquire);
        self.frontier(t)
    }

    /// The first position from the tail value `t` on whose cell is free for its lap
    /// (`At`), or the full frontier (`Full`): the search of a claim, without the claim.
    #[inline]
    fn frontier(&self, mut t: u64) -> Result<Claimed<u64>, crate::SendError> {
        let tail = &self.hdr().tail.0.pos;
        for _ in 0..self.search_limit() {
            // SYNC(release): Acquire pairs with the Release store that freed the cell (a
            // consumer's release, a skip, an abort): its accesses to the cell happen
            // before the writes of the claim that follows this look (a peek makes none).
            let w = self.state(t).load(Ordering::Acquire);
            match cell::decode(w, self.lap(t)) {
                Seen::Now(State::Free) => return Ok(Claimed::At(t)),
                Seen::Now(_) | Seen::After => t = advance(tail, t),
                Seen::Before(_) => return Ok(Claimed::Full { pos: t, word: w }),
                Seen::Corrupt => break,
            }
        }
        self.poison();
        Err(crate::SendError::Corrupted)
    }

    /// The payload window of a claimed position.
    ///
    /// # Safety
    /// `pos` was claimed by this handle and not committed or aborted yet; `len` is at most
    /// the slot size.
    #[inline]
    pub(crate) unsafe fn write_window(&self, at: Spot, len: usize) -> WriteAccess {
        // SAFETY: our claim keeps everybody else out of the cell (the caller's contract).
        unsafe { self.cells.write_window(at, len) }
    }

    /// Commits the claimed position `at` as a message of `len` bytes.
    ///
    /// # Errors
    /// `Skipped` if consumers passed the claim while this producer was stalled (the
    /// message is then never delivered, and the cell is freed).
    #[inline]
    pub(crate) fn commit(&self, at: Spot, len: usize) -> Result<(), crate::SendError> {
        let lap = self.lap(at.pos);
        let word = self.cells.word(at);
        // SYNC(publish): Release pairs with the Acquire load of the consumer that takes
        // the cell (and of a redeliverer): the payload and the length are visible to
        // whoever reads the message.
        if self.geo.stall.is_none() {
            // Nobody changes a claimed cell but its live producer: a plain store.
            word.store(cell::ready(lap, len), Ordering::Release);
        } else if word
            .compare_exchange(
                cell::free(lap),
                cell::ready(lap, len),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            // Consumers passed us as stalled: end the quarantine of the cell.
            self.abort(at);
            return Err(crate::SendError::Skipped);
        }
        self.wake(Role::Consumer);
        Ok(())
    }

    /// Abandons the claimed position `at`: frees its cell for the next lap, which
    /// consumers pass. (A stall pass in between changes nothing: the cell is ours to free
    /// either way.)
    pub(crate) fn abort(&self, at: Spot) {
        let next = cell::free(self.lap(at.pos).wrapping_add(1));
        // SYNC(release): Release pairs with the Acquire load of the next producer of the
        // cell: our writes of it are done before it writes it.
        self.cells.word(at).store(next, Ordering::Release);
        self.wake(Role::Producer);
    }

    /// Takes the message at `head`, once its cell is committed. With `pending`, tells a
    /// claimed head ([`Taken::Pending`]) from an empty queue (a look at the tail, which
    /// producers write: a spinning consumer does without).
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes, or a length over the slot size.
    #[inline]
    pub(crate) fn take(&self, pending: bool) -> Result<Taken, crate::RecvError> {
        match self.take_fast() {
            Ok((at, len)) => Ok(Taken::At { at, len }),
            Err(h) => self.take_from(h, pending),
        }
    }

    /// The common case of a take: the head's message is committed with a length that
    /// fits the slot, and our compare-and-swap of the head wins; returns its position and
    /// length. Otherwise the head value it saw, for [`Queue::take_from`].
    #[inline]
    pub(crate) fn take_fast(&self) -> Result<(Spot, usize), u64> {
        let head = &self.hdr().head.0.pos;
        // SYNC(mark): Acquire, as every load of an index.
        let h = head.load(Ordering::Acquire);
        let at = self.spot(h);
        // SYNC(publish): as in `take_from`.
        let w = self.cells.word(at).load(Ordering::Acquire);
        // At most 2^29 - 1: fits.
        let len = cell::len(w) as usize;
        if cell::is_ready(w, self.lap(h)) && len <= self.geo.cells.slot_size && !self.poisoned() {
            self.mark(h);
            // SYNC(mark): as in `claim`.
            if head
                .compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Ok((at, len));
            }
        }
        Err(h)
    }

    /// The general case of [`Queue::take`], from the head value `h`.
    #[inline(never)]
    fn take_from(&self, mut h: u64, pending: bool) -> Result<Taken, crate::RecvError> {
        if self.poisoned() {
            return Err(crate::RecvError::Corrupted);
        }
        let head = &self.hdr().head.0.pos;
        // A mark stored by the fast path is moved away below if we give up.
        let mut marked = true;
        // The position found unfinished with the tail more than a lap past it, once.
        let mut lapped = None;
        for _ in 0..self.search_limit() {
            // SYNC(publish): Acquire pairs with the Release commit (or redelivery).
            let w = self.state(h).load(Ordering::Acquire);
            match cell::decode(w, self.lap(h)) {
                Seen::Now(State::Ready) => {
                    self.mark(h);
                    marked = true;
                    // SYNC(mark): AcqRel, as in `claim`.
                    match head.compare_exchange(
                        h,
                        h.wrapping_add(1),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => {
                            let at = self.spot(h);
                            return self.length(h, w).map(|len| Taken::At { at, len });
                        }
                        Err(now) => h = now,
                    }
                }
                Seen::Now(State::Free) | Seen::Before(State::Ready | State::Stalled) => {
                    if marked {
                        self.mark(idle(h));
                    }
                    if !pending {
                        return Ok(Taken::Empty);
                    }
                    // SYNC(mark): Acquire, as every load of an index.
                    let t = self.hdr().tail.0.pos.load(Ordering::Acquire);
                    if !past(t, h) {
                        return Ok(Taken::Empty);
                    }
                    if within_lap(t, h, self.geo.cells.capacity) {
                        return Ok(Taken::Pending { pos: h });
                    }
                    // No position a lap after `h` is claimed before `h` is released (its
                    // cell is not free for it before): the cell must have moved on since we
                    // read it. Read again after the tail (Acquire: it synchronises with the
                    // claim that moved it), a word still unfinished for `h` is a tail or a
                    // cell that a peer wrote, which would otherwise leave consumers waiting
                    // for a position that no producer will ever claim.
                    if lapped == Some(h) {
                        break;
                    }
                    lapped = Some(h);
                }
                Seen::Now(_) | Seen::After => h = advance(head, h),
                Seen::Before(_) | Seen::Corrupt => break,
            }
        }
        if marked {
            self.mark(idle(h));
        }
        self.poison();
        Err(crate::RecvError::Corrupted)
    }

    /// The validated length of the message we just took at `pos`, whose state word was
    /// `w`; a bad one frees the cell (its message is lost: the peer scribbled over it).
    #[inline]
    pub(super) fn length(&self, pos: u64, w: u64) -> Result<usize, crate::RecvError> {
        match usize::try_from(cell::len(w)) {
            Ok(len) if len <= self.geo.cells.slot_size => Ok(len),
            _ => {
                self.release(self.spot(pos));
                self.poison();
                Err(crate::RecvError::Corrupted)
            }
        }
    }

    /// The payload window of a taken position.
    ///
    /// # Safety
    /// `at` was taken by this handle (with this `len`) and not released yet.
    #[inline]
    pub(crate) unsafe fn read_window(&self, at: Spot, len: usize) -> ReadAccess {
        // SAFETY: our claim keeps producers out of the cell until we release it (the
        // caller's contract).
        unsafe { self.cells.read_window(at, len) }
    }

    /// Releases the taken position `at`: its cell is free for the next lap.
    #[inline]
    pub(crate) fn release(&self, at: Spot) {
        let next = cell::free(self.lap(at.pos).wrapping_add(1));
        // SYNC(release): Release pairs with the Acquire claim of the producer that writes
        // the cell next: our reads of it are done before.
        self.cells.word(at).store(next, Ordering::Release);
        self.wake(Role::Producer);
    }

    /// Number of messages in the queue now, as far as the indexes tell (for statistics).
    pub(crate) fn fill(&self) -> u64 {
        let h = self.hdr();
        // Relaxed: statistics.
        let tail = h.tail.0.pos.load(Ordering::Relaxed);
        let head = h.head.0.pos.load(Ordering::Relaxed);
        tail.wrapping_sub(head).min(self.geo.cells.capacity as u64)
    }
}

/// The index that claims of `role` move: the tail for producers, the head for consumers.
pub(super) fn index_of(h: &MpmcHeader, role: Role) -> &AtomicU64 {
    match role {
        Role::Producer => &h.tail.0.pos,
        Role::Consumer => &h.head.0.pos,
    }
}

/// Initialises a new queue whose positions start at `start`: both indexes there, and every
/// cell free for the first position that maps to it.
pub(crate) fn init(region: &Region<MpmcHeader>, geo: &Geometry, start: u64) {
    let h = region.header();
    // Relaxed: a segment's header is published by its READY store; a heap queue reaches
    // other threads only by being moved or cloned into them.
    h.tail.0.pos.store(start, Ordering::Relaxed);
    h.head.0.pos.store(start, Ordering::Relaxed);
    Cells::new(region.data(), &geo.cells).init(start, cell::free);
    wait::prepare(&h.consumer_wait.0);
    wait::prepare(&h.producer_wait.0);
}
