//! Claims of positions with known holders: what every kind whose handles claim positions
//! by compare-and-swap of a shared index uses (MPMC producers and consumers, broadcast
//! publishers).
//!
//! A claim is one compare-and-swap of an index, which cannot carry an owner; so every
//! handle, before it tries to claim position `p`, writes `p` as its *mark* in its own role
//! slot ([`mark`]), and keeps it there while it holds the claim (a handle holds at most one
//! claim of an index). A claimed position that is not finished is then held by a live
//! handle exactly when some live slot of the role marks it: the winner of the claim marked
//! it before claiming and moves its mark on only after it finished the position; a loser's
//! mark lingers only until it tries again or gives up, and a handle that gives up moves it
//! away ([`idle`]). So with no live slot marking it, the claim is *abandoned*
//! ([`abandoned`]: its holder died, told by the kernel's lock), and the kind resolves it.
//!
//! A handle that holds no claim marks a position half the position space away from the
//! last one it looked at ([`idle`]), which no unfinished claim can be for the next 2^63
//! positions; and only positions at most a lap behind an index can be unfinished (a cell
//! is not claimed again before its position is finished), so a mark outside that lap (an
//! idle one, a stale one, garbage) is never taken for a claim ([`within_lap`]). A new
//! holder of a slot replaces the mark its predecessor left before anybody can see the slot
//! held (the `fresh` hook of [`crate::roles::Slots::attach`]), so a dead claim never looks
//! alive.
//!
//! Orderings: SYNC(mark): a mark, stored (Release) before the claim, is visible to whoever
//! sees the index past the position (Acquire); a mark moved on (Release) means the position
//! was finished before.

use crate::layout::Counters;
use crate::roles::{Class, Slots};
use crate::sync::{AtomicU64, Ordering};

/// The mark of a handle that holds no claim and last looked at position `pos`: the
/// position half the position space away. A claim of that position could be unfinished
/// only after 2^63 more positions (millennia at any rate of messages) with this handle
/// idle all along; until then the mark names no claim that [`abandoned`] asks about.
#[inline]
pub(crate) fn idle(pos: u64) -> u64 {
    pos ^ 1 << 63
}

/// Whether index value `index` is past position `pos` (within half the position space).
#[inline]
pub(crate) fn past(index: u64, pos: u64) -> bool {
    index.wrapping_sub(pos).wrapping_sub(1) < 1 << 63
}

/// Whether index value `index` is past position `pos` by at most `capacity`: the only
/// positions whose claims through that index can be unfinished. (The cell of an
/// unfinished position is not free for its next lap, so nobody claims the position a lap
/// later, and the index does not pass it.)
#[inline]
pub(crate) fn within_lap(index: u64, pos: u64, capacity: usize) -> bool {
    index.wrapping_sub(pos).wrapping_sub(1) < capacity as u64
}

/// Moves the index `index` on from `from`, whose position is over or taken: returns the
/// position to try next.
pub(crate) fn advance(index: &AtomicU64, from: u64) -> u64 {
    // SYNC(mark): Acquire, as every load of an index (see `abandoned`).
    let now = index.load(Ordering::Acquire);
    if now != from {
        return now;
    }
    // SYNC(mark): AcqRel keeps the release sequence of the index unbroken.
    match index.compare_exchange(
        from,
        from.wrapping_add(1),
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => from.wrapping_add(1),
        Err(now) => now,
    }
}

/// Stores the mark of the handle whose counters are `own`: the position it is about to
/// claim (or holds), or an [`idle`] mark.
#[inline]
pub(crate) fn mark(own: &Counters, pos: u64) {
    // SYNC(mark): Release pairs with the Acquire loads in `abandoned`: whoever sees our
    // mark moved on from a position sees what we did to its cell before.
    own.mark.store(pos, Ordering::Release);
}

/// Whether the claim of position `pos` through `index` by the handles of `class` is held
/// by nobody alive: the index is past it (by at most a lap of `capacity`: see
/// [`within_lap`]) and no live slot of the class marks it. `thorough` asks the kernel
/// about each slot that marks it; without, only a graceful detach counts as gone.
///
/// Sound because a claimer marks the position (Release) before its claim moves the index
/// (AcqRel), and moves its mark on (Release: to a later position, or to an idle mark) only
/// after it finished the position: seeing the index past `pos` (Acquire: the index changes
/// only by compare-and-swap, so this synchronises with every claim before) we see each
/// claimer's mark at `pos` or moved on, and a moved one means the cell already shows the
/// position finished, so the compare-and-swap that resolves it fails.
pub(crate) fn abandoned(
    slots: Slots<'_>,
    class: Class,
    index: &AtomicU64,
    pos: u64,
    capacity: usize,
    thorough: bool,
) -> bool {
    // SYNC(mark): Acquire pairs with the AcqRel claim that moved the index past `pos`.
    if !within_lap(index.load(Ordering::Acquire), pos, capacity) {
        return false;
    }
    (class.first..class.first + class.count).all(|slot| {
        let mark = &slots.get(slot).counters.0.mark;
        // SYNC(mark): Acquire pairs with the Release in `mark`. The mark is read again
        // after the liveness: a new holder of the slot replaces it before it shows the
        // slot held.
        mark.load(Ordering::Acquire) != pos
            || !slots.alive(slot, thorough)
            || mark.load(Ordering::Acquire) != pos
    })
}

/// Adds one to a counter of our own slot (one writer: a load and a store).
#[inline]
pub(crate) fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

/// Adds `n` to a counter of our own slot (one writer: a load and a store).
#[inline]
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    // Relaxed: statistics, written by the slot's holder only.
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}
