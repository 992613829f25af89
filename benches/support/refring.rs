//! The yardstick for throughput: a plain fixed-slot SPSC ring of `u64`s (rigtorp/SPSCQueue
//! style). Head and tail each on their own 128-byte line, each side caching the other's
//! index and re-reading it only when the ring looks full or empty. It has no variable
//! lengths, no wake-ups, no liveness and no validation: what ipcring must match at 8 bytes.
//!
//! Shared by the `ipcring bench` tool and the criterion benches, so that both measure the
//! same reference.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of the control block in front of the slots: the head line and the tail line.
const CONTROL: usize = 256;

/// Bytes of memory a ring of `slots` slots needs (`slots` a power of two).
pub const fn ref_ring_bytes(slots: usize) -> usize {
    CONTROL + slots * 8
}

/// The writing side.
#[derive(Debug)]
pub struct RefProducer {
    head: *const AtomicU64,
    tail: *const AtomicU64,
    slots: *const AtomicU64,
    mask: u64,
    pos: u64,
    cached_tail: u64,
}

/// The reading side.
#[derive(Debug)]
pub struct RefConsumer {
    head: *const AtomicU64,
    tail: *const AtomicU64,
    slots: *const AtomicU64,
    mask: u64,
    pos: u64,
    cached_head: u64,
}

// SAFETY: each handle is the only user of its side; the memory outlives it (see `split`).
unsafe impl Send for RefProducer {}
// SAFETY: as above.
unsafe impl Send for RefConsumer {}

/// The three parts of a ring at `mem`.
///
/// # Safety
/// - `mem` is 128-byte aligned, zeroed before either side first used it, at least
///   `ref_ring_bytes(slots)` long, and outlives every handle made from it;
/// - `slots` is a power of two;
/// - at most one producer and one consumer use it at a time.
unsafe fn parts(mem: *mut u8, slots: usize) -> [*const AtomicU64; 3] {
    debug_assert!(slots.is_power_of_two() && (mem as usize) & 127 == 0);
    // SAFETY: all three offsets are inside the block (caller's contract).
    unsafe {
        [
            mem.cast::<AtomicU64>(),
            mem.add(128).cast::<AtomicU64>(),
            mem.add(CONTROL).cast::<AtomicU64>(),
        ]
    }
}

/// Attaches the producer of the ring at `mem`.
///
/// # Safety
/// As for `parts`.
pub unsafe fn ref_producer(mem: *mut u8, slots: usize) -> RefProducer {
    // SAFETY: forwarded contract.
    let [head, tail, slots_ptr] = unsafe { parts(mem, slots) };
    RefProducer {
        head,
        tail,
        slots: slots_ptr,
        mask: slots as u64 - 1,
        pos: 0,
        cached_tail: 0,
    }
}

/// Attaches the consumer of the ring at `mem`.
///
/// # Safety
/// As for `parts`.
pub unsafe fn ref_consumer(mem: *mut u8, slots: usize) -> RefConsumer {
    // SAFETY: forwarded contract.
    let [head, tail, slots_ptr] = unsafe { parts(mem, slots) };
    RefConsumer {
        head,
        tail,
        slots: slots_ptr,
        mask: slots as u64 - 1,
        pos: 0,
        cached_head: 0,
    }
}

impl RefProducer {
    /// Appends `v`; `false` when the ring is full.
    #[inline]
    pub fn try_push(&mut self, v: u64) -> bool {
        if self.pos - self.cached_tail > self.mask {
            // SAFETY: `tail` points into the live block (see `parts`).
            // SYNC(ref-space): Acquire pairs with the consumer's Release of `tail`.
            self.cached_tail = unsafe { &*self.tail }.load(Ordering::Acquire);
            if self.pos - self.cached_tail > self.mask {
                return false;
            }
        }
        // SAFETY: the slot index is masked into the block; the consumer is done with it.
        let slot = unsafe { &*self.slots.add((self.pos & self.mask) as usize) };
        // Relaxed: published by the Release store of `head` below.
        slot.store(v, Ordering::Relaxed);
        self.pos += 1;
        // SAFETY: `head` points into the live block.
        // SYNC(ref-publish): Release pairs with the consumer's Acquire load of `head`.
        unsafe { &*self.head }.store(self.pos, Ordering::Release);
        true
    }

    /// Appends `v`, spinning while the ring is full.
    #[inline]
    pub fn push(&mut self, v: u64) {
        while !self.try_push(v) {
            std::hint::spin_loop();
        }
    }
}

impl RefConsumer {
    /// Takes the oldest value, if any.
    #[inline]
    pub fn try_pop(&mut self) -> Option<u64> {
        if self.pos == self.cached_head {
            // SAFETY: `head` points into the live block.
            // SYNC(ref-publish): Acquire pairs with the producer's Release of `head`.
            self.cached_head = unsafe { &*self.head }.load(Ordering::Acquire);
            if self.pos == self.cached_head {
                return None;
            }
        }
        // SAFETY: the slot index is masked into the block; the producer published it.
        let slot = unsafe { &*self.slots.add((self.pos & self.mask) as usize) };
        // Relaxed: ordered after the Acquire load of `head` that covered this slot.
        let v = slot.load(Ordering::Relaxed);
        self.pos += 1;
        // SAFETY: `tail` points into the live block.
        // SYNC(ref-space): Release pairs with the producer's Acquire load of `tail`.
        unsafe { &*self.tail }.store(self.pos, Ordering::Release);
        Some(v)
    }

    /// Takes the oldest value, spinning while the ring is empty.
    #[inline]
    pub fn pop(&mut self) -> u64 {
        loop {
            if let Some(v) = self.try_pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}
