//! The MPMC algorithm, on the cells of a queue: what both kinds of handle hold, and every
//! step that moves a cell from one hand to the next.
//!
//! It is the bounded queue of Vyukov (crossbeam's `ArrayQueue`) with one change: a cell is
//! claimed by a compare-and-swap on the cell's own state word that writes the claimer's
//! [`Owner`] (slot, generation) with the claim, not by a compare-and-swap on a shared index.
//! So there is never a moment in which a cell is taken and nobody knows by whom, and a
//! claim whose owner died can be resolved by anybody who finds it:
//!
//! - a producer's claim (`WRITING`) is skipped: the cell is freed for its next lap;
//! - a consumer's claim (`READING`) is delivered again: a consumer takes it over, or a
//!   producer that needs the cell turns it into a message of the current lap in place.
//!
//! `tail` and `head` are hints: the next position to try. A producer tries the cell of
//! `tail`; if the cell is taken in that lap, it helps `tail` forward and tries the next
//! one; if it is free, it claims it. Claims are therefore gap-free: every position before a
//! claimed one is claimed too (the hints only ever pass taken cells). Consumers do the same
//! from `head` with committed cells. The state words carry the messages' ordering, with the
//! pairs named at each access; the hints carry one ordering of their own (SYNC(hint)): a
//! hint is moved past a cell with Release after its state was read, and loaded with
//! Acquire, so a handle that loads a hint reads each cell's state at least as new as the
//! one that made the hint pass it — never a lap older than the hint (which it would have
//! to take for corruption).
//!
//! Committed and released, precisely: a message is **committed** when the compare-and-swap
//! of its cell from `WRITING` to `READY` succeeds (`send*` and `WriteGrant::commit` return
//! then); from that moment it is delivered to exactly one consumer, unless that consumer
//! dies before it **releases** the cell (stores `FREE` of the next lap: the end of
//! `recv_into`, or the drop of a read grant), in which case it is delivered again, once per
//! death, and counted as redelivered.

use super::cell::{self, Seen, State};
use super::layout::{Geometry, Mpmc, MpmcHeader, CELL_HEADER};
use crate::bytes::{Bytes, ReadAccess, WriteAccess};
use crate::error::OpenError;
use crate::layout::{Counters, WaitLine};
use crate::region::Region;
use crate::role::Role;
use crate::roles::{Claim, Owner, Presence, Slots};
use crate::sync::{AtomicU64, Ordering};
use crate::wait;
use std::ptr::NonNull;

/// What a producer found at the frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// This position is ours to write.
    At(u64),
    /// The queue is full: the cell of `pos` still holds the position a lap before it, in
    /// this state.
    Full { pos: u64, state: State },
}

/// What a consumer found at the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// This position's message (of `len` bytes) is ours to read.
    At { pos: u64, len: usize },
    /// Nothing is committed at the head.
    Empty,
    /// A producer has claimed the head and not committed it yet.
    Pending { pos: u64, owner: Owner },
}

/// One handle's view of a queue.
#[derive(Debug)]
pub(crate) struct Queue {
    data: Bytes,
    /// Private copies, never re-read from shared memory.
    pub(crate) geo: Geometry,
    mask: u64,
    shift: u32,
    stride: usize,
    role: Role,
    claim: Claim,
    owner: Owner,
    /// This handle's own counters, in its slot.
    own: NonNull<Counters>,
    region: Region<MpmcHeader>,
}

// SAFETY: `own` and `data` point into the memory of `region`, which moves with the queue;
// all shared accesses go through atomics or protocol-guarded windows. Not `Sync`: a handle
// is used by one thread at a time (`&mut self` on every operation).
unsafe impl Send for Queue {}

/// Moves a hint from `from` to `from + 1` unless somebody already moved it.
#[inline]
fn help(hint: &AtomicU64, from: u64) {
    // SYNC(hint): Release pairs with the Acquire in `load_hint`: our reading of the cell
    // of `from` happens before the readings of whoever loads the moved hint.
    let _ = hint.compare_exchange(
        from,
        from.wrapping_add(1),
        Ordering::Release,
        Ordering::Relaxed,
    );
}

/// Reads a hint. SYNC(hint): Acquire pairs with the Release in `help` (all changes of a
/// hint are read-modify-writes, so it synchronises with every `help` before).
#[inline]
fn load_hint(hint: &AtomicU64) -> u64 {
    hint.load(Ordering::Acquire)
}

