//! The broadcast subscriber handle: attach, receive into a buffer, read in place +
//! release (or keep), statistics, close.

use crate::broadcast_types::{BroadcastOptions, BroadcastStats};
use crate::handle::{self, with_handle, Handle, Tag};
use crate::out;
use crate::place::{At, Place};
use crate::recv::{RecvHandle, RecvMode};
use crate::types::Wait;
use core::ffi::{c_char, c_int, c_void};
use ipcring::broadcast::{Builder, Subscriber};
use ipcring::OpenError;

/// A subscribing end of a broadcast topic, opaque to C. Made by `ipcring_sub_create`,
/// `_open` or `_open_or_create`, freed by `ipcring_sub_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct SubscriberHandle {
    tag: Tag,
    pub(crate) core: RecvHandle<Subscriber>,
}

impl Handle for SubscriberHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-BS\x01");
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
    out_handle: *mut *mut SubscriberHandle,
    how: fn(Builder) -> Result<Subscriber, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: BroadcastOptions| {
        Ok(SubscriberHandle {
            tag: Tag::new::<SubscriberHandle>(),
            core: RecvHandle::new(how(opts.builder(place)?)?),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, BroadcastOptions::defaults, out_handle, open) }
}

/// Creates the broadcast topic `name` and attaches to it as a subscriber. Fails with
/// `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// Options and results as `ipcring_pub_create`.
///
/// # Safety
/// As `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_create(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut SubscriberHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.create_subscriber()) }
}

/// Opens the existing broadcast topic `name` as one more subscriber, at the next message
/// published (or at the oldest one held, with `opts->from_oldest`).
///
/// Returns as `ipcring_pub_open` (`IPCRING_ERR_ROLE_TAKEN`: the topic has its
/// `max_subscribers`).
///
/// # Safety
/// As `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_open(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut SubscriberHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_subscriber()) }
}

/// Opens the broadcast topic `name` as a subscriber, creating it (with `opts`) if it does
/// not exist.
///
/// Returns any status of `ipcring_sub_create` and `ipcring_sub_open`.
///
/// # Safety
/// As `ipcring_pub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_open_or_create(
    name: *const c_char,
    opts: *const BroadcastOptions,
    out: *mut *mut SubscriberHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, |b| b.open_or_create_subscriber()) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// a subscriber and seals the memfd: an anonymous ring, as `ipcring_sub_create` makes a
/// named one, with the same options and results (`mode` does not apply). `fd` stays the
/// caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_sub_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_create_fd(
    fd: c_int,
    opts: *const BroadcastOptions,
    out: *mut *mut SubscriberHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.create_subscriber()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as a subscriber, as `ipcring_sub_open` opens a named one, with the same
/// options and results. `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_sub_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_open_fd(
    fd: c_int,
    opts: *const BroadcastOptions,
    out: *mut *mut SubscriberHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, |b| b.open_subscriber()) }
}

/// Detaches from the topic (publishers stop waiting for this subscriber), frees the handle
/// and sets `*handle` to NULL. A lent message is released. The topic itself stays (see
/// `ipcring_unlink`).
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a subscriber handle.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// subscriber create/open function and not closed. No other call may use the handle at
/// the same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_close(handle: *mut *mut SubscriberHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Receives the next message into the `cap` bytes at `buf`, waiting until one is
/// published, and stores its length in `*len`. Every subscriber receives every message.
///
/// If the message is longer than `cap`, returns `IPCRING_ERR_BUFFER_TOO_SMALL`, stores the
/// length needed in `*len` and keeps the message for this handle's next receive.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_BUFFER_TOO_SMALL`, `IPCRING_ERR_LAGGED` (lossy
/// topics: messages were overwritten before this subscriber read them; the next receive
/// resumes at the oldest one held), `IPCRING_ERR_EVICTED` (lossless topics with a
/// `max_lag_ns`), `IPCRING_ERR_DISCONNECTED` (every publisher is gone and nothing is
/// left), `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER`
/// (`len` NULL, or `buf` NULL with `cap` > 0) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live subscriber handle not used by another thread during the
/// call; `buf` is NULL or writable for `cap` bytes; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_recv(
    handle: *mut SubscriberHandle,
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

