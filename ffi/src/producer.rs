//! The producer handle: attach, send, zero-copy reserve + commit, statistics, close.

use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::send::{ReserveMode, SendHandle, SendMode};
use crate::status::{Result, Status};
use crate::types::{Options, Stats, Wait};
use crate::{bytes_arg, out};
use core::ffi::{c_char, c_int, c_void};
use core::ptr::NonNull;
use ipcring::spsc::{Builder, Producer};
use ipcring::OpenError;

/// The writing end of a ring, opaque to C. Made by `ipcring_producer_create`, `_open` or
/// `_open_or_create`, freed by `ipcring_producer_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct ProducerHandle {
    tag: Tag,
    pub(crate) core: SendHandle<Producer>,
}

impl Handle for ProducerHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-TX\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

impl ProducerHandle {
    /// Sends what fits of `msgs`, storing the number sent in `sent`.
    fn try_send_batch(&mut self, msgs: &[&[u8]], sent: NonNull<usize>) -> Result<()> {
        let tx = self.core.tx()?;
        // Send the messages before the first one that is too large, then report it: the
        // library would do the same but not say how many went out before it.
        let max = tx.max_message();
        let fit = msgs
            .iter()
            .position(|m| m.len() > max)
            .unwrap_or(msgs.len());
        let n = tx.try_send_batch(msgs[..fit].iter().copied())?;
        // SAFETY: a non-NULL out-parameter, writable per the caller's contract.
        unsafe { sent.write(n) };
        if n == fit && fit < msgs.len() {
            return Err(Status::IPCRING_ERR_TOO_LARGE);
        }
        Ok(())
    }
}

/// One message of `ipcring_producer_try_send_batch`: `len` bytes at `data`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Buf {
    /// The bytes; may be NULL when `len` is 0.
    pub data: *const c_void,
    /// Their number.
    pub len: usize,
}

/// Common body of the three ways to attach.
///
/// # Safety
/// As the exported functions that call it.
unsafe fn attach(
    at: At,
    opts: *const Options,
    out_handle: *mut *mut ProducerHandle,
    how: fn(Builder) -> core::result::Result<Producer, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: Options| {
        Ok(ProducerHandle {
            tag: Tag::new::<ProducerHandle>(),
            core: SendHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, Options::defaults, out_handle, open) }
}

/// Creates the ring `name` (the shared-memory object `/dev/shm/ipcring.<name>`) and
/// attaches to it as its producer. Fails with `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// `opts` may be NULL for the defaults (see `ipcring_options_init`). On success `*out`
/// is the new handle, to be freed with `ipcring_producer_close`; on failure it is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME`,
/// `IPCRING_ERR_INVALID_CAPACITY`, `IPCRING_ERR_INVALID_ARGUMENT`, `IPCRING_ERR_EXISTS`,
/// `IPCRING_ERR_NO_SPACE`, `IPCRING_ERR_PERMISSION` or `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_options_t`; `out` is NULL or points to writable memory for one pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_create(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_producer()) }
}

/// Opens the existing ring `name` as its producer; writing continues after the last
/// message a previous producer committed. `opts` (may be NULL) gives the wait strategy
/// and populate flag; its capacity and mode are ignored.
///
/// Returns as `ipcring_producer_create`, with `IPCRING_ERR_NOT_FOUND`,
/// `IPCRING_ERR_ROLE_TAKEN` (another live producer is attached),
/// `IPCRING_ERR_NOT_IPCRING`, `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT`
/// and `IPCRING_ERR_NOT_READY` instead of `IPCRING_ERR_EXISTS`.
///
/// # Safety
/// As `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_open(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_producer()) }
}

/// Opens the ring `name` as its producer, creating it (with `opts`) if it does not exist.
///
/// Returns any status of `ipcring_producer_create` and `ipcring_producer_open`.
///
/// # Safety
/// As `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_open_or_create(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_producer()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// its producer and seals the memfd: an anonymous ring, as `ipcring_producer_create` makes
/// a named one, with the same options and results (`mode` does not apply). `fd` stays the
/// caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_create_fd(
    fd: c_int,
    opts: *const Options,
    out: *mut *mut ProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_producer()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as its producer, as `ipcring_producer_open` opens a named one, with the
/// same options and results. `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_producer_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_open_fd(
    fd: c_int,
    opts: *const Options,
    out: *mut *mut ProducerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_producer()) }
}

