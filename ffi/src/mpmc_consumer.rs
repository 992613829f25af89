//! The MPMC consumer handle: attach, receive into a buffer, zero-copy read + release (or
//! keep), statistics, close.

use crate::handle::{self, with_handle, Handle, Tag};
use crate::out;
use crate::place::{At, Place};
use crate::recv::{RecvHandle, RecvMode};
use crate::types::{MpmcOptions, MpmcStats, Wait};
use core::ffi::{c_char, c_int, c_void};
use ipcring::mpmc::{Builder, Consumer};
use ipcring::OpenError;

/// A receiving end of an MPMC queue (one worker of a pool), opaque to C. Made by
/// `ipcring_mpmc_consumer_create`, `_open` or `_open_or_create`, freed by
/// `ipcring_mpmc_consumer_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct MpmcConsumerHandle {
    tag: Tag,
    pub(crate) core: RecvHandle<Consumer>,
}

impl Handle for MpmcConsumerHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-MR\x01");
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
    out_handle: *mut *mut MpmcConsumerHandle,
    how: fn(Builder) -> Result<Consumer, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: MpmcOptions| {
        Ok(MpmcConsumerHandle {
            tag: Tag::new::<MpmcConsumerHandle>(),
            core: RecvHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, MpmcOptions::defaults, out_handle, open) }
}

/// Creates the MPMC queue `name` and attaches to it as one of its consumers. Fails with
/// `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// Options and results as `ipcring_mpmc_producer_create`.
///
/// # Safety
/// As `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_create(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_consumer()) }
}

/// Opens the existing MPMC queue `name` as one more consumer.
///
/// Options and results as `ipcring_mpmc_producer_open` (`IPCRING_ERR_ROLE_TAKEN`: as many
/// consumers as the queue has consumer slots are attached).
///
/// # Safety
/// As `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_open(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_consumer()) }
}

/// Opens the MPMC queue `name` as a consumer, creating it (with `opts`) if it does not
/// exist.
///
/// Returns any status of `ipcring_mpmc_consumer_create` and `ipcring_mpmc_consumer_open`.
///
/// # Safety
/// As `ipcring_mpmc_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_open_or_create(
    name: *const c_char,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_consumer()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// one of its consumers and seals the memfd: an anonymous ring, as
/// `ipcring_mpmc_consumer_create` makes a named one, with the same options and results
/// (`mode` does not apply). `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_mpmc_consumer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_create_fd(
    fd: c_int,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_consumer()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as one of its consumers, as `ipcring_mpmc_consumer_open` opens a named
/// one, with the same options and results. `fd` stays the caller's. See "Anonymous rings"
/// in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_mpmc_consumer_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_open_fd(
    fd: c_int,
    opts: *const MpmcOptions,
    out: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_consumer()) }
}

/// Detaches from the queue, frees the handle and sets `*handle` to NULL. A lent message
/// is released (consumed); a kept one (see `ipcring_mpmc_consumer_keep`, and
/// `IPCRING_ERR_BUFFER_TOO_SMALL`) goes to another consumer, counted as redelivered. The
/// queue itself stays (see `ipcring_unlink`).
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not an MPMC consumer handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by an MPMC
/// consumer create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_close(
    handle: *mut *mut MpmcConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Receives the next message into the `cap` bytes at `buf`, waiting while the queue is
/// empty, and stores its length in `*len`. Each message goes to one consumer only.
///
/// If the message is longer than `cap`, returns `IPCRING_ERR_BUFFER_TOO_SMALL`, stores the
/// length needed in `*len` and keeps the message for this handle: its next receive (or
/// read) returns it. (`buf` NULL with `cap` 0 asks for the length of the next message.)
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_BUFFER_TOO_SMALL`, `IPCRING_ERR_DISCONNECTED` (every
/// producer is gone and every message was received), `IPCRING_ERR_CORRUPTED`,
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`len` NULL, or `buf` NULL
/// with `cap` > 0) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live MPMC consumer handle not used by another thread during the
/// call; `buf` is NULL or writable for `cap` bytes; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_recv(
    handle: *mut MpmcConsumerHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_handle(handle, |h| {
            h.core.recv(buf, cap, out(len)?, RecvMode::Block)
        })
    }
}

/// Like `ipcring_mpmc_consumer_recv`, but returns `IPCRING_ERR_EMPTY` at once when no
/// message is committed.
///
/// # Safety
/// As `ipcring_mpmc_consumer_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_try_recv(
    handle: *mut MpmcConsumerHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.recv(buf, cap, out(len)?, RecvMode::Try)) }
}