/// Like `ipcring_sub_recv`, but returns `IPCRING_ERR_EMPTY` at once when nothing new is
/// published.
///
/// # Safety
/// As `ipcring_sub_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_try_recv(
    handle: *mut SubscriberHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.recv(buf, cap, out(len)?, RecvMode::Try)) }
}

/// Like `ipcring_sub_recv`, but waits at most `timeout_ns` nanoseconds, then returns
/// `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_sub_recv`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_recv_timeout(
    handle: *mut SubscriberHandle,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    timeout_ns: u64,
) -> c_int {
    let how = RecvMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.recv(buf, cap, out(len)?, how)) }
}

/// Waits for the next message and lends it: `*data` points to its `*len` bytes until
/// `ipcring_sub_release` (which moves on to the next message), `ipcring_sub_keep` (which
/// keeps it for this handle's next receive) or close. In a lossless topic without a
/// `max_lag_ns` the bytes are the message in place in shared memory (publishers do not
/// reuse its slot before the release); otherwise they are a checked copy. While it is
/// lent, every other call on the handle but those returns `IPCRING_ERR_GRANT_PENDING`.
///
/// Returns as `ipcring_sub_recv`, without `IPCRING_ERR_BUFFER_TOO_SMALL`, and with
/// `IPCRING_ERR_NULL_POINTER` for a NULL `data` or `len`.
///
/// # Safety
/// As `ipcring_sub_recv`; `data` is NULL or writable for one pointer. The bytes at
/// `*data` may be read, not written, until release, keep or close.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_read(
    handle: *mut SubscriberHandle,
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

/// Like `ipcring_sub_read`, but returns `IPCRING_ERR_EMPTY` at once when nothing new is
/// published.
///
/// # Safety
/// As `ipcring_sub_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_try_read(
    handle: *mut SubscriberHandle,
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

/// Like `ipcring_sub_read`, but waits at most `timeout_ns` nanoseconds, then returns
/// `IPCRING_ERR_TIMEOUT`.
///
/// # Safety
/// As `ipcring_sub_read`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_read_timeout(
    handle: *mut SubscriberHandle,
    data: *mut *const c_void,
    len: *mut usize,
    timeout_ns: u64,
) -> c_int {
    let how = RecvMode::timeout_ns(timeout_ns);
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.lend(out(data)?, out(len)?, how)) }
}

/// Ends the loan of the message lent by `ipcring_sub_read` and moves on to the next one.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing lent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live subscriber handle not used by another thread during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_release(handle: *mut SubscriberHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.release()) }
}

/// Ends the loan of the message lent by `ipcring_sub_read` without moving on: the next
/// receive or read of this handle returns it again (in a lossy topic: unless it was
/// overwritten meanwhile).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NO_GRANT` (nothing lent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_sub_release`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_keep(handle: *mut SubscriberHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| h.core.keep()) }
}

/// Stores the topic's counters and geometry, and this subscriber's own `received` and
/// `missed`, in `*stats`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_sub_release`; `stats` is NULL or writable for one
/// `ipcring_broadcast_stats_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_stats(
    handle: *mut SubscriberHandle,
    stats: *mut BroadcastStats,
) -> c_int {
    let read = |h: &mut SubscriberHandle| {
        let stats = out(stats)?;
        let rx = h.core.rx()?;
        let s = BroadcastStats::new(rx.stats(), Some(rx.own_stats()));
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { stats.write(s) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, read) }
}

/// Stores the largest message of the topic (its slot size, in bytes) in `*max`: a buffer
/// of that size receives any message.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_GRANT_PENDING`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_sub_release`; `max` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_max_message(
    handle: *mut SubscriberHandle,
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
/// As `ipcring_sub_release`; `wait` is NULL or points to an initialised `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_sub_set_wait(
    handle: *mut SubscriberHandle,
    wait: *const Wait,
) -> c_int {
    let set = |h: &mut SubscriberHandle| {
        // SAFETY: NULL or initialised, per the contract.
        h.core.set_wait(unsafe { wait.as_ref() })
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
