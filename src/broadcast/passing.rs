//! Claims that are passed without their message: a dead publisher's (skipped: it holds no
//! message, and its cell is free), and with a stall timeout, a live publisher's that took
//! too long (stalled: passed, but its cell stays the publisher's until it comes back or
//! dies). Each is a compare-and-swap of the cell from the word it was found with, so that a
//! commit that came first wins, and a claim is passed at most once.

use super::cell::{self, Seen, State};
use super::topic::Topic;
use crate::claims;
use crate::role::Role;
use crate::sync::Ordering;

impl Topic {
    /// Skips the claim of position `pos` if its holder is dead (`thorough`: asked of the
    /// kernel; otherwise only a graceful detach counts), given the cell's word `word` as
    /// found: still the lap before (claimed, not yet marked), `WRITING` of `pos`, or
    /// `STALLED` (passed already: this ends the quarantine of a dead holder's cell).
    /// Returns whether it skipped.
    pub(super) fn skip_abandoned(&self, pos: u64, word: u64, thorough: bool) -> bool {
        let lap = self.cells.lap(pos);
        let passed = match cell::decode(word, lap) {
            Seen::Now(State::Writing) | Seen::Before(State::Ready | State::Skipped) => false,
            Seen::Now(State::Stalled) => true,
            _ => return false,
        };
        let class = self.geo.class(Role::Producer);
        let cap = self.geo.cells.capacity;
        if !claims::abandoned(self.slots(), class, self.tail(), pos, cap, thorough) {
            return false;
        }
        // SYNC(publish): AcqRel: the next publisher of the cell (Acquire) writes after;
        // the dead holder's last writes are ordered before by `abandoned`.
        if !self.replace(pos, word, cell::skipped(lap)) {
            return false;
        }
        if !passed {
            claims::bump(&self.own().skipped);
        }
        true
    }

    /// Passes the claim of position `pos`, whose live publisher has not committed it for
    /// longer than the stall timeout, given the cell's word `word` as found (as in
    /// [`Topic::skip_abandoned`]): subscribers go on past it, and the cell stays its
    /// publisher's (its commit fails and frees it). Returns whether it passed.
    pub(super) fn pass_stalled(&self, pos: u64, word: u64) -> bool {
        let lap = self.cells.lap(pos);
        match cell::decode(word, lap) {
            Seen::Now(State::Writing) | Seen::Before(State::Ready | State::Skipped) => {}
            _ => return false,
        }
        // A word of the lap before is a claim only once the tail is past it.
        // SYNC(mark): Acquire, as every load of an index.
        if !claims::past(self.tail().load(Ordering::Acquire), pos) {
            return false;
        }
        let passed = self.replace(pos, word, cell::stalled(lap));
        if passed {
            claims::bump(&self.own().skipped);
        }
        passed
    }

    /// Replaces the word `word` of the cell of `pos` by `to`, and wakes whoever waits for
    /// it to move on. Returns whether it did.
    fn replace(&self, pos: u64, word: u64, to: u64) -> bool {
        // SYNC(publish): AcqRel: the next publisher of the cell (Acquire) writes after; the
        // subscribers that pass it read nothing of it.
        let done = self
            .cells
            .state(pos)
            .compare_exchange(word, to, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
        if done {
            self.wake(Role::Consumer);
            self.wake(Role::Producer);
        }
        done
    }
}
