//! The blackboard reader handle: open a board, get entries' values into C buffers, their
//! versions, wait for a change, close.

use crate::blackboard::BoardOptions;
use crate::handle::{self, with_handle, Handle, Tag};
use crate::out;
use crate::place::{At, Place};
use crate::status::{Result, Status};
use core::ffi::{c_char, c_int, c_void};
use core::time::Duration;
use ipcring::blackboard::Reader;

/// A reader of a blackboard, opaque to C. Made by `ipcring_board_reader_open`, freed by
/// `ipcring_board_reader_close`.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[derive(Debug)]
#[repr(C)]
pub struct BoardReaderHandle {
    tag: Tag,
    pub(crate) reader: Reader,
    /// The value of a get, copied whole out of the board before any of it is given to C:
    /// a value that does not fit the caller's buffer leaves the buffer untouched. Kept
    /// between calls, so that gets make no allocation once it has grown.
    value: Vec<u8>,
}

impl Handle for BoardReaderHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-BR\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

/// Opens the existing blackboard `name` (a board name, or a path with a '/': a
/// file-backed board) as a reader. Readers take no slot: any number may
/// read a board, and writers never wait for them. `opts` (may be NULL) gives the wait
/// strategy and populate flag; its entries, `writers` and mode are ignored (and not
/// read).
///
/// On success `*out` is the new handle, to be freed with `ipcring_board_reader_close`;
/// on failure it is NULL.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME`,
/// `IPCRING_ERR_INVALID_ARGUMENT` (unknown wait kind), `IPCRING_ERR_NOT_FOUND`,
/// `IPCRING_ERR_NOT_IPCRING` (also: a ring of another kind of that name),
/// `IPCRING_ERR_VERSION_MISMATCH`, `IPCRING_ERR_BAD_SEGMENT`, `IPCRING_ERR_NOT_READY`,
/// `IPCRING_ERR_PERMISSION`, `IPCRING_ERR_UNTRUSTED` or `IPCRING_ERR_IO`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `opts` is NULL or points to an initialised
/// `ipcring_board_options_t`; `out` is NULL or points to writable memory for one pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_reader_open(
    name: *const c_char,
    opts: *const BoardOptions,
    out: *mut *mut BoardReaderHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Name(name), opts, out) }
}

/// Opens the anonymous blackboard in the memfd `fd` (made by
/// `ipcring_board_writer_create_fd`, here or in another process) as a reader, as
/// `ipcring_board_reader_open` opens a named one, with the same options and results. `fd`
/// stays the caller's. See "Anonymous rings" in the header's preamble for what `fd` may be.
///
/// # Safety
/// `fd` is a descriptor that no other thread closes during the call; `opts` and `out` as
/// `ipcring_board_reader_open`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_reader_open_fd(
    fd: c_int,
    opts: *const BoardOptions,
    out: *mut *mut BoardReaderHandle,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { attach(At::Fd(fd), opts, out) }
}

