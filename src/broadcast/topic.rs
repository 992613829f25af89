//! The broadcast algorithm, on the cells of a topic: what every handle holds, and how
//! publishers claim, write and commit positions. Subscribers' reads are in `reading.rs`;
//! how lossless publishers wait for them, in `room.rs`.
//!
//! Publishers claim the position `tail` by a compare-and-swap of `tail` to the next one,
//! once the position's cell has finished the lap before (committed or skipped), marking
//! it first in their role slot so that a claim always has a known holder (see
//! `claims.rs`). The holder of a topic's only publisher slot claims by a store, and
//! without a look at a cell whose lap before it finished itself (`claim_alone`). The
//! claimer marks the cell `WRITING` for its lap, writes the payload and commits with a
//! store of `READY` and the length. Position `p` holds message number `p` of the topic:
//! every subscriber reads the positions in order, so all see one order.
//!
//! Subscribers never write the data area (except to skip an abandoned claim). Each keeps a
//! cursor, the next position it reads, as the mark of its role slot. In a lossless topic a
//! publisher claims `t` only once every live subscriber's cursor is past `t - capacity`,
//! the position whose cell `t` reuses; in a lossy one it claims at once and overwrites.
//! A subscriber copies a message out and then looks at the cell's word again (a seqlock):
//! a copy that raced with an overwrite is discarded, never returned.
//!
//! A cell is written only by the publisher of its position: a publisher that finds the
//! cell's previous position still claimed (`WRITING`, or claimed and not yet marked) waits
//! for it, or skips it if its holder died, whatever the mode.
//!
//! Orderings: SYNC(publish) (commit → read), SYNC(seqlock) (the `WRITING` mark, before
//! the payload, → a reader's second look), SYNC(cursor) (a subscriber's cursor → the
//! publisher that overwrites what it read), SYNC(mark) (see `claims.rs`).

use super::cell::{self, Seen, State};
use super::layout::{BroadcastHeader, Geometry};
use crate::attachment::{Attachment, WaitLines};
use crate::bytes::WriteAccess;
use crate::cells::{Cells, Spot};
use crate::claims::{self, advance, idle};
use crate::error::{OpenError, SendError};
use crate::layout::WaitLine;
use crate::region::Region;
use crate::role::Role;
use crate::roles::Presence;
use crate::sync::{fence, fence_seqcst, AtomicU64, Ordering};
use crate::wait;
use core::ops::{Deref, DerefMut};

/// What a publisher found at the tail: `A` is the claimed [`Spot`] for a claim, the
/// position a claim would try (and its cell's word) for a look that claims nothing
/// ([`Topic::peek`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claimed<A = Spot> {
    /// This position is ours to write (a look: it has room, its cell finished the lap
    /// before, and a claim would try it).
    At(A),
    /// A lossless topic has no room for position `pos` before the subscribers at or
    /// behind `limit - capacity` read on (see `room.rs`).
    Full { pos: u64 },
    /// The cell of the tail still waits for the position a lap before, `pos`, whose
    /// publisher has not finished it; the cell's word is `word`.
    Behind { pos: u64, word: u64 },
}

/// Where a new subscriber starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// At the next message published.
    Next,
    /// At the oldest message the topic still holds.
    Oldest,
}

/// One handle's view of a topic: its attachment (memory, slot, counters, wait lines, all
/// reached through `Deref`) and the topic's cells.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(super) cells: Cells,
    /// Private copies, never re-read from shared memory.
    pub(crate) geo: Geometry,
    /// The tail when this handle attached: a tail that moved since shows that publishers
    /// were there.
    first_tail: u64,
    /// The topic has one publisher slot: its holder is the only handle that moves the
    /// tail (see [`Topic::claim_alone`]).
    alone: bool,
    at: Attachment<BroadcastHeader>,
}

// SAFETY: the cells point into the memory of the attachment's region, which moves with the
// topic; all shared accesses go through atomics or protocol-guarded windows. Not `Sync`: a
// handle is used by one thread at a time (`&mut self` on every operation).
unsafe impl Send for Topic {}

impl Deref for Topic {
    type Target = Attachment<BroadcastHeader>;
    fn deref(&self) -> &Attachment<BroadcastHeader> {
        &self.at
    }
}

impl DerefMut for Topic {
    fn deref_mut(&mut self) -> &mut Attachment<BroadcastHeader> {
        &mut self.at
    }
}

impl WaitLines for BroadcastHeader {
    fn line(&self, role: Role) -> &WaitLine {
        match role {
            Role::Producer => &self.publisher_wait.0,
            Role::Consumer => &self.subscriber_wait.0,
        }
    }
}

