//! Doors into the library's internals for the loom models (compiled only under
//! `--cfg ipcring_loom`, hidden from the docs): protocols that no public handle exposes on
//! their own yet.

use crate::layout::WaitLine;
use crate::sync::{AtomicU32, Ordering};
use crate::wait::{self, WaitStrategy};

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
