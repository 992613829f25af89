//! The one place that imports atomics, cells, spin/yield, prefetch and futex wait/wake.
//!
//! Production builds use `core` atomics on memory that is mapped into several processes and
//! the Linux futex. Under `--cfg ipcring_loom` the same names resolve to loom's checked
//! versions, the futex is emulated with a loom `Mutex` + `Condvar`, and the data area is a
//! heap buffer whose every 8-byte word carries a loom `UnsafeCell` tracker, so that a read
//! of a record before it was published is reported as a data race. The ring algorithms
//! import only from here, so the code that loom checks is the code that ships.

use crate::wait::Deadline;
use core::ptr::NonNull;

#[cfg(not(ipcring_loom))]
pub(crate) use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(ipcring_loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[cfg(not(ipcring_loom))]
#[path = "futex.rs"]
mod futex;

/// A full memory barrier: the StoreLoad fence of the waiter-announcement protocol.
#[inline]
pub(crate) fn fence_seqcst() {
    #[cfg(not(ipcring_loom))]
    core::sync::atomic::fence(Ordering::SeqCst);
    #[cfg(ipcring_loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// Whether this process takes part in asymmetric fences: it can issue
/// `MEMBARRIER_CMD_GLOBAL_EXPEDITED` and is registered to receive it. Probed (and
/// registered) once per process; `false` under loom, which cannot model `membarrier`.
pub(crate) fn asymmetric_fences() -> bool {
    #[cfg(not(ipcring_loom))]
    return membarrier::ready();
    #[cfg(ipcring_loom)]
    return false;
}

/// The waker's half of the StoreLoad barrier between "publish" and "look for a waiter".
///
/// A full fence, unless the waiter promised to issue the heavy half ([`heavy_fence`]) and
/// this process is registered to receive it: then a compiler fence is enough, because the
/// waiter's `membarrier` runs a full barrier on this thread's CPU at some point between
/// its announcement and its re-check. Either our load of the announcement comes after
/// that point and sees it, or our publication came before it and is visible to the
/// re-check.
#[inline(always)]
pub(crate) fn light_fence(waiter_is_heavy: bool) {
    #[cfg(not(ipcring_loom))]
    if waiter_is_heavy && membarrier::registered() {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
        return;
    }
    #[cfg(ipcring_loom)]
    let _ = waiter_is_heavy;
    fence_seqcst();
}

/// The waiter's half: a full fence, then (if `heavy`) a `membarrier` that runs a full
/// barrier on every CPU running a registered process. Returns `false` if the kernel
/// refused it (the caller must then stop promising heavy fences).
pub(crate) fn heavy_fence(heavy: bool) -> bool {
    fence_seqcst();
    #[cfg(not(ipcring_loom))]
    if heavy {
        return membarrier::global();
    }
    #[cfg(ipcring_loom)]
    let _ = heavy;
    true
}

#[cfg(not(ipcring_loom))]
mod membarrier {
    use core::sync::atomic::{AtomicU8, Ordering};
    use rustix::thread::{membarrier, membarrier_query, MembarrierCommand, MembarrierQuery};

    const UNKNOWN: u8 = 0;
    const READY: u8 = 1;
    const UNAVAILABLE: u8 = 2;

    /// This process's state; written once (racing initialisers agree).
    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether registration already succeeded (a cheap check for the hot path).
    #[inline(always)]
    pub(super) fn registered() -> bool {
        // Relaxed: a process-global flag that goes from UNKNOWN to its final value once;
        // reading UNKNOWN only makes the caller use a full fence.
        STATE.load(Ordering::Relaxed) == READY
    }

    /// Probes and registers, once.
    pub(super) fn ready() -> bool {
        // Relaxed: as in `registered`.
        match STATE.load(Ordering::Relaxed) {
            READY => true,
            UNAVAILABLE => false,
            _ => probe(),
        }
    }

    #[cold]
    fn probe() -> bool {
        let needed = MembarrierQuery::GLOBAL_EXPEDITED | MembarrierQuery::REGISTER_GLOBAL_EXPEDITED;
        let ok = membarrier_query().contains(needed)
            && membarrier(MembarrierCommand::RegisterGlobalExpedited).is_ok();
        // Relaxed: see `registered`; the registration itself is a syscall that completed.
        STATE.store(if ok { READY } else { UNAVAILABLE }, Ordering::Relaxed);
        ok
    }

    /// `MEMBARRIER_CMD_GLOBAL_EXPEDITED`.
    pub(super) fn global() -> bool {
        membarrier(MembarrierCommand::GlobalExpedited).is_ok()
    }
}

/// One iteration of a busy-wait loop.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(ipcring_loom))]
    core::hint::spin_loop();
    // Loom must be told that a spinning thread waits for another one, or it explores the
    // spin loop forever.
    #[cfg(ipcring_loom)]
    loom::thread::yield_now();
}

/// Gives the CPU away (the middle stage of spin -> yield -> park).
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(ipcring_loom))]
    std::thread::yield_now();
    #[cfg(ipcring_loom)]
    loom::thread::yield_now();
}

