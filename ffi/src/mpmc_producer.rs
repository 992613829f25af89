//! The MPMC producer handle: attach, send, zero-copy reserve + commit, statistics, close.

use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::send::{ReserveMode, SendHandle, SendMode};
use crate::types::{MpmcOptions, MpmcStats, Wait};
use crate::{bytes_arg, out};
use core::ffi::{c_char, c_int, c_void};
use ipcring::mpmc::{Builder, Producer};
use ipcring::OpenError;

/// A sending end of an MPMC queue, opaque to C. Made by `ipcring_mpmc_producer_create`,
/// `_open` or `_open_or_create`, freed by `ipcring_mpmc_producer_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct MpmcProducerHandle {
    tag: Tag,
    pub(crate) core: SendHandle<Producer>,
}

impl Handle for MpmcProducerHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-MT\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

/// Common body of the three ways to attach.
///
/// # Safety
/// As the exported functions that call it.
unsafe fn attach(
    at: At,
    opts: *const MpmcOptions,
    out_handle: *mut *mut MpmcProducerHandle,
    how: fn(Builder) -> core::result::Result<Producer, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: MpmcOptions| {
        Ok(MpmcProducerHandle {
            tag: Tag::new::<MpmcProducerHandle>(),
            core: SendHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, MpmcOptions::defaults, out_handle, open) }
}

/// Creates the MPMC queue `name` (the shared-memory object `/dev/shm/ipcring.<name>`) and
/// attaches to it as one of its producers. Fails with `IPCRING_ERR_EXISTS` if it exists
/// already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// `opts` may be NULL for the defaults (see `ipcring_mpmc_options_init`). On success
/// `*out` is the new handle, to be freed with `ipcring_mpmc_producer_close`; on failure it
/// is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME`,
/// `IPCRING_ERR_INVALID_GEOMETRY`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind),
/// `IPCRING_ERR_EXISTS`, `IPCRING_ERR_NO_SPACE`, `IPCRING_ERR_PERMISSION` or
/// `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_mpmc_options_t`; `out` is NULL or points to writable memory for one pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_create(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_producer()) }
}

/// Opens the existing MPMC queue `name` as one more producer. `opts` (may be NULL) gives
/// the wait strategy and populate flag; its geometry, stall timeout and mode are ignored.
///
/// Returns as `ipcring_mpmc_producer_create`, with `IPCRING_ERR_NOT_FOUND`,
/// `IPCRING_ERR_ROLE_TAKEN` (as many producers as the queue has producer slots are
/// attached), `IPCRING_ERR_NOT_IPCRING` (also: an SPSC ring of that name),
/// `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT` and `IPCRING_ERR_NOT_READY`
/// instead of `IPCRING_ERR_EXISTS` and `IPCRING_ERR_INVALID_GEOMETRY`.
///
/// # Safety
/// As `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_open(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_producer()) }
}

/// Opens the MPMC queue `name` as a producer, creating it (with `opts`) if it does not
/// exist.
///
/// Returns any status of `ipcring_mpmc_producer_create` and `ipcring_mpmc_producer_open`.
///
/// # Safety
/// As `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_open_or_create(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_producer()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// one of its producers and seals the memfd: an anonymous ring, as
/// `ipcring_mpmc_producer_create` makes a named one, with the same options and results
/// (`mode` does not apply). `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_create_fd(
    fd: c_int,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_producer()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as one of its producers, as `ipcring_mpmc_producer_open` opens a named
/// one, with the same options and results. `fd` stays the caller's. See "Anonymous rings"
/// in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_mpmc_producer_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_open_fd(
    fd: c_int,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_producer()) }
}

/// Detaches from the queue, frees the handle and sets `*handle` to NULL. A pending
/// reservation is abandoned (consumers pass its slot). The queue itself stays (see
/// `ipcring_unlink`); once every producer has left, consumers receive every committed
/// message, then `IPCRING_ERR_DISCONNECTED`.
///
/// A NULL `*handle` (never opened, or closed already) is a no-op that returns
/// `IPCRING_OK`. Returns `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and
/// `IPCRING_ERR_BAD_HANDLE` if `*handle` is not an MPMC producer handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by an MPMC
/// producer create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_close(
    handle: *mut *mut MpmcProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Sends `len` bytes from `data` as one message, waiting while the queue is full.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE` (longer than the slot size),
/// `IPCRING_ERR_DISCONNECTED` (the queue is full and every consumer is gone),
/// `IPCRING_ERR_SKIPPED`, `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`,
/// `IPCRING_ERR_NULL_POINTER` (`data` NULL with `len` > 0) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live MPMC producer handle not used by another thread during the
/// call; `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_send(
    handle: *mut MpmcProducerHandle,
    data: *const c_void,
    len: usize,
) -> c_int {
    // SAFETY: forwarded contracts.
    unsafe {
        with_handle(handle, |h| {
            h.core.send(bytes_arg(data, len)?, SendMode::Block)
        })
    }
}