/// The next position to try after `from`, whose cell is already a lap past it: the hint
/// if it is ahead (a busy queue moves on faster than one step at a time), else the next
/// one, after helping the hint past `from`.
fn catch_up(hint: &AtomicU64, from: u64) -> u64 {
    let now = load_hint(hint);
    if now != from && now.wrapping_sub(from) < 1 << 63 {
        return now;
    }
    help(hint, from);
    from.wrapping_add(1)
}

impl Queue {
    /// Attaches `role` to the queue in `region`: takes a slot or fails with `RoleTaken`.
    pub(crate) fn attach(
        region: Region<MpmcHeader>,
        role: Role,
        geo: Geometry,
    ) -> Result<Queue, OpenError> {
        let claim = region.slots().attach(geo.class(role))?;
        let own = NonNull::from(&region.slots().get(claim.slot).counters.0);
        let q = Queue {
            data: region.data(),
            geo,
            mask: geo.capacity as u64 - 1,
            shift: geo.capacity.trailing_zeros(),
            stride: geo.stride(),
            role,
            claim,
            owner: claim.owner(),
            own,
            region,
        };
        wait::advertise(q.wait_line(role));
        Ok(q)
    }

    /// Makes a queue this handle created visible to openers.
    pub(crate) fn publish(&mut self) -> Result<(), OpenError> {
        self.region.publish::<Mpmc>()
    }

    /// The shared header.
    #[inline]
    pub(crate) fn hdr(&self) -> &MpmcHeader {
        self.region.header()
    }

