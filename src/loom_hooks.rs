//! Doors into the library's internals for the loom models (compiled only under
//! `--cfg ipcring_loom`, hidden from the docs): protocols that no public handle exposes on
//! their own yet.

use crate::futex::Beds;
use crate::layout::WaitLine;
use crate::sync::{AtomicU32, Ordering};
use crate::wait::{self, Lines, WaitStrategy};

/// A counter that any number of threads wait on through the ring's wait protocol (spin,
/// yield, announce, fence, re-check, park on the futex), and that a waker bumps: the wait
/// line of a ring with many waiters, without the ring.
#[derive(Debug, Default)]
pub struct WaitCounter {
    line: WaitLine,
    value: AtomicU32,
}

impl WaitCounter {
    /// A counter at 0.
    pub fn new() -> WaitCounter {
        WaitCounter::default()
    }

    /// Waits until the counter is at least `n`.
    pub fn wait_for(&self, n: u32, strategy: WaitStrategy) {
        // SYNC(publish): Acquire pairs with the Release increment in `add`.
        let ready = |_| (self.value.load(Ordering::Acquire) >= n).then_some(());
        wait::block_on(strategy, 0, &self.line, None, ready);
    }

    /// Adds one and wakes the waiters, as a publication does.
    pub fn add(&self) {
        // SYNC(publish): Release pairs with the Acquire load in `wait_for`.
        self.value.fetch_add(1, Ordering::Release);
        wait::wake(&self.line, false);
    }
}

/// What a waiter that does not sleep itself (a `WaitSet`'s descriptor, an async task)
/// hands to the helper thread: the futex words of the lines it announced itself on, with
/// the values it read before announcing.
#[derive(Debug)]
pub struct Armed(Beds);

impl WaitCounter {
    /// Arms a wait for any of `counters` to reach `n`, as `WaitSet::arm` and an async
    /// wait do (read the words, announce on every line, fence, look again): `None` if one
    /// has reached it already, else what the helper thread sleeps on.
    pub fn arm_any(counters: &[&WaitCounter], n: u32) -> Option<Armed> {
        let reached = || {
            counters
                .iter()
                // SYNC(publish): as in `wait_for`.
                .any(|c| c.value.load(Ordering::Acquire) >= n)
        };
        if reached() {
            return None;
        }
        let lines: Vec<&WaitLine> = counters.iter().map(|c| &c.line).collect();
        let mut beds = Beds::default();
        wait::settle(&mut Lines::Many(&lines, &mut beds), false);
        (!reached()).then_some(Armed(beds))
    }
}

impl Armed {
    /// Sleeps, as the helper thread does, until a word differs from the value read when
    /// the wait was armed (the counters must outlive the call).
    pub fn sleep_until_changed(&self) {
        // SAFETY: the caller keeps the counters, and with them the words, alive.
        while !unsafe { self.0.changed() } {
            self.0.sleep(None);
        }
    }
}

// SAFETY: the beds hold addresses of futex words in counters that the model shares
// between its threads (in `Arc`s); only loads and the emulated sleep use them.
unsafe impl Send for Armed {}
