//! What a listener knows of the holders of the role slots, so that it reports their
//! departures: a private copy of each slot's generation and whether it saw it held.
//!
//! The slots are the holders' to write, and so only hints: a departure is reported when a
//! slot that this listener saw held shows another generation, its flag cleared (a graceful
//! detach), or — at a thorough look, which asks the kernel — its lock free (a crash); and
//! when a slot shows a new generation that is not held (a holder came and went between two
//! looks). Whatever a scribbler writes there costs at most a wrong report: every slot is
//! read once per look, in a loop bounded by the private count of slots.

use super::fired::{Departure, Fired, Party};
use super::shared::Events;
use crate::sync::Ordering;
use crate::wait::Check;

/// How often at most a listener asks the kernel about the locks of the slots it saw held
/// (a syscall per slot): a crash is seen within this by a listener that polls, and within
/// a park slice (20 ms) by one that sleeps, whose slice ends with such a look.
#[cfg(not(ipcring_loom))]
const KERNEL_EVERY: core::time::Duration = core::time::Duration::from_millis(10);

/// What this listener saw of one slot at its last look.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    generation: u32,
    /// Whether a holder of `generation` was there (and not known gone).
    held: bool,
}

/// The slots as this listener saw them.
#[derive(Debug)]
pub(crate) struct Peers {
    seen: Vec<Seen>,
    /// This listener's own slot: never looked at.
    own: usize,
    /// The roster at the last look (see `layout.rs`): unchanged, only a thorough look
    /// reads the slots.
    roster: u64,
    /// When the next thorough look may ask the kernel.
    #[cfg(not(ipcring_loom))]
    next: crate::time::Deadline,
}

impl Peers {
    /// The slots of `ev` as they are now, the kernel asked about each one that says it is
    /// held: what this listener reports departures against.
    pub(crate) fn new(ev: &Events) -> Peers {
        let mut peers = Peers {
            seen: vec![Seen::default(); ev.geo.slots()],
            own: ev.slot(),
            roster: ev.roster(),
            #[cfg(not(ipcring_loom))]
            next: crate::time::Deadline::now(),
        };
        let slots = ev.slots();
        for (i, seen) in peers.seen.iter_mut().enumerate() {
            if i != peers.own {
                let state = &slots.get(i).state.0;
                // SYNC(attach): Acquire pairs with the AcqRel bump in `Slots::attach`.
                seen.generation = state.generation.load(Ordering::Acquire);
                seen.held = slots.alive(i, true);
            }
        }
        peers
    }

    /// Whether a thorough look may ask the kernel now; if so, the next one waits.
    fn due(&mut self) -> bool {
        #[cfg(not(ipcring_loom))]
        {
            if !self.next.passed() {
                return false;
            }
            self.next = crate::time::Deadline::after(KERNEL_EVERY);
        }
        true
    }

    /// One look at the slots, at `level`: reads them if the roster moved (an attach or a
    /// graceful detach) to `roster` (loaded by the caller, see `Listener::look`) or, at
    /// `Check::Peer`, when the kernel may be asked about their locks; adds to `fired` the
    /// departures found.
    pub(crate) fn look(&mut self, ev: &Events, roster: u64, level: Check, fired: &mut Fired) {
        let thorough = level == Check::Peer && self.due();
        if roster == self.roster && !thorough {
            return;
        }
        self.roster = roster;
        let slots = ev.slots();
        let notifiers = ev.geo.notifiers;
        for (i, seen) in self.seen.iter_mut().enumerate() {
            if i == self.own {
                continue;
            }
            let state = &slots.get(i).state.0;
            // SYNC(attach): Acquire pairs with the AcqRel bump in `Slots::attach`, which
            // follows the holder's flag: a new generation comes with its flag set (or
            // cleared since, by its detach).
            let generation = state.generation.load(Ordering::Acquire);
            let moved = generation != seen.generation;
            if !seen.held && !moved {
                // Nobody new: a crashed holder's flag stays set, and a holder in the
                // middle of its attach (flag set, generation not yet bumped) is not there
                // yet.
                continue;
            }
            // The flag (Acquire, SYNC(attach)), and at a thorough look the lock.
            let held = slots.alive(i, thorough);
            if moved || !held {
                if seen.held || !held {
                    fired.depart(Departure {
                        role: if i < notifiers {
                            Party::Notifier
                        } else {
                            Party::Listener
                        },
                        slot: if i < notifiers { i } else { i - notifiers },
                    });
                }
                *seen = Seen { generation, held };
            }
        }
    }
}