/// Common body of the two ways to open.
///
/// # Safety
/// As the exported functions that call it.
unsafe fn attach(
    at: At,
    opts: *const BoardOptions,
    out_handle: *mut *mut BoardReaderHandle,
) -> c_int {
    let open = |place: &Place, opts: BoardOptions| -> Result<BoardReaderHandle> {
        // SAFETY: not creating: the entries are not read.
        let b = unsafe { opts.builder(place, false) }?;
        Ok(BoardReaderHandle {
            tag: Tag::new::<BoardReaderHandle>(),
            reader: b.open_reader()?,
            value: Vec::new(),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { handle::attach(at, opts, BoardOptions::defaults, out_handle, open) }
}

/// Detaches from the board, frees the handle and sets `*handle` to NULL.
///
/// A NULL `*handle` is a no-op that returns `IPCRING_OK`. Returns
/// `IPCRING_ERR_NULL_POINTER` if `handle` is NULL and `IPCRING_ERR_BAD_HANDLE` if
/// `*handle` is not a board reader.
///
/// # Safety
/// `handle` is NULL or points to a handle pointer that is NULL or was returned by
/// `ipcring_board_reader_open` and not closed. No other call may use the handle at the
/// same time, nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_reader_close(handle: *mut *mut BoardReaderHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(handle) }
}

/// Common body of `ipcring_board_get` and `_try_get`.
///
/// # Safety
/// As `ipcring_board_get`.
unsafe fn get(
    handle: *mut BoardReaderHandle,
    key: usize,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    version: *mut u64,
    block: bool,
) -> c_int {
    let get = |h: &mut BoardReaderHandle| {
        let len = out(len)?;
        if buf.is_null() && cap > 0 {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        let v = if block {
            h.reader.get_into(key, &mut h.value)
        } else {
            h.reader.try_get_into(key, &mut h.value)
        }?;
        let n = h.value.len();
        if n > cap {
            // SAFETY: a non-NULL out-parameter, writable per the contract.
            unsafe { len.write(n) };
            return Err(Status::IPCRING_ERR_BUFFER_TOO_SMALL);
        }
        if n > 0 {
            // SAFETY: `buf` is not NULL (`cap` >= `n` > 0) and writable for `cap` bytes per
            // the contract, and does not overlap the handle's own buffer.
            unsafe { core::ptr::copy_nonoverlapping(h.value.as_ptr(), buf.cast::<u8>(), n) };
        }
        // SAFETY: as above.
        unsafe { len.write(n) };
        if let Ok(version) = out(version) {
            // SAFETY: a non-NULL out-parameter, writable per the contract.
            unsafe { version.write(v) };
        }
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, get) }
}

/// Copies the newest value of entry `key` into the `cap` bytes at `buf`, stores its
/// length in `*len` and, if `version` is not NULL, its version in `*version` (see
/// `ipcring_board_version`). The value is one that a writer set, whole. If a writer is in
/// the middle of setting the entry, waits until it is done (as long as copying a value
/// takes), until it is found dead, or a second at most (a writer stopped in the middle of
/// a write: `IPCRING_ERR_BUSY`).
///
/// If the value is longer than `cap`, returns `IPCRING_ERR_BUFFER_TOO_SMALL` and stores
/// the length needed in `*len`; nothing else is written (`buf` NULL with `cap` 0 asks
/// for the length; a writer may set a longer value before the next call: a buffer of
/// `ipcring_board_max_size` bytes always fits).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_BUFFER_TOO_SMALL`, `IPCRING_ERR_UNKNOWN_KEY` (no
/// entry `key`), `IPCRING_ERR_NOT_SET` (never set), `IPCRING_ERR_ABANDONED` (a writer
/// died in the middle of setting it: readable again once a writer sets it),
/// `IPCRING_ERR_BUSY`, `IPCRING_ERR_CORRUPTED`, `IPCRING_ERR_NULL_POINTER` (`len` NULL, or `buf` NULL with
/// `cap` > 0) or `IPCRING_ERR_BAD_HANDLE`. On failure but `IPCRING_ERR_BUFFER_TOO_SMALL`
/// nothing is written.
///
/// # Safety
/// `handle` is NULL or a live board reader not used by another thread during the call;
/// `buf` is NULL or writable for `cap` bytes; `len` and `version` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_get(
    handle: *mut BoardReaderHandle,
    key: usize,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    version: *mut u64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get(handle, key, buf, cap, len, version, true) }
}

/// Like `ipcring_board_get`, but returns `IPCRING_ERR_BUSY` at once (after a few tries
/// that take about as long as a write) when a live writer is in the middle of setting the
/// entry.
///
/// # Safety
/// As `ipcring_board_get`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_try_get(
    handle: *mut BoardReaderHandle,
    key: usize,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    version: *mut u64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get(handle, key, buf, cap, len, version, false) }
}

/// Stores in `*version` the version of entry `key`'s newest complete value: how many
/// times it was set (0: never). Versions only grow; a value other than one seen before
/// means the entry changed. No system call, no wait.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_UNKNOWN_KEY`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `handle` is NULL or a live board reader not used by another thread during the call;
/// `version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_version(
    handle: *mut BoardReaderHandle,
    key: usize,
    version: *mut u64,
) -> c_int {
    let get = |h: &mut BoardReaderHandle| {
        let version = out(version)?;
        let v = h.reader.version(key)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { version.write(v) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, get) }
}

/// Waits until entry `key` has a version other than `since` (the version a get or
/// `ipcring_board_version` returned; 0 waits for the first set), for at most
/// `timeout_ns` nanoseconds (negative: no deadline, as `ipcring_waitset_wait`), and
/// stores the new version in `*version`; then get the value. Returns at once if the
/// version differs already. Sleeps on the entry's futex: the writer makes a wake-up
/// system call only when a reader sleeps. (To wait for one of several entries, or beside
/// other handles, use a wait set with `IPCRING_MEMBER_BOARD_CHANGED` members.)
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_TIMEOUT`, `IPCRING_ERR_UNKNOWN_KEY`,
/// `IPCRING_ERR_ABANDONED` (the entry's writer died while setting it),
/// `IPCRING_ERR_DISCONNECTED` (every writer that attached is gone, so nothing will
/// change until one attaches again), `IPCRING_ERR_NULL_POINTER` (`version` NULL) or
/// `IPCRING_ERR_BAD_HANDLE`. On failure `*version` is not written.
///
/// # Safety
/// `handle` is NULL or a live board reader not used by another thread during the call;
/// `version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_wait_changed(
    handle: *mut BoardReaderHandle,
    key: usize,
    since: u64,
    timeout_ns: i64,
    version: *mut u64,
) -> c_int {
    let timeout = u64::try_from(timeout_ns).ok().map(Duration::from_nanos);
    let wait = |h: &mut BoardReaderHandle| {
        let version = out(version)?;
        let v = h.reader.wait_changed(key, since, timeout)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { version.write(v) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(handle, wait) }
}
