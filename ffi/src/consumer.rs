//! The consumer handle: attach, receive into a buffer, zero-copy read + release,
//! statistics, close.

use crate::handle::{self, with_handle, Handle, Tag};
use crate::out;
use crate::place::{At, Place};
use crate::recv::{RecvHandle, RecvMode};
use crate::status::Status;
use crate::types::{Options, Stats, Wait};
use core::ffi::{c_char, c_int, c_void};
use ipcring::spsc::{Builder, Consumer};
use ipcring::{OpenError, SharedBytes};

/// The reading end of a ring, opaque to C. Made by `ipcring_consumer_create`, `_open` or
/// `_open_or_create`, freed by `ipcring_consumer_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct ConsumerHandle {
    tag: Tag,
    pub(crate) core: RecvHandle<Consumer>,
}

impl Handle for ConsumerHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-RX\x01");
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
    opts: *const Options,
    out_handle: *mut *mut ConsumerHandle,
    how: fn(Builder) -> Result<Consumer, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: Options| {
        Ok(ConsumerHandle {
            tag: Tag::new::<ConsumerHandle>(),
            core: RecvHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, Options::defaults, out_handle, open) }
}

/// Creates the ring `name` and attaches to it as its consumer. Fails with
/// `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// Options and results as `ipcring_producer_create`.
///
/// # Safety
/// As `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_create(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_consumer()) }
}

/// Opens the existing ring `name` as its consumer; reading resumes after the last message
/// a previous consumer released.
///
/// Options and results as `ipcring_producer_open`.
///
/// # Safety
/// As `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_open(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_consumer()) }
}

/// Opens the ring `name` as its consumer, creating it (with `opts`) if it does not exist.
///
/// Returns any status of `ipcring_consumer_create` and `ipcring_consumer_open`.
///
/// # Safety
/// As `ipcring_producer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_open_or_create(
    name: *const c_char,
    opts: *const Options,
    out: *mut *mut ConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_consumer()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// its consumer and seals the memfd: an anonymous ring, as `ipcring_consumer_create` makes
/// a named one, with the same options and results (`mode` does not apply). `fd` stays the
/// caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_consumer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_create_fd(
    fd: c_int,
    opts: *const Options,
    out: *mut *mut ConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_consumer()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as its consumer, as `ipcring_consumer_open` opens a named one, with the
/// same options and results. `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_consumer_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_open_fd(
    fd: c_int,
    opts: *const Options,
    out: *mut *mut ConsumerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_consumer()) }
}

/// Detaches from the ring, frees the handle and sets `*handle` to NULL. A pending read is
/// released. The ring itself stays (see `ipcring_unlink`); a consumer that opens it later
/// resumes after the last released message.
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a consumer handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// consumer create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_close(handle: *mut *mut ConsumerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Receives the next message into the `cap` bytes at `buf`, waiting while the ring is
/// empty, and stores its length in `*len`.
///
/// If the message is longer than `cap`, returns `IPCRING_ERR_BUFFER_TOO_SMALL`, stores the
/// length needed in `*len` and leaves the message in the ring: call again with a buffer of
/// that size. (`buf` NULL with `cap` 0 asks for the length of the next message.)
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_BUFFER_TOO_SMALL`, `IPCRING_ERR_DISCONNECTED` (the
/// producer is gone and every message was received), `IPCRING_ERR_CORRUPTED`,
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`len` NULL, or `buf` NULL
/// with `cap` > 0) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live consumer handle not used by another thread during the call;
/// `buf` is NULL or writable for `cap` bytes; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_recv(
    handle: *mut ConsumerHandle,
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

/// Like `ipcring_consumer_recv`, but returns `IPCRING_ERR_EMPTY` at once when no message
/// is waiting.
///
/// # Safety
/// As `ipcring_consumer_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_try_recv(
    handle: *mut ConsumerHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.recv(buf, cap, out(len)?, RecvMode::Try)) }
}

