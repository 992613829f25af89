//! The writing side of a blackboard: sets entries' values.

use super::board::{tag, Board, ABANDONED, WRITE_WAIT};
use super::error::SetError;
use super::layout::Entry;
use super::seqlock::{self, version};
use crate::bytes::Bytes;
use crate::claims::{add, bump};
use crate::durability::{durable, Durability};
use crate::error::OpenError;
use crate::layout::Counters;
use crate::roles::Claim;
use crate::sync::{asymmetric_fences, Ordering};
use crate::time::Deadline;
use crate::view::SharedBytesMut;
use crate::wait::{self, Check, WaitStrategy};

/// The writer of a blackboard: sets the values of its entries. Readers always find the
/// newest complete value, and never wait for the writer unless it is in the middle of
/// writing the very entry they read (for as long as it takes to copy the value).
///
/// A board has one writer slot by default (see [`super::Builder::writers`] for more). A
/// writer that dies in the middle of a write leaves that entry *abandoned*: readers say so
/// ([`super::GetError::Abandoned`]) until a writer sets it again.
#[derive(Debug)]
pub struct Writer {
    board: Board,
    claim: Claim,
    /// Our claim tag, written to an entry's owner word while we write it.
    tag: u64,
    /// Whether this process receives heavy fences (see `wait::wake`).
    registered: bool,
    strategy: WaitStrategy,
    /// When the board is written back to its file (see [`crate::SyncPolicy`]).
    sync: Durability,
}

impl Writer {
    /// Takes a writer slot of `board` (or fails with `RoleTaken`).
    pub(crate) fn attach(board: Board, strategy: WaitStrategy) -> Result<Writer, OpenError> {
        let claim = board.slots().attach(board.writers(), |_| {})?;
        Ok(Writer {
            tag: tag(claim.slot, claim.generation),
            board,
            claim,
            registered: asymmetric_fences(),
            strategy,
            sync: Durability::default(),
        })
    }

    /// Makes a board this handle created visible to openers.
    pub(crate) fn publish(&mut self) -> Result<(), OpenError> {
        self.board.publish()
    }

    /// Writes the board back to its file and waits until the storage has it (`msync` of
    /// the mapping, then `fdatasync`), against a power loss or a kernel crash; a
    /// file-backed board needs nothing against processes that die. A named board lives in
    /// memory: this returns at once. What it promises, and what not, is in
    /// [`crate::Builder::at`] ("Durability").
    ///
    /// # Errors
    /// The error of `msync` or `fdatasync`, such as `EIO` when the kernel could not write
    /// the file back (a later call may report it too, or not: treat it as lost); or the
    /// first error of a sync that the handle's [`SyncPolicy`](crate::SyncPolicy) made
    /// since the last `flush` (see [`Self::take_sync_error`]).
    pub fn flush(&self) -> std::io::Result<()> {
        self.sync.flush(self.board.region())
    }

    /// Sets the value of entry `key` (an index, see [`Writer::key`]) to `value`; returns
    /// the entry's new version. Readers that wait for a change of the entry are woken (a
    /// syscall only if one sleeps).
    ///
    /// # Errors
    /// `UnknownKey`, `TooLarge` (more bytes than the entry holds), `Busy` (another live
    /// writer kept the entry claimed for a second).
    pub fn set(&mut self, key: usize, value: &[u8]) -> Result<u64, SetError> {
        self.write(key, value.len(), |data, off| {
            seqlock::store(data, off, value)
        })
    }

    /// Sets entry `key` to `value`, a plain-old-data value.
    ///
    /// # Errors
    /// As [`Writer::set`].
    pub fn set_value<T: bytemuck::Pod>(&mut self, key: usize, value: &T) -> Result<u64, SetError> {
        self.set(key, bytemuck::bytes_of(value))
    }

