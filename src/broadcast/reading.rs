//! How a subscriber reads the position at its cursor: it looks at the cell's word, copies
//! a committed message out word by word, then looks at the word again; a copy during which
//! the word changed raced with a publisher that overwrote the cell, and is dropped.

use super::cell::{self, Seen, State};
use super::topic::Topic;
use crate::cells::Spot;
use crate::claims;
use crate::error::RecvError;
use crate::hint;
use crate::role::Role;
use crate::sync::{fence, yield_now, Ordering};

/// How many empty looks of a spinning subscriber pass between two yields of its CPU to
/// other subscribers (see [`Topic::make_way`]).
const YIELD_EVERY: u32 = 16;

/// What a subscriber found at its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    /// A committed message of `len` bytes; its cell's word was `word` (see
    /// [`Topic::intact`]).
    Ready { at: Spot, len: usize, word: u64 },
    /// The position holds no message: pass it.
    Skip,
    /// The position is claimed and not committed yet; the cell's word is `word`.
    Pending { word: u64 },
    /// Nothing is published at the position yet.
    Empty,
    /// A publisher claimed the cell for a later position: the message is gone.
    Overwritten,
}

impl Topic {
    /// Looks at position `c`, a subscriber's cursor. With `pending`, tells a claimed
    /// position whose cell is not yet marked ([`Look::Pending`]) from an empty topic (a
    /// look at the tail, which every claim writes: a spinning subscriber does without).
    ///
    /// # Errors
    /// `Corrupted` for a state word no ipcring writes, or a length over the slot size.
    #[inline]
    pub(crate) fn look(&self, c: u64, pending: bool) -> Result<Look, RecvError> {
        if self.poisoned() {
            return Err(RecvError::Corrupted);
        }
        let at = self.cells.spot(c);
        // SYNC(publish): Acquire pairs with the Release commit: the payload is visible.
        let w = self.cells.word(at).load(Ordering::Acquire);
        Ok(match cell::decode(w, self.cells.lap(c)) {
            Seen::Now(State::Ready) => {
                let len = cell::len(w) as usize;
                if len > self.geo.cells.slot_size {
                    self.poison();
                    return Err(RecvError::Corrupted);
                }
                Look::Ready { at, len, word: w }
            }
            Seen::Now(State::Skipped | State::Stalled) => Look::Skip,
            Seen::Now(State::Writing) => Look::Pending { word: w },
            Seen::Before(_) | Seen::TwoBefore => {
                if !pending {
                    return Ok(Look::Empty);
                }
                // SYNC(mark): Acquire, as every load of an index.
                let t = self.tail().load(Ordering::Acquire);
                if !claims::past(t, c) {
                    Look::Empty
                } else if claims::within_lap(t, c, self.geo.cells.capacity) {
                    Look::Pending { word: w }
                } else {
                    self.unfinished_lap_behind(at, c)?
                }
            }
            Seen::After => Look::Overwritten,
            Seen::Corrupt => {
                self.poison();
                return Err(RecvError::Corrupted);
            }
        })
    }

    /// The message committed at position `c`, validated, if its cell holds one: the fast
    /// path of a receive. Anything else (nothing yet, a skip, an overwrite, corruption) is
    /// `None`, for [`Topic::look`] to sort out.
    #[inline(always)]
    pub(crate) fn ready_at(&self, c: u64) -> Option<(Spot, usize, u64)> {
        if self.poisoned() {
            return None;
        }
        let at = self.cells.spot(c);
        // SYNC(publish): Acquire pairs with the Release commit, as in `look`.
        let w = self.cells.word(at).load(Ordering::Acquire);
        let len = cell::ready_len(w, self.cells.lap(c))?;
        (len <= self.geo.cells.slot_size).then_some((at, len, w))
    }

    /// What [`Topic::look`] makes of position `c` when the tail is more than a lap past it
    /// and the cell still shows an earlier lap. No claim of the cell a lap after `c` comes
    /// before `c` is finished (a lossless topic's publishers wait for our cursor, a lossy
    /// one's for the claim a lap before), so the word must have moved on meanwhile; read
    /// again after the tail (Acquire: it synchronises with the claim that moved it), a word
    /// still of an earlier lap is a tail or a cell that a peer wrote, which would otherwise
    /// leave this subscriber waiting for a position that no publisher will ever claim.
    #[cold]
    fn unfinished_lap_behind(&self, at: Spot, c: u64) -> Result<Look, RecvError> {
        // SYNC(publish): Acquire, as the first look.
        let w = self.cells.word(at).load(Ordering::Acquire);
        if let Seen::Before(_) | Seen::TwoBefore = cell::decode(w, self.cells.lap(c)) {
            self.poison();
            return Err(RecvError::Corrupted);
        }
        // Changed meanwhile: the next look sees what.
        Ok(Look::Pending { word: w })
    }

    /// Copies the message found by [`Topic::look`] into `buf` (replacing its contents).
    #[inline]
    pub(crate) fn copy_into(&self, at: Spot, len: usize, buf: &mut Vec<u8>) {
        self.cells.load(at, len, buf);
    }

    /// Copies the message found by [`Topic::look`] into `dst`, which has its length.
    #[inline]
    pub(crate) fn copy_to(&self, at: Spot, dst: &mut [u8]) {
        self.cells.load_to(at, dst);
    }

    /// Whether the cell of `at` still holds the message whose word was `word`, after a
    /// copy of it: if not, the copy may be torn and must be dropped.
    #[inline]
    pub(crate) fn intact(&self, at: Spot, word: u64) -> bool {
        // SYNC(seqlock): the Acquire fence pairs with the Release fence after the
        // `WRITING` mark of a publisher that overwrites the cell: if our copy read any of
        // its payload writes, the load below sees the mark (or later).
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence.
        self.cells.word(at).load(Ordering::Relaxed) == word
    }

    /// What a subscriber that found nothing to read does while it spins (`empty` counts
    /// its empty looks): if publishers wait meanwhile (a fresh hint on their wait line), some
    /// other subscriber holds the topic, which may need the CPU that we spin on
    /// (subscribers sharing a CPU, or more processes than CPUs): every [`YIELD_EVERY`]-th
    /// look, we yield it. (Spinning on instead, a subscriber spent its slice while the one
    /// that held the topic could not run: a topic of one publisher and two subscribers on
    /// one CPU streamed at a third of the rate.) Not at every look, so that a spin that
    /// waits for a stuck subscriber does not turn into thousands of syscalls before it
    /// parks. The hint of a publisher that died waiting goes stale within 50 ms.
    #[inline]
    pub(crate) fn make_way(&self, empty: &mut u32) {
        *empty = empty.wrapping_add(1);
        if *empty % YIELD_EVERY == 0 && hint::someone_waits(self.wait_line(Role::Producer)) {
            yield_now();
        }
    }

    /// The oldest position a lossy topic may still hold, for a subscriber at `c` whose
    /// message was overwritten: a lap behind the tail, and past `c`.
    pub(crate) fn oldest_after(&self, c: u64) -> u64 {
        // SYNC(mark): Acquire, as every load of an index.
        let t = self.tail().load(Ordering::Acquire);
        let oldest = t.wrapping_sub(self.geo.cells.capacity as u64);
        if claims::past(oldest, c) {
            oldest
        } else {
            c.wrapping_add(1)
        }
    }
}