/// Like `ipcring_consumer_recv`, but waits at most `timeout_ns` nanoseconds, then returns
/// `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_consumer_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_recv_timeout(
    handle: *mut ConsumerHandle,
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
/// `*len` bytes in shared memory until `ipcring_consumer_release` (or close), which
/// consumes it. While it is lent, every other call on the handle but release and close
/// returns `IPCRING_ERR_GRANT_PENDING`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_DISCONNECTED`, `IPCRING_ERR_CORRUPTED`,
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`data` or `len` NULL) or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_consumer_recv`; `data` is NULL or writable for one pointer. The bytes at
/// `*data` may be read, not written, until release or close; after that the pointer must
/// not be used.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_read(
    handle: *mut ConsumerHandle,
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

/// Like `ipcring_consumer_read`, but returns `IPCRING_ERR_EMPTY` at once when no message
/// is waiting.
///
/// # Safety
/// As `ipcring_consumer_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_try_read(
    handle: *mut ConsumerHandle,
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

/// Like `ipcring_consumer_read`, but waits at most `timeout_ns` nanoseconds, then returns
/// `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_consumer_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_read_timeout(
    handle: *mut ConsumerHandle,
    data: *mut *const c_void,
    len: *mut usize,
    timeout_ns: u64,
) -> c_int {
    let how = RecvMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.lend(out(data)?, out(len)?, how)) }
}

/// What `ipcring_consumer_read_batch` calls with each message, in place: `len` bytes at
/// `data`, which may be read (not written) during the call only; `ctx` is the caller's.
/// It must return normally (no `longjmp` out of it) and not use the consumer handle.
pub type BatchFn = Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const c_void, len: usize)>;

/// Common body of the two batch reads.
///
/// # Safety
/// As `ipcring_consumer_read_batch`.
unsafe fn read_batch(
    handle: *mut ConsumerHandle,
    max: usize,
    f: BatchFn,
    ctx: *mut c_void,
    count: *mut usize,
    block: bool,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_handle(handle, |h| {
            let f = f.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
            let count = out(count)?;
            // SAFETY (of the call of `f`): the caller promised a function that reads the
            // `len` bytes at `data` during the call only and returns normally.
            let each = |m: &SharedBytes<'_>| f(ctx, m.as_ptr().cast(), m.len());
            let rx = h.core.rx()?;
            let n = if block {
                rx.read_batch(max, each)?
            } else {
                rx.try_read_batch(max, each)?
            };
            count.write(n);
            Ok(())
        })
    }
}

/// Lends up to `max` messages in place, oldest first, to `f` (with `ctx`): the first once
/// there is one (waiting while the ring is empty), then those committed behind it. They are
/// released together after the last call: one release and at most one publication of the
/// position for the batch. Stores how many `f` saw in `*count` (at least one; `max` 0 is
/// taken as 1).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_DISCONNECTED`, `IPCRING_ERR_CORRUPTED` (only when
/// `f` saw nothing: a batch ends before a scribbled record, and the next call reports it),
/// `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` (`f` or `count` NULL) or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_consumer_recv`; `f` is as `BatchFn` says; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_read_batch(
    handle: *mut ConsumerHandle,
    max: usize,
    f: BatchFn,
    ctx: *mut c_void,
    count: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { read_batch(handle, max, f, ctx, count, true) }
}

/// Like `ipcring_consumer_read_batch`, but returns `IPCRING_ERR_EMPTY` at once when no
/// message is waiting.
///
/// # Safety
/// As `ipcring_consumer_read_batch`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_try_read_batch(
    handle: *mut ConsumerHandle,
    max: usize,
    f: BatchFn,
    ctx: *mut c_void,
    count: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { read_batch(handle, max, f, ctx, count, false) }
}

/// Releases the message lent by `ipcring_consumer_read`: it is consumed, and its room
/// goes back to the producer.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing lent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live consumer handle not used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_release(handle: *mut ConsumerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.release()) }
}

/// Stores the ring's counters and geometry in `*stats`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_consumer_release`; `stats` is NULL or writable for one `ipcring_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_stats(
    handle: *mut ConsumerHandle,
    stats: *mut Stats,
) -> c_int {
    let read = |h: &mut ConsumerHandle| {
        let stats = out(stats)?;
        let rx = h.core.rx()?;
        let s = Stats::new(rx.stats(), rx.max_message());
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
/// As `ipcring_consumer_release`; `wait` is NULL or points to an initialised
/// `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_consumer_set_wait(
    handle: *mut ConsumerHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut ConsumerHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
