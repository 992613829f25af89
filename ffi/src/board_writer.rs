//! The blackboard writer handle: create or open a board, set entries' values, close.

use crate::blackboard::BoardOptions;
use crate::handle::{self, with_handle, Handle, Tag};
use crate::place::{At, Place};
use crate::status::Result;
use crate::{bytes_arg, out};
use core::ffi::{c_char, c_int, c_void};
use ipcring::blackboard::{Builder, Writer};
use ipcring::OpenError;

/// A writer of a blackboard, opaque to C. Made by `ipcring_board_writer_create`, `_open`
/// or `_open_or_create`, freed by `ipcring_board_writer_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct BoardWriterHandle {
    tag: Tag,
    pub(crate) writer: Writer,
}

impl Handle for BoardWriterHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-BW\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

/// Common body of the three ways to attach; `creating`: whether `how` may create the
/// board (the entries of the options are read only then).
///
/// # Safety
/// As the exported functions that call it.
unsafe fn attach(
    at: At,
    opts: *const BoardOptions,
    out_handle: *mut *mut BoardWriterHandle,
    creating: bool,
    how: fn(Builder) -> core::result::Result<Writer, OpenError>,
) -> c_int {
    let open = |place: &Place, opts: BoardOptions| -> Result<BoardWriterHandle> {
        // SAFETY: the entries are as the contract of the exported function says.
        let b = unsafe { opts.builder(place, creating) }?;
        Ok(BoardWriterHandle {
            tag: Tag::new::<BoardWriterHandle>(),
            writer: how(b)?,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, BoardOptions::defaults, out_handle, open) }
}

/// Creates the blackboard `name` (the shared-memory object `/dev/shm/ipcring.<name>`)
/// with the entries of `opts`, every one unset (version 0), and attaches to it as one of
/// its writers. Fails with `IPCRING_ERR_EXISTS` if it exists already.
///
/// `name`: a ring name, or a path with a '/' (a file-backed ring).
///
/// `opts` is required here (a board needs entries): fill it with
/// `ipcring_board_options_init`, then set `entries` and `n_entries`. On success `*out` is
/// the new handle, to be freed with `ipcring_board_writer_close`; on failure it is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER` (`name` or `out` NULL, or `entries`
/// NULL with `n_entries` > 0), `IPCRING_ERR_INVALID_NAME`, `IPCRING_ERR_INVALID_GEOMETRY`
/// (no entries or more than `IPCRING_BOARD_MAX_ENTRIES`, a `max_size` out of range, a key
/// longer than `IPCRING_BOARD_MAX_KEY_LEN`, not UTF-8 or repeated, `writers` 0 or over
/// `IPCRING_MPMC_MAX_ROLE_SLOTS`), `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind, bad
/// mode), `IPCRING_ERR_EXISTS`, `IPCRING_ERR_NO_SPACE`, `IPCRING_ERR_PERMISSION`,
/// `IPCRING_ERR_UNTRUSTED` or `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_board_options_t` whose `entries` is NULL or points to `n_entries` initialised
/// entries, each of whose `key` is NULL or a NUL-terminated string; `out` is NULL or
/// points to writable memory for one pointer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_create(
    name: *const c_char,
    opts: *const BoardOptions,
    out: *mut *mut BoardWriterHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, true, |b| b.create_writer()) }
}

/// Opens the existing blackboard `name` as one more writer. `opts` (may be NULL) gives
/// the wait strategy and populate flag; its entries, `writers` and mode are ignored (and
/// not read).
///
/// Returns as `ipcring_board_writer_create`, with `IPCRING_ERR_NOT_FOUND`,
/// `IPCRING_ERR_ROLE_TAKEN` (as many writers as the board has writer slots are
/// attached), `IPCRING_ERR_NOT_IPCRING` (also: a ring of another kind of that name),
/// `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT` and `IPCRING_ERR_NOT_READY`
/// instead of `IPCRING_ERR_EXISTS` and `IPCRING_ERR_INVALID_GEOMETRY`.
///
/// # Safety
/// As `ipcring_board_writer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_open(
    name: *const c_char,
    opts: *const BoardOptions,
    out: *mut *mut BoardWriterHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out, false, |b| b.open_writer()) }
}

/// Opens the blackboard `name` as a writer, creating it (with the entries of `opts`) if
/// it does not exist. The entries are checked (and read) in either case.
///
/// Returns any status of `ipcring_board_writer_create` and `ipcring_board_writer_open`.
///
/// # Safety
/// As `ipcring_board_writer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_open_or_create(
    name: *const c_char,
    opts: *const BoardOptions,
    out: *mut *mut BoardWriterHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        attach(At::Name(name), opts, out, true, |b| {
            b.open_or_create_writer()
        })
    }
}

/// Creates a ring in the memfd `fd` (empty: see `ipcring_memfd_create`), attaches to it as
/// one of its writers and seals the memfd: an anonymous ring, as
/// `ipcring_board_writer_create` makes a named one, with the same options and results
/// (`mode` does not apply). `fd` stays the caller's. See "Anonymous rings" in the header's
/// preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_board_writer_create`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_create_fd(
    fd: c_int,
    opts: *const BoardOptions,
    out: *mut *mut BoardWriterHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, true, |b| b.create_writer()) }
}

/// Opens the anonymous ring in the memfd `fd` (made by a `_create_fd` call, here or in
/// another process) as one of its writers, as `ipcring_board_writer_open` opens a named
/// one, with the same options and results. `fd` stays the caller's. See "Anonymous rings"
/// in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_board_writer_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_open_fd(
    fd: c_int,
    opts: *const BoardOptions,
    out: *mut *mut BoardWriterHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out, false, |b| b.open_writer()) }
}

/// Detaches from the board, frees the handle and sets `*handle` to NULL. The values stay
/// (readers go on getting them) and so does the board (see `ipcring_unlink`); readers
/// waiting for a change learn at once when no writer is left
/// (`IPCRING_ERR_DISCONNECTED`).
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a board writer.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by a board
/// writer create/open function and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_writer_close(handle: *mut *mut BoardWriterHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Sets the value of entry `key` (an index: see `ipcring_board_key`) to the `len` bytes
/// at `data` (0 bytes is a value too), and stores the entry's new version in `*version`
/// if `version` is not NULL. Readers then get this value, whole (never part of it and
/// part of another), and those that wait for a change of the entry are woken.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_UNKNOWN_KEY` (no entry `key`),
/// `IPCRING_ERR_TOO_LARGE` (`len` over the entry's `max_size`), `IPCRING_ERR_BUSY`
/// (another live writer of a board with several held the entry for a second),
/// `IPCRING_ERR_NULL_POINTER` (`data` NULL with `len` > 0) or `IPCRING_ERR_BAD_HANDLE`.
/// On failure nothing is set and `*version` is not written.
///
/// # Safety
/// `handle` is NULL or a live board writer not used by another thread during the call;
/// `data` is NULL or readable for `len` bytes; `version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_set(
    handle: *mut BoardWriterHandle,
    key: usize,
    data: *const c_void,
    len: usize,
    version: *mut u64,
) -> c_int {
    let set = |h: &mut BoardWriterHandle| {
        // SAFETY: forwarded contract.
        let value = unsafe { bytes_arg(data, len) }?;
        let v = h.writer.set(key, value)?;
        if let Ok(version) = out(version) {
            // SAFETY: a non-NULL out-parameter, writable per the contract.
            unsafe { version.write(v) };
        }
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, set) }
}