/// How a futex sleep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Loom cannot time out (its condition variable has no timed wait): only `Woken` there.
#[cfg_attr(ipcring_loom, allow(dead_code))]
pub(crate) enum Woke {
    /// Woken, or the word had already changed: the other side published.
    Woken,
    /// The deadline passed, or a signal interrupted the sleep: nobody woke us.
    TimedOut,
    /// The kernel refused to sleep (no futex support): the caller must not rely on it.
    Unsupported,
}

/// A 32-bit word in shared memory that threads of any process can sleep on.
///
/// Always a *shared* futex, never the process-private variant, which is keyed by the
/// address space and never wakes another process.
#[cfg(not(ipcring_loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct Futex(AtomicU32);

/// Loom stand-in for the futex: the value is re-checked under the lock, so a wake between
/// the check and the sleep cannot be lost, and loom reports a lost wakeup as a deadlock.
#[cfg(ipcring_loom)]
#[derive(Debug, Default)]
pub(crate) struct Futex {
    word: AtomicU32,
    lock: loom::sync::Mutex<()>,
    cond: loom::sync::Condvar,
}

impl Futex {
    #[inline]
    fn word(&self) -> &AtomicU32 {
        #[cfg(not(ipcring_loom))]
        return &self.0;
        #[cfg(ipcring_loom)]
        return &self.word;
    }

    /// Reads the current value. SYNC: Acquire pairs with the Release in [`Futex::bump`].
    #[inline]
    pub(crate) fn load(&self) -> u32 {
        self.word().load(Ordering::Acquire)
    }

    /// Changes the value so that a waiter that read the old one does not fall asleep.
    /// SYNC: Release pairs with the Acquire in [`Futex::load`].
    #[inline]
    pub(crate) fn bump(&self) {
        self.word().fetch_add(1, Ordering::Release);
    }

    /// Sleeps while the value is `expected`, until woken, until `deadline`, or spuriously.
    /// The caller re-checks its condition in a loop.
    pub(crate) fn wait(&self, expected: u32, deadline: Option<Deadline>) -> Woke {
        #[cfg(not(ipcring_loom))]
        return match futex::wait(&self.0, expected, deadline) {
            futex::Woke::Woken | futex::Woke::Changed => Woke::Woken,
            futex::Woke::TimedOut | futex::Woke::Interrupted => Woke::TimedOut,
            futex::Woke::Refused(_) => Woke::Unsupported,
        };
        #[cfg(ipcring_loom)]
        {
            // Loom has no clock: a timed wait is modelled as a wait that a wake ends.
            let _ = deadline.map(Deadline::as_nanos);
            let guard = self.lock.lock().unwrap();
            if self.word.load(Ordering::Acquire) == expected {
                drop(self.cond.wait(guard).unwrap());
            }
            Woke::Woken
        }
    }