/// Detaches from the ring, frees the handle and sets `*handle` to NULL. A pending
/// reservation is aborted. The ring itself stays (see `ipcring_unlink`); the consumer
/// receives every committed message, then `IPCRING_ERR_DISCONNECTED`.
///
/// A NULL `*handle` (never opened, or closed already) is a no-op that returns
/// `IPCRING_OK`. Returns `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and
/// `IPCRING_ERR_BAD_HANDLE` if `*handle` is not a producer handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// producer create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_close(handle: *mut *mut ProducerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Sends `len` bytes from `data` as one message, waiting while the ring is full.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE` (longer than `max_message`, see
/// `ipcring_producer_stats`), `IPCRING_ERR_DISCONNECTED` (the ring is full and its
/// consumer is gone), `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`,
/// `IPCRING_ERR_NULL_POINTER` (`data` NULL with `len` > 0) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live producer handle not used by another thread during the call;
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_send(
    handle: *mut ProducerHandle,
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

/// Sends `len` bytes from `data` if there is room now; `IPCRING_ERR_FULL` at once
/// otherwise (counted in `rejected`). `IPCRING_ERR_FULL` is exact: once the consumer
/// received a message, a message that needs no more room than it freed fits.
///
/// Returns as `ipcring_producer_send` (`IPCRING_ERR_DISCONNECTED`: the ring is full and
/// the consumer is gone, a crash noticed within milliseconds), plus `IPCRING_ERR_FULL`.
///
/// # Safety
/// As `ipcring_producer_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_try_send(
    handle: *mut ProducerHandle,
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

/// Sends `len` bytes from `data`, waiting at most `timeout_ns` nanoseconds for room.
///
/// Returns as `ipcring_producer_send`, plus `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_producer_send`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_send_timeout(
    handle: *mut ProducerHandle,
    data: *const c_void,
    len: usize,
    timeout_ns: u64,
) -> c_int {
    let how = SendMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contracts.
    unsafe { with_handle(handle, |h| h.core.send(bytes_arg(data, len)?, how)) }
}

/// Sends as many of the `count` messages in `msgs` as fit now, with one publication and
/// at most one wake-up for all of them, and stores how many were sent in `*sent` (0 when
/// the ring is full: that is not an error).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE` (for the first message that is; those
/// before it are sent and counted), `IPCRING_ERR_DISCONNECTED` (none fit and the consumer
/// is gone), `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`,
/// `IPCRING_ERR_NULL_POINTER` (`sent` NULL, `msgs` NULL with `count` > 0, or a message
/// with NULL data and `len` > 0: then nothing is sent) or `IPCRING_ERR_BAD_HANDLE`. If
/// the ring fills up before a message that is too large, the result is `IPCRING_OK`
/// with the count of those that fitted.
///
/// # Safety
/// As `ipcring_producer_send`; `msgs` is NULL or readable for `count` `ipcring_buf_t`,
/// each of whose `data` is NULL or readable for its `len` bytes; `sent` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_try_send_batch(
    handle: *mut ProducerHandle,
    msgs: *const Buf,
    count: usize,
    sent: *mut usize,
) -> c_int {
    let send = |h: &mut ProducerHandle| {
        let sent = out(sent)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { sent.write(0) };
        if count == 0 {
            return Ok(());
        }
        if msgs.is_null() {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        if count > isize::MAX as usize / core::mem::size_of::<Buf>() {
            return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: not NULL, `count` elements fit an allocation, readable per the contract.
        let msgs = unsafe { core::slice::from_raw_parts(msgs, count) };
        let slices = msgs
            .iter()
            // SAFETY: each message is readable per the contract.
            .map(|m| unsafe { bytes_arg(m.data, m.len) })
            .collect::<Result<Vec<&[u8]>>>()?;
        h.try_send_batch(&slices, sent)
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, send) }
}

/// Reserves room for a message of up to `len` bytes, waiting while the ring is full, and
/// stores in `*data` where to write it (zero-copy). Nothing is visible to the consumer
/// until `ipcring_producer_commit`; `ipcring_producer_abort` abandons the reservation.
/// While it is pending, every other call on the handle but commit, abort and close
/// returns `IPCRING_ERR_GRANT_PENDING`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TOO_LARGE`, `IPCRING_ERR_DISCONNECTED`,
/// `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER`
/// (`data` NULL) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_producer_send`; `data` is NULL or writable for one pointer. The `len`
/// bytes at `*data` may be written (not read before written) until commit, abort or close;
/// after that the pointer must not be used.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_reserve(
    handle: *mut ProducerHandle,
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

/// Like `ipcring_producer_reserve`, but returns `IPCRING_ERR_FULL` at once when there is
/// no room, or `IPCRING_ERR_DISCONNECTED` when besides the consumer is gone.
///
/// # Safety
/// As `ipcring_producer_reserve`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_try_reserve(
    handle: *mut ProducerHandle,
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
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing reserved),
/// `IPCRING_ERR_INVALID_ARGUMENT` (`len` larger than the reservation, which then stays
/// pending) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live producer handle not used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_commit(handle: *mut ProducerHandle, len: usize) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.commit(len)) }
}

/// Abandons the pending reservation: the ring is left as it was.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_producer_commit`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_abort(handle: *mut ProducerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.abort()) }
}

/// Stores the ring's counters and geometry in `*stats`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_producer_commit`; `stats` is NULL or writable for one `ipcring_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_stats(
    handle: *mut ProducerHandle,
    stats: *mut Stats,
) -> c_int {
    let read = |h: &mut ProducerHandle| {
        let stats = out(stats)?;
        let tx = h.core.tx()?;
        let s = Stats::new(tx.stats(), tx.max_message());
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(s) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, read) }
}

/// Changes how the handle's blocking calls wait.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown kind),
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_producer_commit`; `wait` is NULL or points to an initialised
/// `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_producer_set_wait(
    handle: *mut ProducerHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut ProducerHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