/// Like `ipcring_mpmc_consumer_recv`, but waits at most `timeout_ns` nanoseconds, then
/// returns `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_recv_timeout(
    handle: *mut MpmcConsumerHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    timeout_ns: u64,
) -> c_int {
    let how = RecvMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.recv(buf, cap, out(len)?, how)) }
}

/// Waits for the next message and lends it in place (zero-copy): `*data` points to its
/// `*len` bytes in shared memory until `ipcring_mpmc_consumer_release` (which consumes
/// it), `ipcring_mpmc_consumer_keep` (which keeps it for this handle's next receive) or
/// close. While it is lent, every other call on the handle but those returns
/// `IPCRING_ERR_GRANT_PENDING`. If the process dies while it holds the message, another
/// consumer receives it.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_DISCONNECTED`, `IPCRING_ERR_CORRUPTED`,
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`data` or `len` NULL) or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_recv`; `data` is NULL or writable for one pointer. The bytes
/// at `*data` may be read, not written, until release, keep or close; after that the
/// pointer must not be used.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_read(
    handle: *mut MpmcConsumerHandle,
    data: *mut *const c_void,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_handle(handle, |h| {
            h.core.lend(out(data)?, out(len)?, RecvMode::Block)
        })
    }
}

/// Like `ipcring_mpmc_consumer_read`, but returns `IPCRING_ERR_EMPTY` at once when no
/// message is committed.
///
/// # Safety
/// As `ipcring_mpmc_consumer_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_try_read(
    handle: *mut MpmcConsumerHandle,
    data: *mut *const c_void,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_handle(handle, |h| {
            h.core.lend(out(data)?, out(len)?, RecvMode::Try)
        })
    }
}

/// Like `ipcring_mpmc_consumer_read`, but waits at most `timeout_ns` nanoseconds, then
/// returns `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_read_timeout(
    handle: *mut MpmcConsumerHandle,
    data: *mut *const c_void,
    len: *mut usize,
    timeout_ns: u64,
) -> c_int {
    let how = RecvMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.lend(out(data)?, out(len)?, how)) }
}

/// Releases the message lent by `ipcring_mpmc_consumer_read`: it is consumed (never
/// delivered again), and its slot goes back to the producers.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing lent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live MPMC consumer handle not used by another thread during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_release(handle: *mut MpmcConsumerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.release()) }
}

/// Ends the loan of the message lent by `ipcring_mpmc_consumer_read` without consuming
/// it: the next receive or read of this handle returns it again (no other consumer gets
/// it while this handle is open). For example, read a message in place, find that it
/// needs a copy, keep it and receive it into a buffer.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing lent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_release`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_keep(handle: *mut MpmcConsumerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.keep()) }
}

/// Stores the queue's counters and geometry in `*stats`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_release`; `stats` is NULL or writable for one
/// `ipcring_mpmc_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_stats(
    handle: *mut MpmcConsumerHandle,
    stats: *mut MpmcStats,
) -> c_int {
    let read = |h: &mut MpmcConsumerHandle| {
        let stats = out(stats)?;
        let s = MpmcStats::from(h.core.rx()?.stats());
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(s) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, read) }
}

/// Stores the largest message of the queue (its slot size, in bytes) in `*max`: a buffer
/// of that size receives any message.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_mpmc_consumer_release`; `max` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_max_message(
    handle: *mut MpmcConsumerHandle,
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
/// As `ipcring_mpmc_consumer_release`; `wait` is NULL or points to an initialised
/// `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_mpmc_consumer_set_wait(
    handle: *mut MpmcConsumerHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut MpmcConsumerHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