impl Topic {
    /// Attaches `role` to the topic in `region`: takes a slot or fails with `RoleTaken`.
    /// A publisher's slot gets an idle mark; a subscriber's, a cursor at the tail, which
    /// holds publishers back from then on (see [`Topic::join`]).
    pub(crate) fn attach(
        region: Region<BroadcastHeader>,
        role: Role,
        geo: Geometry,
    ) -> Result<Topic, OpenError> {
        let at = Attachment::attach(region, geo.class(role), |h, slot| {
            // Relaxed: the slot's attach publishes the mark with the slot (SYNC(attach));
            // the tail only places it. A dead predecessor's claim or cursor is replaced.
            let at = h.tail.0.pos.load(Ordering::Relaxed);
            let mark = match role {
                Role::Producer => idle(at),
                Role::Consumer => at,
            };
            slot.counters.0.mark.store(mark, Ordering::Relaxed);
        })?;
        // Relaxed: evidence only (see `presence`).
        let first_tail = at.hdr().tail.0.pos.load(Ordering::Relaxed);
        Ok(Topic {
            cells: Cells::new(at.region().data(), &geo.cells),
            alone: geo.class(Role::Producer).count == 1,
            geo,
            first_tail,
            at,
        })
    }

    /// The tail: the next position publishers claim.
    #[inline]
    pub(super) fn tail(&self) -> &AtomicU64 {
        &self.hdr().tail.0.pos
    }

    /// Whether anybody holds a slot of `role`; `thorough` asks the kernel.
    pub(crate) fn presence(&self, role: Role, thorough: bool) -> Presence {
        // Relaxed: evidence that publishers were ever there, however stale; a scribbled
        // tail at worst makes publishers that are gone `Gone` rather than never there.
        let met = role == Role::Producer && self.tail().load(Ordering::Relaxed) != self.first_tail;
        self.at.presence(self.geo.class(role), thorough, met)
    }

    /// Stores this handle's mark.
    #[inline]
    pub(super) fn mark(&self, pos: u64) {
        claims::mark(self.own(), pos);
    }