    /// Sets entry `key` to a value of `len` bytes that `fill` writes in place, in the
    /// shared memory (zero-copy): readers see either the value before or the whole new
    /// one. Bytes that `fill` leaves alone are whatever the entry held before.
    ///
    /// # Errors
    /// As [`Writer::set`].
    ///
    /// # Panics
    /// If `fill` panics; the entry is then left half written, and readers report it as
    /// [`super::GetError::Abandoned`] until a writer sets it again.
    pub fn set_with(
        &mut self,
        key: usize,
        len: usize,
        fill: impl FnOnce(&mut SharedBytesMut<'_>),
    ) -> Result<u64, SetError> {
        self.write(key, len, |data, off| {
            #[cfg(not(ipcring_loom))]
            {
                // SAFETY: the entry's room lies in the data area from `off`, at least `len`
                // rounded up to a word (`write` checked `len` against its maximum); we hold
                // the entry's claim, and the view lives for this closure only. Readers read
                // the room only with atomic or opaque loads (see `seqlock.rs`).
                let mut view = unsafe { data.write(off, len).view() };
                fill(&mut view);
            }
            // Loom tracks the words of the area as atomics: the value is made privately,
            // then stored a word at a time.
            #[cfg(ipcring_loom)]
            {
                let mut value = vec![0u8; len];
                seqlock::load(data, off, &mut value);
                // SAFETY: `value` is a private buffer of `len` bytes, borrowed for the view.
                fill(&mut unsafe { SharedBytesMut::new(value.as_mut_ptr(), len) });
                seqlock::store(data, off, &value);
            }
        })
    }

    /// Writes `len` bytes into entry `key` with `fill`, given the data area and the
    /// offset of the entry's room.
    fn write(
        &mut self,
        key: usize,
        len: usize,
        fill: impl FnOnce(Bytes, usize),
    ) -> Result<u64, SetError> {
        let entries = self.board.geo.entries;
        let (entry, spot) = self
            .board
            .entry(key)
            .ok_or(SetError::UnknownKey { key, entries })?;
        if len > spot.max {
            return Err(SetError::TooLarge { len, max: spot.max });
        }
        let multi = self.board.geo.writers > 1;
        self.claim_entry(key, multi)?;
        let data = self.board.data();
        let seq = seqlock::write(entry, len, || {
            let unfinished = Unfinished(entry);
            fill(data, spot.off);
            #[cfg(feature = "crash-points")]
            crate::crash::reached(crate::crash::Point::BoardMidWrite);
            core::mem::forget(unfinished);
        });
        if multi {
            // SYNC(board-claim): Release pairs with the Acquire of the next claimer.
            entry.owner.store(0, Ordering::Release);
        }
        let own = self.own();
        bump(&own.sent);
        add(&own.bytes, len as u64);
        if wait::wake(&entry.wait, self.registered) {
            bump(&own.wakeups);
        }
        self.sync.committed(1, self.board.region());
        Ok(version(seq))
    }

    /// Takes the claim of entry `key` for a write: ours alone with one writer slot; with
    /// several, taken from nobody or from a dead writer by compare-and-swap, waiting up to
    /// [`WRITE_WAIT`] for a live one.
    fn claim_entry(&self, key: usize, multi: bool) -> Result<(), SetError> {
        let (entry, _) = self.board.entry(key).expect("a checked key");
        if !multi {
            // Every other claim tag is a gone holder's of our slot (or garbage).
            // Relaxed: the Release store of the odd sequence publishes it.
            if entry.owner.load(Ordering::Relaxed) != self.tag {
                entry.owner.store(self.tag, Ordering::Relaxed);
            }
            return Ok(());
        }
        if self.try_claim(entry, false) {
            return Ok(());
        }
        // SAFETY: the line lives in our board, which outlives this call.
        let line = unsafe { self.board.wait_line_unbound(key) };
        let deadline = Some(Deadline::after(WRITE_WAIT));
        let claimed = wait::block_on(self.strategy, 0, line, deadline, |level| {
            self.try_claim(entry, level == Check::Peer).then_some(())
        });
        claimed.ok_or(SetError::Busy { key })
    }

    /// One try at the claim of `entry`: free, or held by a writer that is gone (asked of
    /// the kernel if `thorough`).
    fn try_claim(&self, entry: &Entry, thorough: bool) -> bool {
        // SYNC(board-claim): Acquire pairs with the Release that freed the claim, so the
        // last holder's sequence is visible.
        let cur = entry.owner.load(Ordering::Acquire);
        // A holder is taken for gone only on the kernel's word (a writer that detached
        // gracefully freed its claims before), or on its own (`ABANDONED`). Our own tag
        // there is garbage a peer wrote.
        let free = cur == 0
            || cur == self.tag
            || cur == ABANDONED
            || (thorough && !self.board.owner_alive(cur, true));
        // SYNC(board-claim): Acquire as above.
        free && entry
            .owner
            .compare_exchange(cur, self.tag, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn own(&self) -> &Counters {
        &self.board.slots().get(self.claim.slot).counters.0
    }
}

/// Armed while `fill` writes an entry: if it panics, the unwinding gives the entry up.
struct Unfinished<'a>(&'a Entry);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        // The sequence stays odd: the value is half written. Readers that find no live
        // writer behind it report it abandoned instead of waiting for us; writers take
        // its claim at once (ours is given up with it).
        // SYNC(board-claim): Release, as the store that frees a claim: pairs with the
        // Acquire of the next claimer, which then sees the odd sequence.
        self.0.owner.store(ABANDONED, Ordering::Release);
    }
}

super::entries!(Writer);
durable!(Writer, board);

impl Drop for Writer {
    fn drop(&mut self) {
        self.board.slots().detach(self.claim);
        // Readers that wait for a change learn at once that no writer is left.
        for line in self.board.table() {
            wait::wake(&line.0.wait, self.registered);
        }
        self.sync.close(self.board.region());
    }
}
