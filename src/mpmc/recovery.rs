//! What happens to a claim whose holder is gone: the test that tells an abandoned claim
//! from a live one ([`Queue::abandoned`]), and every step that resolves one, so that the
//! queue moves again. A producer's abandoned claim is skipped (passed by consumers, or
//! freed by a producer that needs its cell); a consumer's abandoned message is delivered
//! again (adopted by a consumer, or re-published in place by a producer that needs its
//! cell). Each step is a compare-and-swap of the cell from the state it was found in, so
//! a commit or release that came first wins, and a cell is resolved at most once. The
//! marks that the test reads, and why it is sound, are in `queue.rs`.

use super::cell::{self, Seen, State};
use super::queue::{index_of, Queue, Taken};
use crate::claims::{self, advance, bump, idle};
use crate::role::Role;
use crate::sync::Ordering;

impl Queue {
    /// Whether the claim of position `pos` through the index of `role` (the tail for
    /// producers, the head for consumers) is held by nobody alive (see
    /// [`claims::abandoned`]).
    fn abandoned(&self, pos: u64, role: Role, thorough: bool) -> bool {
        let index = index_of(self.hdr(), role);
        let class = self.geo.class(role);
        claims::abandoned(
            self.slots(),
            class,
            index,
            pos,
            self.geo.cells.capacity,
            thorough,
        )
    }

    /// Whether the full frontier `pos`, whose cell's state word is `word`, waits for a
    /// producer: the position a lap before is claimed and not committed. A queue that
    /// filled a whole lap behind an open claim suggests that its producer is not running.
    pub(crate) fn behind_a_claim(&self, pos: u64, word: u64) -> bool {
        cell::decode(word, self.lap(pos)) == Seen::Before(State::Free)
    }

    /// At a full frontier `pos`, whose cell still holds the position a lap before in the
    /// state `word`: if that position's holder is dead (the kernel says so when
    /// `thorough`, a graceful detach otherwise), resolves it so that the queue moves again.
    /// A dead reader's message becomes the message of `pos` (delivered again); a dead or
    /// stalled writer's claim is freed. Returns whether anything changed.
    pub(crate) fn unblock(&self, pos: u64, word: u64, thorough: bool) -> bool {
        let lap = self.lap(pos);
        let old = pos.wrapping_sub(self.geo.cells.capacity as u64);
        let (role, to) = match cell::decode(word, lap) {
            Seen::Before(State::Ready) => {
                (Role::Consumer, cell::ready(lap, cell::len(word) as usize))
            }
            Seen::Before(State::Free | State::Stalled) => (Role::Producer, cell::free(lap)),
            _ => return false,
        };
        // SYNC(mark): `word` was loaded with Acquire (in `Queue::frontier`, for a claim or a peek): if it is an adopter's
        // flipped word, `abandoned` sees the adopter's mark.
        if !self.abandoned(old, role, thorough) {
            return false;
        }
        // SYNC(publish): AcqRel: the Acquire half sees the payload that the dead holder's
        // producer published; the Release half publishes it again to the consumer that
        // takes the cell in its new lap (or frees it for the next producer,
        // SYNC(release)).
        if self
            .state(pos)
            .compare_exchange(word, to, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        if role == Role::Consumer {
            bump(&self.own().redelivered);
            // The message holds `pos` now: the tail passes it.
            advance(&self.hdr().tail.0.pos, pos);
        } else {
            bump(&self.own().skipped);
        }
        self.wake(Role::Consumer);
        true
    }

    /// The head `pos` is claimed by a producer that has not committed: if its claim is
    /// abandoned (`thorough`: its holder's death asked of the kernel), or `stalled` (the
    /// claim is older than the queue's stall timeout), passes it. An abandoned claim's cell
    /// is freed at once; a stalled one's is kept until its producer returns or dies.
    /// Returns whether the claim was passed.
    pub(crate) fn pass(&self, pos: u64, thorough: bool, stalled: bool) -> bool {
        let lap = self.lap(pos);
        let to = if self.abandoned(pos, Role::Producer, thorough) {
            cell::free(lap.wrapping_add(1))
        } else if stalled {
            cell::stalled(lap)
        } else {
            return false;
        };
        // SYNC(release): AcqRel: a freed cell is claimed next with Acquire; the dead
        // holder's last writes are ordered before by `abandoned`.
        if self
            .state(pos)
            .compare_exchange(cell::free(lap), to, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        bump(&self.own().skipped);
        advance(&self.hdr().head.0.pos, pos);
        self.wake(Role::Producer);
        self.wake(Role::Consumer);
        true
    }

    /// Looks for a message whose reader died and takes it over, to deliver it again: at
    /// the positions that consumer slots mark (a dead reader's slot keeps its mark until a
    /// new holder replaces it). With `thorough`, asks the kernel about each slot that marks
    /// such a message; without, sees only graceful detaches.
    pub(crate) fn adopt(&self, thorough: bool) -> Option<Taken> {
        let slots = self.slots();
        let class = self.geo.class(Role::Consumer);
        (class.first..class.first + class.count).find_map(|slot| {
            // Relaxed: only a candidate; `adopt_at` decides.
            let pos = slots.get(slot).counters.0.mark.load(Ordering::Relaxed);
            self.adopt_at(pos, thorough)
        })
    }

    /// Takes over the message at `pos` if its reader died before releasing it.
    pub(crate) fn adopt_at(&self, pos: u64, thorough: bool) -> Option<Taken> {
        let word = self.state(pos);
        // SYNC(mark): Acquire pairs with the Release half of an earlier adopter's flip: if
        // we see its word, we see its mark.
        let w = word.load(Ordering::Acquire);
        if !cell::is_ready(w, self.lap(pos)) || !self.abandoned(pos, Role::Consumer, thorough) {
            return None;
        }
        self.mark(pos);
        // The flip makes the word change, so that of several adopters one wins. AcqRel:
        // SYNC(publish), the Acquire half pairs with the Release commit (or redelivery)
        // that the dead reader acquired: the message's bytes are visible to us too;
        // SYNC(mark), the Release half publishes our mark to whoever reads the flipped word
        // (a producer at the full frontier, another adopter), as a take's claim of the head
        // does for the first reader.
        if word
            .compare_exchange(w, cell::flipped(w), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            self.mark(idle(pos));
            return None;
        }
        bump(&self.own().redelivered);
        Some(match self.length(pos, w) {
            Ok(len) => Taken::At {
                at: self.spot(pos),
                len,
            },
            Err(_) => Taken::Empty,
        })
    }
}
