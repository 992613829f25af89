//! The broadcast publisher handle: attach, send, zero-copy reserve + commit, statistics,
//! close.

use crate::broadcast_types::{BroadcastOptions, BroadcastStats};
use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::send::{ReserveMode, SendHandle, SendMode};
use crate::types::Wait;
use crate::{bytes_arg, out};
use core::ffi::{c_char, c_int, c_void};
use ipcring::broadcast::{Builder, Publisher};
use ipcring::OpenError;

/// A publishing end of a broadcast topic, opaque to C. Made by `ipcring_pub_create`,
/// `_open` or `_open_or_create`, freed by `ipcring_pub_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct PublisherHandle {
    tag: Tag,
    pub(crate) core: SendHandle<Publisher>,
}

impl Handle for PublisherHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-BP\x01");
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
    opts: *const BroadcastOptions,
    out_handle: *mut *mut PublisherHandle,
    how: fn(Builder) -> core::result::Result<Publisher, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: BroadcastOptions| {
        Ok(PublisherHandle {
            tag: Tag::new::<PublisherHandle>(),
            core: SendHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, BroadcastOptions::defaults, out_handle, open) }
}

/// Creates the broadcast topic `name` (the shared-memory object
/// `/dev/shm/ipcring.<name>`) and attaches to it as one of its publishers. Fails with
/// `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// `opts` may be NULL for the defaults (see `ipcring_broadcast_options_init`). On success
/// `*out` is the new handle, to be freed with `ipcring_pub_close`; on failure it is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME`,
/// `IPCRING_ERR_INVALID_GEOMETRY`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind),
/// `IPCRING_ERR_EXISTS`, `IPCRING_ERR_NO_SPACE`, `IPCRING_ERR_PERMISSION` or
/// `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_broadcast_options_t`; `out` is NULL or points to writable memory for one
/// pointer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_create(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut PublisherHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_publisher()) }
}

/// Opens the existing broadcast topic `name` as one more publisher. `opts` (may be NULL)
/// gives the wait strategy and populate flag; the rest is the topic's.
///
/// Returns as `ipcring_pub_create`, with `IPCRING_ERR_NOT_FOUND`, `IPCRING_ERR_ROLE_TAKEN`
/// (as many publishers as the topic has publisher slots are attached),
/// `IPCRING_ERR_NOT_IPCRING` (also: a ring of another kind of that name),
/// `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT` and `IPCRING_ERR_NOT_READY`
/// instead of `IPCRING_ERR_EXISTS` and `IPCRING_ERR_INVALID_GEOMETRY`.
///
/// # Safety
/// As `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_open(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut PublisherHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_publisher()) }
}

/// Opens the broadcast topic `name` as a publisher, creating it (with `opts`) if it does
/// not exist.
///
/// Returns any status of `ipcring_pub_create` and `ipcring_pub_open`.
///
/// # Safety
/// As `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_open_or_create(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut PublisherHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_publisher()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// one of its publishers and seals the memfd: an anonymous ring, as `ipcring_pub_create`
/// makes a named one, with the same options and results (`mode` does not apply). `fd` stays
/// the caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_create_fd(
    fd: c_int,
    opts: *const BroadcastOptions,
    out: *mut *mut PublisherHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_publisher()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as one of its publishers, as `ipcring_pub_open` opens a named one, with
/// the same options and results. `fd` stays the caller's. See "Anonymous rings" in the
/// header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_pub_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_open_fd(
    fd: c_int,
    opts: *const BroadcastOptions,
    out: *mut *mut PublisherHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_publisher()) }
}

/// Detaches from the topic, frees the handle and sets `*handle` to NULL. A pending
/// reservation is abandoned (subscribers pass its slot). The topic itself stays (see
/// `ipcring_unlink`).
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a publisher handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// publisher create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_close(handle: *mut *mut PublisherHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Publishes `len` bytes from `data` as one message, waiting while a lossless topic is
/// full (its slowest live subscriber is a whole topic behind).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE` (longer than the slot size),
/// `IPCRING_ERR_SKIPPED` (stalled past the topic's stall timeout), `IPCRING_ERR_CORRUPTED`,
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`data` NULL with `len` > 0) or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live publisher handle not used by another thread during the
/// call; `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_send(
    handle: *mut PublisherHandle,
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

/// Like `ipcring_pub_send`, but returns `IPCRING_ERR_FULL` at once (counted in `rejected`)
/// when a lossless topic is full. A lossy topic is never full.
///
/// # Safety
/// As `ipcring_pub_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_try_send(
    handle: *mut PublisherHandle,
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

/// Like `ipcring_pub_send`, but waits at most `timeout_ns` nanoseconds for room, then
/// returns `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_pub_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_send_timeout(
    handle: *mut PublisherHandle,
    data: *const c_void,
    len: usize,
    timeout_ns: u64,
) -> c_int {
    let how = SendMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contracts.
    unsafe { with_handle(handle, |h| h.core.send(bytes_arg(data, len)?, how)) }
}

/// Reserves a slot for a message of up to `len` bytes, waiting while a lossless topic is
/// full, and stores in `*data` where to write it (zero-copy). Nothing is visible to
/// subscribers until `ipcring_pub_commit`; `ipcring_pub_abort` abandons the slot. While it
/// is pending, every other call on the handle but commit, abort and close returns
/// `IPCRING_ERR_GRANT_PENDING`. Subscribers wait for a pending reservation (unless the
/// topic has a stall timeout), so commit or abort it soon.
///
/// Returns as `ipcring_pub_send`, with `IPCRING_ERR_NULL_POINTER` for a NULL `data`.
///
/// # Safety
/// As `ipcring_pub_send`; `data` is NULL or writable for one pointer. The `len` bytes at
/// `*data` may be written (not read before written) until commit, abort or close.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_reserve(
    handle: *mut PublisherHandle,
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

/// Like `ipcring_pub_reserve`, but returns `IPCRING_ERR_FULL` at once when a lossless
/// topic is full.
///
/// # Safety
/// As `ipcring_pub_reserve`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_try_reserve(
    handle: *mut PublisherHandle,
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
/// Returns `IPCRING_OK`, `IPCRING_ERR_SKIPPED` (the publisher stalled longer than the
/// topic's stall timeout and subscribers passed the slot: the message is not sent; the
/// reservation is over all the same), `IPCRING_ERR_NO_GRANT`,
/// `IPCRING_ERR_INVALID_ARGUMENT` (`len` larger than the reservation, which then stays
/// pending) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live publisher handle not used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_commit(handle: *mut PublisherHandle, len: usize) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.commit(len)) }
}

/// Abandons the pending reservation: subscribers pass its slot, nothing is delivered.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_pub_commit`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_abort(handle: *mut PublisherHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.abort()) }
}

/// Stores the topic's counters and geometry in `*stats` (`own_*` are 0 for a publisher).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_pub_commit`; `stats` is NULL or writable for one
/// `ipcring_broadcast_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_stats(
    handle: *mut PublisherHandle,
    stats: *mut BroadcastStats,
) -> c_int {
    let read = |h: &mut PublisherHandle| {
        let stats = out(stats)?;
        let s = BroadcastStats::new(h.core.tx()?.stats(), None);
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(s) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, read) }
}

/// Stores the largest message the topic accepts (its slot size, in bytes) in `*max`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_pub_commit`; `max` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_max_message(
    handle: *mut PublisherHandle,
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
/// As `ipcring_pub_commit`; `wait` is NULL or points to an initialised `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_pub_set_wait(
    handle: *mut PublisherHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut PublisherHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