    /// Wakes every thread sleeping on this word, in any process.
    pub(crate) fn wake_all(&self) {
        #[cfg(not(ipcring_loom))]
        futex::wake_all(&self.0);
        #[cfg(ipcring_loom)]
        {
            let _guard = self.lock.lock().unwrap();
            self.cond.notify_all();
        }
    }
}

/// Copies `len` bytes. Messages are mostly small: up to 16 bytes are moved with at most
/// two (overlapping) loads and stores instead of a call to `memcpy`.
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes, and the two do not overlap.
#[inline(always)]
unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: every access below is within the first `len` bytes of `src` and `dst`, per
    // the contract; unaligned reads and writes are allowed at any address.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                // First, middle and last byte cover 1, 2 and 3 bytes alike.
                *dst = *src;
                *dst.add(len / 2) = *src.add(len / 2);
                *dst.add(len - 1) = *src.add(len - 1);
            }
            4..=7 => {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(len - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(len - 4).cast::<u32>().write_unaligned(b);
            }
            8..=16 => {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(len - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(len - 8).cast::<u64>().write_unaligned(b);
            }
            _ => core::ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// View of a ring's data area: bytes that are written by one side and read by the other.
///
/// Offsets are always reduced with the ring's private mask before they reach these
/// methods; the `debug_assert!`s restate that invariant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    words: NonNull<AtomicU64>,
    #[cfg(ipcring_loom)]
    cells: NonNull<loom::cell::UnsafeCell<()>>,
}

/// A writable window of the data area, held while a record's payload is written.
#[derive(Debug)]
pub(crate) struct WriteAccess {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    _tracked: Vec<loom::cell::MutPtr<()>>,
}

/// A readable window of the data area, held while a record's payload is read.
#[derive(Debug)]
pub(crate) struct ReadAccess {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    _tracked: Vec<loom::cell::ConstPtr<()>>,
}

impl WriteAccess {
    /// Ends the access (under loom this is where the checked write ends); the writer
    /// calls it before publishing.
    #[inline]
    pub(crate) fn end(self) {}

    /// The window as a byte slice, to read back what was written.
    #[inline]
    pub(crate) fn slice(&self) -> &[u8] {
        // SAFETY: as in `slice_mut`; a shared borrow of `self` excludes the mutable one.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Fills the window with `src`, which has exactly its length.
    #[inline(always)]
    pub(crate) fn fill(&mut self, src: &[u8]) {
        assert_eq!(src.len(), self.len, "a window is filled whole");
        // SAFETY: the window is `len` writable bytes (see `slice_mut`), `src` has `len`
        // readable bytes, and a window of the shared area cannot overlap a Rust slice.
        unsafe { copy(src.as_ptr(), self.ptr.as_ptr(), self.len) };
    }

    /// The window as a mutable byte slice.
    #[inline]
    pub(crate) fn slice_mut(&mut self) -> &mut [u8] {
        // SAFETY: `Bytes::write` returned this window inside the data area, and its caller
        // promised that no other party reads or writes it until the window is dropped.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl ReadAccess {
    /// Replaces the contents of `buf` with the window's bytes.
    #[inline(always)]
    pub(crate) fn copy_into(&self, buf: &mut Vec<u8>) {
        buf.clear();
        buf.reserve(self.len);
        // SAFETY: `buf` has room for `len` bytes after `reserve`; the window is `len`
        // readable bytes (see `slice`); they cannot overlap. `set_len` follows the copy
        // that initialised those bytes.
        unsafe {
            copy(self.ptr.as_ptr(), buf.as_mut_ptr(), self.len);
            buf.set_len(self.len);
        }
    }

    /// Ends the access (under loom this is where the checked read ends).
    #[inline]
    pub(crate) fn end(self) {}

    /// The window as a byte slice.
    #[inline]
    pub(crate) fn slice(&self) -> &[u8] {
        // SAFETY: `Bytes::read` returned this window inside the data area, and its caller
        // promised that nobody writes it until the window is dropped.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

// SAFETY: the windows point into a data area that outlives the handle holding them; moving
// them to another thread moves the exclusive right to that range with them.
unsafe impl Send for WriteAccess {}
// SAFETY: as above; a read window is only ever read.
unsafe impl Send for ReadAccess {}

impl Bytes {
    /// Wraps `len` bytes at `ptr` that live in shared memory.
    ///
    /// # Safety
    /// - `ptr` is valid for reads and writes of `len` bytes for as long as the `Bytes` and
    ///   every window taken from it are used, and is 8-byte aligned;
    /// - `len` is a multiple of 8.
    #[cfg(not(ipcring_loom))]
    pub(crate) unsafe fn from_raw(ptr: NonNull<u8>, len: usize) -> Self {
        debug_assert!(ptr.as_ptr() as usize % 8 == 0 && len % 8 == 0);
        Bytes { ptr, len }
    }

    /// Shared memory cannot be checked by loom: models use [`HeapRegion`].
    ///
    /// # Safety
    /// Never returns.
    #[cfg(ipcring_loom)]
    pub(crate) unsafe fn from_raw(_ptr: NonNull<u8>, _len: usize) -> Self {
        panic!("loom models run on heap regions, not on shared memory segments")
    }

    /// Length of the data area in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The 8-byte word at `off`, used atomically (record headers).
    #[inline]
    pub(crate) fn word(&self, off: usize) -> &AtomicU64 {
        debug_assert!(
            off % 8 == 0 && off + 8 <= self.len,
            "word {off} of {}",
            self.len
        );
        #[cfg(not(ipcring_loom))]
        // SAFETY: `off` is 8-aligned and in bounds (the mask keeps it so), the area is
        // 8-aligned, and `AtomicU64` has the size and alignment of `u64`.
        return unsafe { &*(self.ptr.as_ptr().add(off) as *const AtomicU64) };
        #[cfg(ipcring_loom)]
        // SAFETY: the loom region keeps one atomic per word for its whole life.
        return unsafe { &*self.words.as_ptr().add(off / 8) };
    }

    /// Takes a window of `len` bytes at `off` for writing.
    ///
    /// # Safety
    /// `off..off + len` is inside the area, and the caller owns it: the other side does not
    /// access it until the record that covers it is published.
    #[inline]
    pub(crate) unsafe fn write(&self, off: usize, len: usize) -> WriteAccess {
        debug_assert!(off <= self.len && len <= self.len - off);
        WriteAccess {
            // SAFETY: in bounds per the contract above.
            ptr: unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(off)) },
            len,
            #[cfg(ipcring_loom)]
            _tracked: self.cells_for(off, len).map(|c| c.get_mut()).collect(),
        }
    }

    /// Takes a window of `len` bytes at `off` for reading.
    ///
    /// # Safety
    /// `off..off + len` is inside the area and was published by the other side, which does
    /// not write it again until this side releases it.
    #[inline]
    pub(crate) unsafe fn read(&self, off: usize, len: usize) -> ReadAccess {
        debug_assert!(off <= self.len && len <= self.len - off);
        ReadAccess {
            // SAFETY: in bounds per the contract above.
            ptr: unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(off)) },
            len,
            #[cfg(ipcring_loom)]
            _tracked: self.cells_for(off, len).map(|c| c.get()).collect(),
        }
    }

    /// Hints the CPU to fetch the cache line at `off` (no effect if out of range).
    #[inline]
    pub(crate) fn prefetch(&self, off: usize) {
        #[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
        if off < self.len {
            // SAFETY: a prefetch never faults and `off` is in bounds anyway.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    self.ptr.as_ptr().add(off) as *const i8,
                )
            };
        }
        #[cfg(any(ipcring_loom, not(target_arch = "x86_64")))]
        let _ = off;
    }

    #[cfg(ipcring_loom)]
    fn cells_for(
        &self,
        off: usize,
        len: usize,
    ) -> impl Iterator<Item = &loom::cell::UnsafeCell<()>> + '_ {
        let first = off / 8;
        let end = (off + len).div_ceil(8);
        // SAFETY: the loom region keeps one tracker per word for its whole life and
        // `first..end` is in bounds because `off..off + len` is.
        (first..end).map(move |i| unsafe { &*self.cells.as_ptr().add(i) })
    }
}