/// Sends `len` bytes from `data` if a slot is free now; `IPCRING_ERR_FULL` at once
/// otherwise (counted in `rejected`). `IPCRING_ERR_FULL` is exact: once a consumer released
/// a message, a send fits.
///
/// Returns as `ipcring_mpmc_producer_send` (`IPCRING_ERR_DISCONNECTED`: the queue is full
/// and every consumer is gone, a crash noticed within milliseconds), plus
/// `IPCRING_ERR_FULL`.
///
/// # Safety
/// As `ipcring_mpmc_producer_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_try_send(
    handle: *mut MpmcProducerHandle,
    data: *const c_void,
    len: usize,
) -> c_int {
    // SAFETY: forwarded contracts.
    unsafe {
        with_handle(handle, |h| {
            h.core.send(bytes_arg(data, len)?, SendMode::Try)
        })
    }
}

/// Sends `len` bytes from `data`, waiting at most `timeout_ns` nanoseconds for a free
/// slot.
///
/// Returns as `ipcring_mpmc_producer_send`, plus `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_mpmc_producer_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_send_timeout(
    handle: *mut MpmcProducerHandle,
    data: *const c_void,
    len: usize,
    timeout_ns: u64,
) -> c_int {
    let how = SendMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contracts.
    unsafe { with_handle(handle, |h| h.core.send(bytes_arg(data, len)?, how)) }
}

/// Reserves a slot for a message of up to `len` bytes, waiting while the queue is full,
/// and stores in `*data` where to write it (zero-copy). Nothing is visible to consumers
/// until `ipcring_mpmc_producer_commit`; `ipcring_mpmc_producer_abort` abandons the
/// slot. While it is pending, every other call on the handle but commit, abort and close
/// returns `IPCRING_ERR_GRANT_PENDING`. Consumers wait for a pending reservation (unless
/// the queue has a stall timeout), so commit or abort it soon.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE`, `IPCRING_ERR_DISCONNECTED`,
/// `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER`
/// (`data` NULL) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_producer_send`; `data` is NULL or writable for one pointer. The `len`
/// bytes at `*data` may be written (not read before written) until commit, abort or close;
/// after that the pointer must not be used.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_reserve(
    handle: *mut MpmcProducerHandle,
    len: usize,
    data: *mut *mut c_void,
) -> c_int {
    // SAFETY: forwarded contracts.
    unsafe {
        with_handle(handle, |h| {
            h.core.reserve(len, ReserveMode::Block, out(data)?)
        })
    }
}

/// Like `ipcring_mpmc_producer_reserve`, but returns `IPCRING_ERR_FULL` at once (counted
/// in `rejected`) when no slot is free, or `IPCRING_ERR_DISCONNECTED` when besides every
/// consumer is gone.
///
/// # Safety
/// As `ipcring_mpmc_producer_reserve`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_try_reserve(
    handle: *mut MpmcProducerHandle,
    len: usize,
    data: *mut *mut c_void,
) -> c_int {
    // SAFETY: forwarded contracts.
    unsafe {
        with_handle(handle, |h| {
            h.core.reserve(len, ReserveMode::Try, out(data)?)
        })
    }
}

/// Publishes the first `len` bytes of the pending reservation as one message.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_SKIPPED` (the producer stalled longer than the
/// queue's stall timeout and consumers passed the slot: the message is not sent; the
/// reservation is over all the same), `IPCRING_ERR_NO_GRANT` (nothing reserved),
/// `IPCRING_ERR_INVALID_ARGUMENT` (`len` larger than the reservation, which then stays
/// pending), `IPCRING_ERR_CORRUPTED` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live MPMC producer handle not used by another thread during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_commit(
    handle: *mut MpmcProducerHandle,
    len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.commit(len)) }
}

/// Abandons the pending reservation: consumers pass its slot, nothing is delivered.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_producer_commit`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_abort(handle: *mut MpmcProducerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.abort()) }
}

/// Stores the queue's counters and geometry in `*stats`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_producer_commit`; `stats` is NULL or writable for one
/// `ipcring_mpmc_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_stats(
    handle: *mut MpmcProducerHandle,
    stats: *mut MpmcStats,
) -> c_int {
    let read = |h: &mut MpmcProducerHandle| {
        let stats = out(stats)?;
        let s = MpmcStats::from(h.core.tx()?.stats());
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(s) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, read) }
}

/// Stores the largest message the queue accepts (its slot size, in bytes) in `*max`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_producer_commit`; `max` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_max_message(
    handle: *mut MpmcProducerHandle,
    max: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.max_message(out(max)?)) }
}

/// Changes how the handle's blocking calls wait.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown kind),
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_producer_commit`; `wait` is NULL or points to an initialised
/// `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_producer_set_wait(
    handle: *mut MpmcProducerHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut MpmcProducerHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
