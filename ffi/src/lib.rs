//! The C API of ipcring: `libipcring.so`, `libipcring.a` and `include/ipcring.h`.
//!
//! Every exported function is `extern "C"`, named `ipcring_*`, returns an `int` status
//! ([`Status`], 0 = success) unless it cannot fail, writes its results through
//! out-parameters, and runs its body under `catch_unwind`, so that no Rust panic crosses
//! into C. `ffi/README.md` states the conventions; `include/ipcring.h` is generated from
//! this crate by cbindgen (see `cbindgen.toml`) and checked for freshness by a test.
//!
//! Every create and open call finds its ring at a name, at a path (a name with a '/': a
//! file-backed ring) or, for the `_create_fd` and `_open_fd` calls, in a memfd (an
//! anonymous ring): [`place`] decides, for every kind and role; the header's preamble
//! (`header` in `cbindgen.toml`) says so to C.

#![deny(unsafe_op_in_unsafe_fn, missing_docs, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod anonymous;
mod blackboard;
mod board_reader;
mod board_writer;
mod broadcast_types;
mod consumer;
mod event;
mod event_fired;
mod event_listener;
mod event_notifier;
mod handle;
mod mpmc_consumer;
mod mpmc_producer;
mod place;
mod producer;
mod publisher;
mod recv;
mod send;
mod status;
mod subscriber;
mod types;
mod waitset;

pub use blackboard::{BoardEntry, BoardOptions};
pub use board_reader::BoardReaderHandle;
pub use board_writer::BoardWriterHandle;
pub use broadcast_types::{BroadcastOptions, BroadcastStats};
pub use consumer::{BatchFn, ConsumerHandle};
pub use event::{EventOptions, EventStats};
pub use event_fired::{EventDeparture, FiredReport, PartyKind};
pub use event_listener::ListenerHandle;
pub use event_notifier::NotifierHandle;
pub use mpmc_consumer::MpmcConsumerHandle;
pub use mpmc_producer::MpmcProducerHandle;
pub use producer::{Buf, ProducerHandle};
pub use publisher::PublisherHandle;
pub use status::Status;
pub use subscriber::SubscriberHandle;
pub use types::{MpmcOptions, MpmcStats, Options, Stats, Version, Wait, WaitKind};
pub use waitset::{Member, MemberKind, WaitSetHandle};

use core::ffi::{c_char, c_int, CStr};
use core::panic::AssertUnwindSafe;
use core::ptr::NonNull;
use status::Result;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Runs `f`, turning its result into a status code and a panic into
/// `IPCRING_ERR_INTERNAL`.
#[inline]
fn guard(f: impl FnOnce() -> Result<()>) -> c_int {
    Status::code(
        std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(Status::IPCRING_ERR_INTERNAL)),
    )
}

/// A required out-parameter: `IPCRING_ERR_NULL_POINTER` if it is NULL.
#[inline]
fn out<T>(p: *mut T) -> Result<NonNull<T>> {
    NonNull::new(p).ok_or(Status::IPCRING_ERR_NULL_POINTER)
}

/// A string from C: `IPCRING_ERR_NULL_POINTER` if it is NULL.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string that stays alive and unchanged for
/// `'a`.
unsafe fn cstr_arg<'a>(s: *const c_char) -> Result<&'a CStr> {
    if s.is_null() {
        return Err(Status::IPCRING_ERR_NULL_POINTER);
    }
    // SAFETY: not NULL, and NUL-terminated per the contract.
    Ok(unsafe { CStr::from_ptr(s) })
}

/// A ring name from C: a NUL-terminated UTF-8 string.
///
/// # Safety
/// As [`cstr_arg`].
unsafe fn name_arg<'a>(name: *const c_char) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    let name = unsafe { cstr_arg(name) }?;
    name.to_str().map_err(|_| Status::IPCRING_ERR_INVALID_NAME)
}

/// A path from C, its bytes as they are (a path need not be UTF-8).
fn path_of(s: &CStr) -> &Path {
    Path::new(OsStr::from_bytes(s.to_bytes()))
}

/// Options from C (`ipcring_options_t` or `ipcring_mpmc_options_t`), or `defaults()` for
/// NULL.
///
/// # Safety
/// `opts` is NULL or points to an initialised `O`.
unsafe fn options_arg<O: Copy>(opts: *const O, defaults: fn() -> O) -> Result<O> {
    if opts.is_null() {
        return Ok(defaults());
    }
    // SAFETY: not NULL, and initialised per the contract; the options are plain data.
    Ok(unsafe { opts.read() })
}

/// Input bytes from C: `len` bytes at `data`, which may be NULL when `len` is 0.
///
/// # Safety
/// `data` is NULL or valid for reads of `len` bytes that nobody writes for `'a`.
#[inline]
unsafe fn bytes_arg<'a>(data: *const core::ffi::c_void, len: usize) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(Status::IPCRING_ERR_NULL_POINTER);
    }
    if len > isize::MAX as usize {
        return Err(Status::IPCRING_ERR_TOO_LARGE);
    }
    // SAFETY: not NULL, `len` fits an allocation, and readable per the contract.
    Ok(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) })
}

/// Removes the ring `name` from the namespace (`/dev/shm/ipcring.<name>`). Processes that
/// have it open go on using it; its memory is freed when the last one closes it.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME`,
/// `IPCRING_ERR_NOT_FOUND`, `IPCRING_ERR_PERMISSION` or `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_unlink(name: *const c_char) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let name = unsafe { name_arg(name) }?;
        Ok(ipcring::unlink(name)?)
    })
}

/// Removes the file-backed ring at `path` (made by a create call given a path), as
/// `ipcring_unlink` removes a named ring: processes that have it open go on using it; its
/// blocks are freed when the last one closes it. Any path is taken as a path, with a '/'
/// or not.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME` (a path
/// that names no file), `IPCRING_ERR_NOT_FOUND`, `IPCRING_ERR_UNTRUSTED` (a symbolic link
/// or a special file: not removed), `IPCRING_ERR_NOT_READY`, `IPCRING_ERR_PERMISSION` or
/// `IPCRING_ERR_IO`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_remove_file_ring(path: *const c_char) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let path = unsafe { cstr_arg(path) }?;
        Ok(ipcring::remove_file_ring(path_of(path))?)
    })
}