/// A ring header `H` and its data area on the heap, zeroed like a fresh segment: used by
/// in-process rings, by the loom models and by the sanitizer tests.
#[derive(Debug)]
pub(crate) struct HeapRegion<H> {
    header: NonNull<H>,
    bytes: Bytes,
    #[cfg(ipcring_loom)]
    words: Box<[AtomicU64]>,
    #[cfg(ipcring_loom)]
    cells: Box<[loom::cell::UnsafeCell<()>]>,
}

// SAFETY: the region is only accessed through atomics and through windows whose exclusivity
// the ring protocol guarantees; it is the same memory discipline as a shared segment.
unsafe impl<H: Sync> Send for HeapRegion<H> {}
// SAFETY: as above.
unsafe impl<H: Sync> Sync for HeapRegion<H> {}

impl<H: Default> HeapRegion<H> {
    /// Allocates a header and `len` zeroed data bytes (`len` a multiple of 8).
    pub(crate) fn new(len: usize) -> Self {
        assert!(len % 8 == 0 && len > 0);
        let header = NonNull::from(Box::leak(Box::new(H::default())));
        let buf: Box<[u64]> = vec![0u64; len / 8].into_boxed_slice();
        let ptr = NonNull::from(Box::leak(buf)).cast::<u8>();
        #[cfg(ipcring_loom)]
        {
            let words: Box<[AtomicU64]> = (0..len / 8).map(|_| AtomicU64::new(0)).collect();
            let cells: Box<[loom::cell::UnsafeCell<()>]> = (0..len / 8)
                .map(|_| loom::cell::UnsafeCell::new(()))
                .collect();
            let bytes = Bytes {
                ptr,
                len,
                words: NonNull::from(&words[0]),
                cells: NonNull::from(&cells[0]),
            };
            HeapRegion {
                header,
                bytes,
                words,
                cells,
            }
        }
        #[cfg(not(ipcring_loom))]
        HeapRegion {
            header,
            bytes: Bytes { ptr, len },
        }
    }
}

