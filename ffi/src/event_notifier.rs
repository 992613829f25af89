//! The notifier handle: create or open an event segment, fire ids, close.

use crate::event::EventOptions;
use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::status::Result;
use core::ffi::{c_char, c_int};
use ipcring::event::{Builder, Notifier};
use ipcring::OpenError;

/// A notifier of an event segment, opaque to C. Made by `ipcring_notifier_create`,
/// `_open` or `_open_or_create`, freed by `ipcring_notifier_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct NotifierHandle {
    tag: Tag,
    pub(crate) notifier: Notifier,
}

impl Handle for NotifierHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-EN\x01");
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
    opts: *const EventOptions,
    out_handle: *mut *mut NotifierHandle,
    how: fn(Builder) -> core::result::Result<Notifier, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: EventOptions| -> Result<NotifierHandle> {
        Ok(NotifierHandle {
            tag: Tag::new::<NotifierHandle>(),
            notifier: how(opts.builder(place)?)?,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, EventOptions::defaults, out_handle, open) }
}

/// Creates the event segment `name` (the shared-memory object `/dev/shm/ipcring.<name>`)
/// with the geometry of `opts` (NULL: the defaults) and attaches to it as a notifier.
/// Fails with `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// On success `*out` is the new handle, to be freed with `ipcring_notifier_close`; on
/// failure it is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER` (`name` or `out` NULL),
/// `IPCRING_ERR_INVALID_NAME`, `IPCRING_ERR_INVALID_GEOMETRY` (`ids` not from 1 to
/// `IPCRING_EVENT_MAX_IDS`, `notifiers` or `listeners` not from 1 to
/// `IPCRING_MPMC_MAX_ROLE_SLOTS`), `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind, bad
/// mode), `IPCRING_ERR_EXISTS`, `IPCRING_ERR_NO_SPACE`, `IPCRING_ERR_PERMISSION`,
/// `IPCRING_ERR_UNTRUSTED` or `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_event_options_t`; `out` is NULL or points to writable memory for one pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_create(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut NotifierHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::create_notifier) }
}

/// Opens the existing event segment `name` as one more notifier. `opts` (may be NULL)
/// gives the populate flag (and its wait kind is checked); its geometry and mode are
/// ignored.
///
/// Returns as `ipcring_notifier_create`, with `IPCRING_ERR_NOT_FOUND`,
/// `IPCRING_ERR_ROLE_TAKEN` (as many notifiers as the segment has notifier slots are
/// attached), `IPCRING_ERR_NOT_IPCRING` (also: a ring of another kind of that name),
/// `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT` and `IPCRING_ERR_NOT_READY`
/// instead of `IPCRING_ERR_EXISTS` and `IPCRING_ERR_INVALID_GEOMETRY`.
///
/// # Safety
/// As `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_open(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut NotifierHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::open_notifier) }
}

/// Opens the event segment `name` as a notifier, creating it (with the geometry of
/// `opts`) if it does not exist.
///
/// Returns any status of `ipcring_notifier_create` and `ipcring_notifier_open`.
///
/// # Safety
/// As `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_open_or_create(
    name: *const c_char,
    opts: *const EventOptions,
    out: *mut *mut NotifierHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, Builder::open_or_create_notifier) }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// a notifier and seals the memfd: an anonymous ring, as `ipcring_notifier_create` makes a
/// named one, with the same options and results (`mode` does not apply). `fd` stays the
/// caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_notifier_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_create_fd(
    fd: c_int,
    opts: *const EventOptions,
    out: *mut *mut NotifierHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, Builder::create_notifier) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as a notifier, as `ipcring_notifier_open` opens a named one, with the
/// same options and results. `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_notifier_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_open_fd(
    fd: c_int,
    opts: *const EventOptions,
    out: *mut *mut NotifierHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, Builder::open_notifier) }
}

/// Detaches from the segment, frees the handle and sets `*handle` to NULL. Every
/// listener's next wait reports the departure (`IPCRING_PARTY_NOTIFIER` and this
/// handle's slot); the segment stays (see `ipcring_unlink`).
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a notifier.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a
/// notifier create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notifier_close(handle: *mut *mut NotifierHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Fires event `id`: every listener's next wait reports it, once, with the number of times
/// it fired since that listener's wait before. Never waits; makes a wake-up system call
/// only when a listener sleeps. What this thread wrote before is visible to a listener
/// once it saw `id` fire.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_UNKNOWN_ID` (`id` not below the segment's number of
/// ids: see `ipcring_event_ids`; nothing was sent) or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live notifier not used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn ipcring_notify(handle: *mut NotifierHandle, id: u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, |h| Ok(h.notifier.notify(id)?)) }
}
