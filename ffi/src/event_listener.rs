//! The listener handle: create or open an event segment, wait for ids to fire (and peers
//! to leave) into a caller's report, close.

use crate::event::EventOptions;
use crate::event_fired::{check, FiredReport, Kept};
use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::status::{Result, Status};
use crate::types::Wait;
use core::ffi::{c_char, c_int};
use core::time::Duration;
use ipcring::event::{Builder, Listener};
use ipcring::OpenError;

/// A listener of an event segment, opaque to C. Made by `ipcring_listener_create`,
/// `_open` or `_open_or_create`, freed by `ipcring_listener_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct ListenerHandle {
    tag: Tag,
    pub(crate) listener: Listener,
    /// What the last wait found and C's arrays could not hold yet.
    kept: Kept,
}

impl Handle for ListenerHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-EL\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

impl ListenerHandle {
    /// Whether part of a report is kept for the next wait, which then gives it at once:
    /// a wait set counts such a listener ready.
    pub(crate) fn has_kept(&self) -> bool {
        self.kept.len() > 0
    }
}

/// Common body of the three ways to attach.
///
/// # Safety
/// As the exported functions that call it.
unsafe fn attach(
    at: At,
    opts: *const EventOptions,
    out_handle: *mut *mut ListenerHandle,
    how: fn(Builder) -> core::result::Result<Listener, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: EventOptions| -> Result<ListenerHandle> {
        let listener = how(opts.builder(place)?)?;
        Ok(ListenerHandle {
            tag: Tag::new::<ListenerHandle>(),
            kept: Kept::new(listener.ids()),
            listener,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, EventOptions::defaults, out_handle, open) }
}

/// Creates the event segment `name` with the geometry of `opts` (NULL: the defaults) and
/// attaches to it as a listener. A listener sees what fires from its attach on.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// Returns as `ipcring_notifier_create`.
///
/// # Safety
/// As `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_create(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut ListenerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::create_listener) }
}

/// Opens the existing event segment `name` as one more listener. `opts` (may be NULL)
/// gives the wait strategy and populate flag; its geometry and mode are ignored.
///
/// Returns as `ipcring_notifier_open` (`IPCRING_ERR_ROLE_TAKEN`: every listener slot is
/// held).
///
/// # Safety
/// As `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_open(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut ListenerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::open_listener) }
}

/// Opens the event segment `name` as a listener, creating it (with the geometry of
/// `opts`) if it does not exist.
///
/// Returns any status of `ipcring_notifier_create` and `ipcring_notifier_open`.
///
/// # Safety
/// As `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_open_or_create(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut ListenerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::open_or_create_listener) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// a listener and seals the memfd: an anonymous ring, as `ipcring_listener_create` makes a
/// named one, with the same options and results (`mode` does not apply). `fd` stays the
/// caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_listener_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_create_fd(
    fd: c_int,
    opts: *const EventOptions,
    out: *mut *mut ListenerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, Builder::create_listener) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as a listener, as `ipcring_listener_open` opens a named one, with the
/// same options and results. `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_listener_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_open_fd(
    fd: c_int,
    opts: *const EventOptions,
    out: *mut *mut ListenerHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, Builder::open_listener) }
}

/// Detaches from the segment, frees the handle (and what it kept of a report) and sets
/// `*handle` to NULL. The other listeners' next waits report the departure.
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a listener.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// listener create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_close(handle: *mut *mut ListenerHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// How a wait waits.
#[derive(Clone, Copy)]
enum How {
    Try,
    Block,
    Timeout(Duration),
}

/// Common body of `ipcring_listener_try_wait`, `_wait` and `_wait_timeout`.
///
/// # Safety
/// As `ipcring_listener_wait`.
unsafe fn wait(handle: *mut ListenerHandle, report: *mut FiredReport, how: How) -> c_int {
    let wait = |h: &mut ListenerHandle| {
        // SAFETY: NULL or a writable, initialised report, per the contract.
        let r = unsafe { report.as_mut() }.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
        check(r)?;
        if !h.has_kept() {
            let fired = match how {
                How::Try => h.listener.try_wait(),
                How::Block => h.listener.wait(),
                How::Timeout(d) => h.listener.wait_timeout(d),
            }?;
            h.kept.keep(fired);
        }
        // SAFETY: the report passed `check`, and its arrays are writable and apart from
        // the handle per the contract.
        unsafe { h.kept.give(r) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, wait) }
}

/// Reports what fired (and who left) since the last wait, without waiting: fills
/// `*report` (see `ipcring_fired_t`) and returns `IPCRING_OK`, or `IPCRING_ERR_EMPTY`
/// when nothing fired and nobody left. Costs one load of shared memory while nothing
/// happened (and, now and then, a system call to see whether a peer died).
///
/// If the last wait kept part of its report (its `more` was not 0), gives that part at
/// once instead, without looking for anything new.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_EMPTY`, `IPCRING_ERR_CORRUPTED` (a handle found the
/// segment corrupted), `IPCRING_ERR_NULL_POINTER` (`report` or one of its arrays NULL),
/// `IPCRING_ERR_INVALID_ARGUMENT` (`cap` or `dcap` 0) or `IPCRING_ERR_BAD_HANDLE`. On
/// failure (but a NULL `report`) `len`, `dlen` and `more` are 0 and nothing is lost.
///
/// # Safety
/// `handle` is NULL or a live listener not used by another thread during the call;
/// `report` is NULL or points to an initialised `ipcring_fired_t` whose `ids` and
/// `counts` are NULL or writable for `cap` elements and whose `departures` is NULL or
/// writable for `dcap` elements, none of which overlap each other, `*report` or the
/// handle.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_try_wait(
    handle: *mut ListenerHandle,
    report: *mut FiredReport,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { wait(handle, report, How::Try) }
}

/// Waits until an id fires or a peer leaves, then reports what fired (and who left) since
/// the last wait into `*report`, as `ipcring_listener_try_wait`. Waits with the handle's
/// wait strategy (spin, yield, then sleep on a futex, by default). A segment that every
/// notifier left is not an error: the departures are reported, and the next wait waits on.
/// A peer that dies is reported within about 20 ms.
///
/// Returns as `ipcring_listener_try_wait`, but never `IPCRING_ERR_EMPTY`.
///
/// # Safety
/// As `ipcring_listener_try_wait`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_wait(
    handle: *mut ListenerHandle,
    report: *mut FiredReport,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { wait(handle, report, How::Block) }
}

/// As `ipcring_listener_wait`, for at most `timeout_ns` nanoseconds: returns
/// `IPCRING_ERR_TIMEOUT` (`len`, `dlen` and `more` 0) if nothing fired and nobody left
/// by then.
///
/// # Safety
/// As `ipcring_listener_try_wait`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_wait_timeout(
    handle: *mut ListenerHandle,
    timeout_ns: u64,
    report: *mut FiredReport,
) -> c_int {
    let how = How::Timeout(Duration::from_nanos(timeout_ns));
    // SAFETY: forwarded contract.
    unsafe { wait(handle, report, how) }
}

/// Changes how the listener's blocking calls wait.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind),
/// `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live listener not used by another thread during the call;
/// `wait` is NULL or points to an initialised `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_listener_set_wait(
    handle: *mut ListenerHandle,
    wait: *const Wait,
) -> c_int {
    let change = |h: &mut ListenerHandle| {
        // SAFETY: NULL or initialised, per the contract.
        let wait = unsafe { wait.as_ref() }.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
        h.listener.set_wait_strategy(wait.strategy()?);
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, change) }
}