impl<H> HeapRegion<H> {
    /// The header.
    pub(crate) fn header(&self) -> NonNull<H> {
        self.header
    }

    /// The data area.
    pub(crate) fn bytes(&self) -> Bytes {
        self.bytes
    }
}

impl<H> Drop for HeapRegion<H> {
    fn drop(&mut self) {
        #[cfg(ipcring_loom)]
        let _ = (&self.words, &self.cells);
        // SAFETY: both allocations were leaked from boxes of exactly these types and sizes
        // in `new`, and no window outlives the region (handles hold the region).
        unsafe {
            drop(Box::from_raw(self.header.as_ptr()));
            let words = core::ptr::slice_from_raw_parts_mut(
                self.bytes.ptr.as_ptr().cast::<u64>(),
                self.bytes.len / 8,
            );
            drop(Box::from_raw(words));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_and_large_copies_move_exactly_len_bytes() {
        for len in 0..=40usize {
            let src: Vec<u8> = (1..=len as u8).collect();
            // Guard bytes on both sides of the destination must stay untouched.
            let mut dst = vec![0xEEu8; len + 2];
            // SAFETY: `src` has `len` bytes, `dst[1..]` has `len + 1`; distinct vectors.
            unsafe { super::copy(src.as_ptr(), dst.as_mut_ptr().add(1), len) };
            assert_eq!(dst[0], 0xEE, "len {len}");
            assert_eq!(&dst[1..=len], &src[..], "len {len}");
            assert_eq!(dst[len + 1], 0xEE, "len {len}");
        }
    }
}