    /// The role slots.
    pub(crate) fn slots(&self) -> Slots<'_> {
        self.region.slots()
    }

    /// This handle's own counters.
    #[inline]
    pub(crate) fn own(&self) -> &Counters {
        // SAFETY: `own` points into the region's memory, which lives as long as `self`;
        // counters are atomics, valid for any bit pattern.
        unsafe { self.own.as_ref() }
    }

    /// The wait line of `of`.
    pub(crate) fn wait_line(&self, of: Role) -> &WaitLine {
        let h = self.hdr();
        match of {
            Role::Producer => &h.producer_wait.0,
            Role::Consumer => &h.consumer_wait.0,
        }
    }

    /// The wait line of `of`, with a lifetime detached from `&self`, so that a wait loop
    /// can borrow the handle mutably while it sleeps on the line.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    pub(crate) unsafe fn wait_line_unbound<'b>(&self, of: Role) -> &'b WaitLine {
        // SAFETY: per the contract, the memory outlives the reference.
        let h = unsafe { self.region.header_unbound() };
        match of {
            Role::Producer => &h.producer_wait.0,
            Role::Consumer => &h.consumer_wait.0,
        }
    }

    /// Whether anybody holds a slot of `role`; `thorough` asks the kernel (a syscall per
    /// attached slot).
    pub(crate) fn presence(&self, role: Role, thorough: bool) -> Presence {
        self.slots().presence(self.geo.class(role), thorough)
    }

    /// Graceful detach: clears the slot's flag and wakes the other side's sleepers so
    /// that they notice at once.
    pub(crate) fn detach(&self) {
        self.slots().detach(self.claim);
        let other = match self.role {
            Role::Producer => Role::Consumer,
            Role::Consumer => Role::Producer,
        };
        wait::wake_always(self.wait_line(other));
    }

    /// Wakes the sleepers of `role`, if any announced themselves (counted).
    #[inline]
    fn wake(&self, role: Role) {
        if wait::wake(self.wait_line(role)) {
            bump(&self.own().wakeups);
        }
    }

    #[inline]
    fn lap(&self, pos: u64) -> u32 {
        (pos >> self.shift) as u32
    }

    #[inline]
    fn offset(&self, pos: u64) -> usize {
        (pos & self.mask) as usize * self.stride
    }

    /// The state word of the cell of `pos`.
    #[inline]
    fn state(&self, pos: u64) -> &AtomicU64 {
        self.data.word(self.offset(pos))
    }

    /// The length word of the cell of `pos`.
    #[inline]
    fn len_word(&self, pos: u64) -> &AtomicU64 {
        self.data.word(self.offset(pos) + 8)
    }

    /// Most cells one claim or take looks at before it gives up: a lap, and as many again
    /// for compare-and-swaps lost to other handles. Only a peer that scribbles over the
    /// states can make a search run that long.
    fn search_limit(&self) -> usize {
        2 * self.geo.capacity + 16
    }

    /// Claims the first free position at or after `tail` for writing.
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes.
    pub(crate) fn claim(&self) -> Result<Claimed, crate::SendError> {
        let tail = &self.hdr().tail.0.pos;
        let mut t = load_hint(tail);
        for _ in 0..self.search_limit() {
            let lap = self.lap(t);
            let word = self.state(t);
            // Relaxed: the compare-and-swap below acquires what it needs.
            let w = word.load(Ordering::Relaxed);
            match cell::decode(w, lap) {
                Seen::Now(State::Free) => {
                    // SYNC(release): Acquire pairs with the Release store of the consumer
                    // that freed the cell (or with the skip that did): its reads of the
                    // cell are done before we write it.
                    let claim = cell::writing(lap, self.owner);
                    if word
                        .compare_exchange(w, claim, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        help(tail, t);
                        return Ok(Claimed::At(t));
                    }
                }
                Seen::Now(_) => {
                    help(tail, t);
                    t = t.wrapping_add(1);
                }
                Seen::After => t = catch_up(tail, t),
                Seen::Before(State::Free) | Seen::Corrupt => {
                    return Err(crate::SendError::Corrupted)
                }
                Seen::Before(state) => return Ok(Claimed::Full { pos: t, state }),
            }
        }
        Err(crate::SendError::Corrupted)
    }

    /// The payload window of a claimed position.
    ///
    /// # Safety
    /// `pos` was claimed by this handle and not committed or aborted yet; `len` is at most
    /// the slot size.
    #[inline]
    pub(crate) unsafe fn write_window(&self, pos: u64, len: usize) -> WriteAccess {
        debug_assert!(len <= self.geo.slot_size);
        // SAFETY: the cell lies inside the data area and its payload holds `slot_size`
        // bytes; our claim keeps everybody else out of it.
        unsafe { self.data.write(self.offset(pos) + CELL_HEADER, len) }
    }

    /// Commits the claimed position `pos` as a message of `len` bytes.
    ///
    /// # Errors
    /// `Skipped` if consumers passed the claim while this producer was stalled (the
    /// message is then never delivered, and the cell is freed).
    pub(crate) fn commit(&self, pos: u64, len: usize) -> Result<(), crate::SendError> {
        let lap = self.lap(pos);
        // Relaxed: published by the Release compare-and-swap below.
        self.len_word(pos).store(len as u64, Ordering::Relaxed);
        // SYNC(publish): Release pairs with the Acquire compare-and-swap of the consumer
        // that takes the cell (and with the Acquire of a redeliverer): the payload and the
        // length are visible to whoever reads the message.
        match self.state(pos).compare_exchange(
            cell::writing(lap, self.owner),
            cell::ready(lap),
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => {
                self.wake(Role::Consumer);
                Ok(())
            }
            Err(_) => {
                self.end_claim(pos, cell::stalled(lap, self.owner));
                Err(crate::SendError::Skipped)
            }
        }
    }

    /// Abandons the claimed position `pos`: consumers pass it.
    pub(crate) fn abort(&self, pos: u64) {
        let lap = self.lap(pos);
        if !self.end_claim(pos, cell::writing(lap, self.owner)) {
            self.end_claim(pos, cell::stalled(lap, self.owner));
        }
    }

    /// Frees our claim of `pos`, if it is still `ours`, for the cell's next lap. Returns
    /// whether it was.
    fn end_claim(&self, pos: u64, ours: u64) -> bool {
        let next = cell::free(self.lap(pos).wrapping_add(1));
        // SYNC(release): Release pairs with the Acquire claim of the next producer: our
        // writes of the cell are done before it writes it.
        let ended = self
            .state(pos)
            .compare_exchange(ours, next, Ordering::Release, Ordering::Relaxed)
            .is_ok();
        if ended {
            self.wake(Role::Producer);
        }
        ended
    }

    /// At a full frontier `pos`, whose cell still holds the position a lap before in
    /// `state`: if that position's owner is dead (the kernel says so when `thorough`, a
    /// graceful detach otherwise), resolves it so that the queue moves again. A dead
    /// reader's message becomes the message of `pos` (delivered again); a dead or stalled
    /// writer's claim is freed. Returns whether anything changed.
    pub(crate) fn unblock(&self, pos: u64, state: State, thorough: bool) -> bool {
        let lap = self.lap(pos);
        let before = lap.wrapping_sub(1);
        let (from, to) = match state {
            State::Reading(o) if !self.slots().holds(o, thorough) => {
                (cell::reading(before, o), cell::ready(lap))
            }
            State::Writing(o) if !self.slots().holds(o, thorough) => {
                (cell::writing(before, o), cell::free(lap))
            }
            State::Stalled(o) if !self.slots().holds(o, thorough) => {
                (cell::stalled(before, o), cell::free(lap))
            }
            _ => return false,
        };
        // SYNC(publish): AcqRel: the Acquire half sees the length and payload that the
        // dead holder's producer published; the Release half publishes them again to the
        // consumer that takes the cell in its new lap.
        let done = self
            .state(pos)
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
        if done {
            let counter = match state {
                State::Reading(_) => &self.own().redelivered,
                _ => &self.own().skipped,
            };
            bump(counter);
            self.wake(Role::Consumer);
        }
        done
    }

    /// Takes the first committed message at or after `head`.
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes, or a length over the slot size.
    pub(crate) fn take(&self) -> Result<Taken, crate::RecvError> {
        let head = &self.hdr().head.0.pos;
        let mut h = load_hint(head);
        for _ in 0..self.search_limit() {
            let lap = self.lap(h);
            let word = self.state(h);
            // Relaxed: the compare-and-swap below acquires what it needs.
            let w = word.load(Ordering::Relaxed);
            match cell::decode(w, lap) {
                Seen::Now(State::Ready) => {
                    // Say which cell we read before we claim it, so that a consumer that
                    // finds us dead finds it (see `adopt`). Relaxed: read only after our
                    // death, which the kernel orders.
                    self.own().mark.store(h, Ordering::Relaxed);
                    // SYNC(publish): Acquire pairs with the Release commit.
                    let claim = cell::reading(lap, self.owner);
                    if word
                        .compare_exchange(w, claim, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        help(head, h);
                        return self.length(h).map(|len| Taken::At { pos: h, len });
                    }
                }
                Seen::Now(State::Writing(owner)) => return Ok(Taken::Pending { pos: h, owner }),
                Seen::Now(State::Free) | Seen::Before(_) => return Ok(Taken::Empty),
                Seen::Now(_) => {
                    help(head, h);
                    h = h.wrapping_add(1);
                }
                Seen::After => h = catch_up(head, h),
                Seen::Corrupt => return Err(crate::RecvError::Corrupted),
            }
        }
        Err(crate::RecvError::Corrupted)
    }

    /// The validated length of the message we just claimed at `pos`; a bad one frees the
    /// cell (its message is lost: the peer scribbled over it).
    fn length(&self, pos: u64) -> Result<usize, crate::RecvError> {
        // Relaxed: ordered after the Acquire claim.
        let len = self.len_word(pos).load(Ordering::Relaxed);
        match usize::try_from(len) {
            Ok(len) if len <= self.geo.slot_size => Ok(len),
            _ => {
                self.release(pos);
                Err(crate::RecvError::Corrupted)
            }
        }
    }

    /// The payload window of a taken position.
    ///
    /// # Safety
    /// `pos` was taken by this handle (with this `len`) and not released yet.
    #[inline]
    pub(crate) unsafe fn read_window(&self, pos: u64, len: usize) -> ReadAccess {
        debug_assert!(len <= self.geo.slot_size);
        // SAFETY: the cell lies inside the data area and its payload holds `slot_size`
        // bytes; our claim keeps producers out of it until we release it.
        unsafe { self.data.read(self.offset(pos) + CELL_HEADER, len) }
    }

    /// Releases the taken position `pos`: its cell is free for the next lap.
    pub(crate) fn release(&self, pos: u64) {
        let next = cell::free(self.lap(pos).wrapping_add(1));
        // SYNC(release): Release pairs with the Acquire claim of the producer that writes
        // the cell next: our reads of it are done before.
        self.state(pos).store(next, Ordering::Release);
        self.wake(Role::Producer);
    }

    /// The head is claimed by `owner`, which has not committed: if it is dead (`thorough`:
    /// asked of the kernel), or `stalled` (it kept the claim longer than the queue's stall
    /// timeout), passes the claim. A dead owner's cell is freed at once; a stalled one's is
    /// kept until the owner returns or dies. Returns whether the claim was passed.
    pub(crate) fn pass(&self, pos: u64, owner: Owner, thorough: bool, stalled: bool) -> bool {
        let lap = self.lap(pos);
        let to = if !self.slots().holds(owner, thorough) {
            cell::free(lap.wrapping_add(1))
        } else if stalled {
            cell::stalled(lap, owner)
        } else {
            return false;
        };
        // SYNC(release): AcqRel: a freed cell is claimed next with Acquire; the dead
        // owner's detach (or death) is ordered before by `holds`.
        let done = self
            .state(pos)
            .compare_exchange(
                cell::writing(lap, owner),
                to,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok();
        if done {
            bump(&self.own().skipped);
            help(&self.hdr().head.0.pos, pos);
            self.wake(Role::Producer);
            self.wake(Role::Consumer);
        }
        done
    }

    /// Looks for a message that a dead consumer was reading and takes it over, to deliver
    /// it again. With `thorough`, asks the kernel about every consumer slot whose last
    /// claimed cell is still claimed by it; without, sees only graceful detaches and
    /// holders of an earlier generation of a slot (a dead consumer's own successor finds
    /// its message so, at attach).
    pub(crate) fn adopt(&self, thorough: bool) -> Option<Taken> {
        let slots = self.slots();
        let class = self.geo.class(Role::Consumer);
        for slot in class.first..class.first + class.count {
            // Our own slot too: a dead holder before us left its mark there.
            // Relaxed: see `take`; a stale value only finds nothing to adopt.
            let pos = slots.get(slot).counters.0.mark.load(Ordering::Relaxed);
            let lap = self.lap(pos);
            let w = self.state(pos).load(Ordering::Relaxed);
            let Seen::Now(State::Reading(owner)) = cell::decode(w, lap) else {
                continue;
            };
            if owner.slot() != slot || owner == self.owner || slots.holds(owner, thorough) {
                continue;
            }
            self.own().mark.store(pos, Ordering::Relaxed);
            // SYNC(publish): Acquire pairs with the Release commit that the dead reader
            // acquired: the message's bytes are visible to us too.
            let ours = cell::reading(lap, self.owner);
            if self
                .state(pos)
                .compare_exchange(w, ours, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                bump(&self.own().redelivered);
                return Some(match self.length(pos) {
                    Ok(len) => Taken::At { pos, len },
                    Err(_) => Taken::Empty,
                });
            }
        }
        None
    }

    /// Number of messages in the queue now, as far as the hints tell (for statistics).
    pub(crate) fn fill(&self) -> u64 {
        let h = self.hdr();
        // Relaxed: statistics.
        let tail = h.tail.0.pos.load(Ordering::Relaxed);
        let head = h.head.0.pos.load(Ordering::Relaxed);
        tail.wrapping_sub(head).min(self.geo.capacity as u64)
    }
}

/// Initialises a new queue whose positions start at `start`: both hints there, and every
/// cell free for the first position that maps to it.
pub(crate) fn init(region: &Region<MpmcHeader>, geo: &Geometry, start: u64) {
    let h = region.header();
    let data = region.data();
    let mask = geo.capacity as u64 - 1;
    let shift = geo.capacity.trailing_zeros();
    // Relaxed: a segment's header is published by its READY store; a heap queue reaches
    // other threads only by being moved or cloned into them.
    h.tail.0.pos.store(start, Ordering::Relaxed);
    h.head.0.pos.store(start, Ordering::Relaxed);
    for i in 0..geo.capacity as u64 {
        let first = start.wrapping_add(i.wrapping_sub(start) & mask);
        let w = cell::free((first >> shift) as u32);
        data.word(i as usize * geo.stride())
            .store(w, Ordering::Relaxed);
    }
    wait::prepare(&h.consumer_wait.0);
    wait::prepare(&h.producer_wait.0);
}

/// Adds one to a counter of our own slot (one writer: a load and a store).
#[inline]
pub(crate) fn bump(counter: &AtomicU64) {
    // Relaxed: statistics, written by the slot's holder only.
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}
