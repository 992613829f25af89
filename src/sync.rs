//! The shim: the one place that imports atomics, fences and spin/yield.
//!
//! Production builds use `core` atomics on memory that is mapped into several processes.
//! Under `--cfg ipcring_loom` the same names resolve to loom's checked versions (and loom's
//! mutex, condition variable and cell, for the futex emulation and the payload trackers),
//! so the ring algorithms, which import only from here, are the code that loom checks.

#[cfg(not(ipcring_loom))]
pub(crate) use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
#[cfg(ipcring_loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
#[cfg(ipcring_loom)]
pub(crate) use loom::{
    cell::{ConstPtr, MutPtr, UnsafeCell},
    sync::{Condvar, Mutex},
};

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
/// A full fence, unless `light`: the waiter promised to issue the heavy half
/// ([`heavy_fence`]) and this process is registered to receive it ([`asymmetric_fences`]).
/// Then a compiler fence is enough, because the waiter's `membarrier` runs a full barrier
/// on this thread's CPU at some point between its announcement and its re-check. Either
/// our load of the announcement comes after that point and sees it, or our publication
/// came before it and is visible to the re-check.
#[inline(always)]
pub(crate) fn light_fence(light: bool) {
    #[cfg(not(ipcring_loom))]
    if light {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
        return;
    }
    #[cfg(ipcring_loom)]
    let _ = light;
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

    /// Probes and registers, once.
    pub(super) fn ready() -> bool {
        // Relaxed: a process-global flag that goes from UNKNOWN to its final value once
        // (the registration itself is a syscall that completed).
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
        // Relaxed: as in `ready`.
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