    /// Claims the position at the tail for writing, once its cell finished the lap
    /// before. In a lossless topic, `limit` is the first position that has no room yet
    /// (see `room.rs`); a lossy one passes `None`.
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes.
    pub(crate) fn claim(&self, limit: Option<u64>) -> Result<Claimed, SendError> {
        if let Some(claimed) = self.claim_alone(limit) {
            return claimed;
        }
        if self.poisoned() {
            return Err(SendError::Corrupted);
        }
        let tail = self.tail();
        // SYNC(mark): Acquire, as every load of an index.
        let mut t = tail.load(Ordering::Acquire);
        // Whether our mark names a position that we tried and lost (moved away below).
        let mut marked = false;
        let found = 'search: {
            for _ in 0..self.geo.cells.capacity + 16 {
                let w = match self.frontier(t, limit) {
                    Ok(Claimed::At((free, w))) => {
                        t = free;
                        w
                    }
                    Ok(Claimed::Full { pos }) => break 'search Ok(Claimed::Full { pos }),
                    Ok(Claimed::Behind { pos, word }) => {
                        break 'search Ok(Claimed::Behind { pos, word })
                    }
                    Err(e) => break 'search Err(e),
                };
                self.mark(t);
                marked = true;
                if self.alone {
                    self.take(t);
                    return self.start_writing(t, w).map(Claimed::At);
                }
                // SYNC(mark): AcqRel: the Release half publishes our mark to whoever sees
                // the tail past `t`; the Acquire half keeps the sequence whole.
                match tail.compare_exchange(
                    t,
                    t.wrapping_add(1),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return self.start_writing(t, w).map(Claimed::At),
                    Err(now) => t = now,
                }
            }
            // More compare-and-swaps lost than a search allows: see `frontier`.
            self.poison();
            Err(SendError::Corrupted)
        };
        if marked {
            self.mark(idle(t));
        }
        found
    }

    /// The claim of the holder of a topic's only publisher slot, at the tail `t`, when it
    /// knows that the cell of `t` finished the lap before without looking at it: the
    /// cell's last position, `t - capacity`, was claimed by this handle, which finished
    /// it (a handle finishes each claim, by a commit or an abort, before it claims
    /// again). That look would cost a line transfer a message in a stream: subscribers
    /// spinning on the next cell keep pulling its line away from the publisher's pending
    /// writes. Not with a stall timeout, whose mark compares the cell's word
    /// (`start_writing`). Since it reads no cell, it asks for the verdict of the other
    /// handles (a subscriber that found the topic corrupted) at the start of each lap
    /// instead. `None`: claim by the search of [`Topic::claim`].
    #[inline(always)]
    pub(crate) fn claim_alone(&self, limit: Option<u64>) -> Option<Result<Claimed, SendError>> {
        if !self.alone || self.geo.stall.is_some() || self.poisoned() {
            return None;
        }
        // SYNC(mark): Acquire, as every load of an index.
        let t = self.tail().load(Ordering::Acquire);
        if limit.is_some_and(|l| !claims::past(l, t)) {
            return Some(Ok(Claimed::Full { pos: t }));
        }
        let cap = self.geo.cells.capacity as u64;
        let ours = t.wrapping_sub(self.first_tail);
        if ours < cap || ours >= 1 << 63 || (t & (cap - 1) == 0 && self.broken()) {
            return None;
        }
        self.mark(t);
        self.take(t);
        Some(self.start_writing(t, 0).map(Claimed::At))
    }

    /// Claims the tail `t` of a topic whose tail only our handle moves: a store.
    #[inline(always)]
    fn take(&self, t: u64) {
        // SYNC(mark): Release publishes our mark to whoever sees the tail past `t`. We
        // are the tail's only writer: its release sequence is ours alone.
        self.tail().store(t.wrapping_add(1), Ordering::Release);
    }

    /// Looks at the tail as a claim does, and claims nothing: whether a claim would find
    /// room under `limit` (as in [`Topic::claim`]) and the cell of the tail done with the
    /// lap before (`At`: the position a claim would try, and its cell's word), or why not
    /// (`Full`, `Behind`, as [`Topic::claim`] reports them). A tail left behind a position
    /// that is claimed already is moved on, as a claim moves it.
    ///
    /// # Errors
    /// `Corrupted`, as [`Topic::claim`].
    pub(crate) fn peek(&self, limit: Option<u64>) -> Result<Claimed<(u64, u64)>, SendError> {
        if self.poisoned() {
            return Err(SendError::Corrupted);
        }
        // SYNC(mark): Acquire, as every load of an index.
        let t = self.tail().load(Ordering::Acquire);
        self.frontier(t, limit)
    }

    /// The search of a claim from the tail value `t`, without the claim: the first
    /// position from `t` on that has room under `limit` and whose cell finished the lap
    /// before (`At`, with the cell's word), or the position that has no room (`Full`), or
    /// the unfinished claim a lap before that the cell waits for (`Behind`). Only a peer
    /// that scribbles over the cells or the tail makes the search run longer than a lap.
    #[inline]
    fn frontier(&self, mut t: u64, limit: Option<u64>) -> Result<Claimed<(u64, u64)>, SendError> {
        let tail = self.tail();
        for _ in 0..self.geo.cells.capacity + 16 {
            if limit.is_some_and(|l| !claims::past(l, t)) {
                return Ok(Claimed::Full { pos: t });
            }
            // SYNC(publish): Acquire pairs with the Release that finished the cell's last
            // position (a commit, a skip): its writes of the cell happen before those of
            // the claim that follows this look (a peek makes none).
            let w = self.cells.state(t).load(Ordering::Acquire);
            match cell::decode(w, self.cells.lap(t)) {
                Seen::Before(State::Ready | State::Skipped) => return Ok(Claimed::At((t, w))),
                Seen::Before(State::Writing | State::Stalled) | Seen::TwoBefore => {
                    let pos = t.wrapping_sub(self.geo.cells.capacity as u64);
                    return Ok(Claimed::Behind { pos, word: w });
                }
                Seen::Now(_) | Seen::After => t = advance(tail, t),
                Seen::Corrupt => break,
            }
        }
        self.poison();
        Err(SendError::Corrupted)
    }

    /// Marks the cell of our new claim `t`, whose word was `seen` when we claimed it (read
    /// only with a stall timeout), as being written, before any byte of the payload
    /// changes.
    ///
    /// # Errors
    /// `Skipped` if subscribers passed the claim as stalled before we got here (only a
    /// topic with a stall timeout): the cell is freed, nothing was written.
    fn start_writing(&self, t: u64, seen: u64) -> Result<Spot, SendError> {
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::BroadcastAfterClaim);
        let at = self.cells.spot(t);
        let lap = self.cells.lap(t);
        let word = self.cells.word(at);
        if self.geo.stall.is_none() {
            // Nobody changes the cell of a live claim but its publisher: a plain store.
            // Relaxed, ordered by the fence below.
            word.store(cell::writing(lap), Ordering::Relaxed);
        } else if word
            .compare_exchange(
                seen,
                cell::writing(lap),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
        {
            // Relaxed: subscribers passed the claim while we stalled: end its quarantine.
            self.abort(at);
            return Err(SendError::Skipped);
        }
        // SYNC(seqlock): the Release fence orders the mark before every payload write below
        // it, so a reader whose Acquire fence follows a copy that saw one of those writes
        // sees the mark in its second look, and drops the copy.
        fence(Ordering::Release);
        Ok(at)
    }

    /// Writes `msg` (at most the slot size) as the payload of our claim `at`.
    pub(crate) fn write(&self, at: Spot, msg: &[u8]) {
        self.cells.store(at, msg);
    }

    /// The payload window of our claim `at`, for writing in place.
    ///
    /// # Safety
    /// `at` is our claim, not committed or aborted yet; `len` is at most the slot size.
    pub(crate) unsafe fn write_window(&self, at: Spot, len: usize) -> WriteAccess {
        // SAFETY: only the publisher of a position writes its cell (the caller's claim).
        unsafe { self.cells.write_window(at, len) }
    }

    /// Commits our claim `at` as a message of `len` bytes, and moves our mark away.
    ///
    /// # Errors
    /// `Skipped` if subscribers passed the claim as stalled meanwhile (only a topic with a
    /// stall timeout): the message is never delivered, and the cell is freed.
    #[inline]
    pub(crate) fn commit(&self, at: Spot, len: usize) -> Result<(), SendError> {
        let lap = self.cells.lap(at.pos);
        let word = self.cells.word(at);
        // SYNC(publish): Release pairs with the Acquire load of every subscriber that
        // reads the cell: the payload and the length are visible to it.
        if self.geo.stall.is_none() {
            word.store(cell::ready(lap, len), Ordering::Release);
        } else if word
            .compare_exchange(
                cell::writing(lap),
                cell::ready(lap, len),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            self.abort(at);
            return Err(SendError::Skipped);
        }
        self.mark(idle(at.pos));
        self.wake(Role::Consumer);
        Ok(())
    }

    /// Abandons our claim `at`: the position holds no message, and subscribers pass it. (A
    /// stall pass in between changes nothing: the cell is ours to free either way.)
    pub(crate) fn abort(&self, at: Spot) {
        let lap = self.cells.lap(at.pos);
        // SYNC(publish): Release, as a commit: the next publisher of the cell writes after.
        self.cells
            .word(at)
            .store(cell::skipped(lap), Ordering::Release);
        self.mark(idle(at.pos));
        self.wake(Role::Consumer);
    }

    /// A cursor at the tail as it is now, for a subscriber that joins (or joins again
    /// after an eviction): stored first (as the attach hook does) so that publishers
    /// hold back for it, then the tail read again; positions from that tail on are safe
    /// from overwriting in a lossless topic. With `Join::Oldest`, starts at the oldest
    /// position the topic holds instead (a lap back, or its first position), whose cells
    /// publishers may still be overwriting for a while: the subscriber passes those
    /// silently. Returns (cursor, first safe position).
    pub(super) fn join(&self, how: Join) -> (u64, u64) {
        // SYNC(cursor): the SeqCst fence pairs with the one in `room.rs`: a publisher whose
        // look at the cursors missed ours read a tail that ours is not older than, and
        // claims no position a lap past it.
        fence_seqcst();
        // Acquire, as every load of an index.
        let safe = self.tail().load(Ordering::Acquire);
        let cursor = match how {
            Join::Next => safe,
            Join::Oldest => {
                let start = self.geo.start;
                let cap = self.geo.cells.capacity as u64;
                if claims::within_lap(safe.wrapping_add(1), start, self.geo.cells.capacity) {
                    start
                } else {
                    safe.wrapping_sub(cap)
                }
            }
        };
        // SYNC(cursor): Release pairs with the Acquire loads of publishers in `room.rs`.
        self.own().mark.store(cursor, Ordering::Release);
        // The attach hook's cursor may have held a publisher back, which now has room.
        self.wake(Role::Producer);
        (cursor, safe)
    }
}

/// Initialises a new topic whose positions start at `start`: the tail there, and every
/// cell skipped for the lap before the first position that maps to it.
pub(crate) fn init(region: &Region<BroadcastHeader>, geo: &Geometry) {
    let h = region.header();
    // Relaxed: a segment's header is published by its READY store; a heap topic reaches
    // other threads only by being moved or cloned into them.
    h.tail.0.pos.store(geo.start, Ordering::Relaxed);
    let cells = Cells::new(region.data(), &geo.cells);
    cells.init(geo.start, |lap| cell::skipped(lap.wrapping_sub(1)));
    wait::prepare(&h.subscriber_wait.0);
    wait::prepare(&h.publisher_wait.0);
}
