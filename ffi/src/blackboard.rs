//! The C types of blackboards (options, entries, limits) and the calls that writers and
//! readers share: the number of entries, an entry's largest value, a key's index.

use crate::board_reader::BoardReaderHandle;
use crate::board_writer::BoardWriterHandle;
use crate::handle::{with_handle, Handle};
use crate::out;
use crate::place::Place;
use crate::status::{Result, Status};
use crate::types::Wait;
use core::ffi::{c_char, c_int, c_void, CStr};
use ipcring::blackboard::{self, Builder};

/// Most entries of a blackboard.
pub const IPCRING_BOARD_MAX_ENTRIES: usize = 4096;
/// Largest value of one entry of a blackboard, in bytes (256 MiB).
pub const IPCRING_BOARD_MAX_VALUE_SIZE: usize = 0x1000_0000;
/// Longest key of a blackboard's entry, in bytes (without the terminating NUL).
pub const IPCRING_BOARD_MAX_KEY_LEN: usize = 32;

const _: () = {
    assert!(IPCRING_BOARD_MAX_ENTRIES == blackboard::MAX_ENTRIES);
    assert!(IPCRING_BOARD_MAX_VALUE_SIZE == blackboard::MAX_VALUE_SIZE);
    assert!(IPCRING_BOARD_MAX_KEY_LEN == blackboard::MAX_KEY_LEN);
};

/// One entry of a blackboard being created: its key and its largest value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BoardEntry {
    /// The entry's name, for `ipcring_board_key`: a NUL-terminated UTF-8 string of up to
    /// `IPCRING_BOARD_MAX_KEY_LEN` bytes, unique in the board; NULL or "" for none (the
    /// entry is then known by its index only).
    pub key: *const c_char,
    /// Largest value, in bytes: from 1 to `IPCRING_BOARD_MAX_VALUE_SIZE`.
    pub max_size: usize,
}

/// Options for creating or opening a blackboard. Fill it with
/// `ipcring_board_options_init`, then change what you need. The entries, `writers` and
/// `mode` matter only when creating.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BoardOptions {
    /// The entries, in index order: entry `i` is `entries[i]`. Read during the create call
    /// only. NULL with `n_entries` 0 (the default, which a create refuses).
    pub entries: *const BoardEntry,
    /// How many entries `entries` holds: from 1 to `IPCRING_BOARD_MAX_ENTRIES`.
    pub n_entries: usize,
    /// How many writers may be attached at once: 1 (the default) to
    /// `IPCRING_MPMC_MAX_ROLE_SLOTS`. With more than one, each set claims its entry, so
    /// that two writers never write one entry at once.
    pub writers: usize,
    /// Permission bits of a created board: 0600 (the default) or 0600 with group bits
    /// (0660 lets the group in), exactly, whatever the umask. Bits for other users, or a
    /// mode without the owner's read and write, give `IPCRING_ERR_INVALID_ARGUMENT`.
    pub mode: u32,
    /// Non-zero: fault in every page when mapping.
    pub populate: c_int,
    /// How the handle's blocking calls (`ipcring_board_get`, `ipcring_board_wait_changed`,
    /// a set that waits for another writer's claim) wait.
    pub wait: Wait,
}

impl BoardOptions {
    /// The builder of these options; with the entries if `creating` (they are read only
    /// then).
    ///
    /// # Safety
    /// If `creating`: `entries` is NULL or points to `n_entries` initialised entries, each
    /// of whose `key` is NULL or a NUL-terminated string.
    pub(crate) unsafe fn builder(&self, place: &Place, creating: bool) -> Result<Builder> {
        let mut b = place
            .builder()
            .writers(self.writers)
            .mode(self.mode)
            .populate(self.populate != 0)
            .wait_strategy(self.wait.strategy()?);
        if !creating {
            return Ok(b);
        }
        // More entries than a board may have: refused before the array is read.
        if self.n_entries > IPCRING_BOARD_MAX_ENTRIES {
            return Err(Status::IPCRING_ERR_INVALID_GEOMETRY);
        }
        if self.n_entries > 0 && self.entries.is_null() {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        let entries: &[BoardEntry] = match self.n_entries {
            0 => &[],
            // SAFETY: not NULL, and `n_entries` (at most 4096) initialised entries per the
            // contract.
            n => unsafe { core::slice::from_raw_parts(self.entries, n) },
        };
        for e in entries {
            let key = if e.key.is_null() {
                ""
            } else {
                // SAFETY: a NUL-terminated string per the contract.
                let key = unsafe { CStr::from_ptr(e.key) };
                // A key that is not UTF-8 is out of range, as one too long.
                key.to_str()
                    .map_err(|_| Status::IPCRING_ERR_INVALID_GEOMETRY)?
            };
            b = b.entry(key, e.max_size);
        }
        Ok(b)
    }

    /// The options that `ipcring_board_options_init` fills in.
    pub(crate) fn defaults() -> BoardOptions {
        BoardOptions {
            entries: core::ptr::null(),
            n_entries: 0,
            writers: 1,
            mode: 0o600,
            populate: 0,
            wait: Wait::default_strategy(),
        }
    }
}

/// Fills `*opts` with the default blackboard options: no entries (set `entries` and
/// `n_entries` before creating), one writer, mode 0600, no populate, the default
/// spin-then-park wait.
///
/// Returns `IPCRING_OK`, or `IPCRING_ERR_NULL_POINTER` if `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `ipcring_board_options_t`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_options_init(opts: *mut BoardOptions) -> c_int {
    crate::guard(|| {
        let opts = out(opts)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { opts.write(BoardOptions::defaults()) };
        Ok(())
    })
}

/// Either side of a board, for the calls that both answer.
enum Side<'a> {
    Writer(&'a blackboard::Writer),
    Reader(&'a blackboard::Reader),
}

impl Side<'_> {
    fn key(&self, name: &str) -> Option<usize> {
        match self {
            Side::Writer(w) => w.key(name),
            Side::Reader(r) => r.key(name),
        }
    }

    fn entries(&self) -> usize {
        match self {
            Side::Writer(w) => w.entries(),
            Side::Reader(r) => r.entries(),
        }
    }

    fn max_size(&self, key: usize) -> Option<usize> {
        match self {
            Side::Writer(w) => w.max_size(key),
            Side::Reader(r) => r.max_size(key),
        }
    }
}

/// Runs `f` on the board writer or reader behind `h`, as [`with_handle`] checks it: NULL
/// or a handle of neither kind gives `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `h` is NULL or a live handle of this library (a board writer or reader, else it is
/// refused on a best-effort basis, as a handle of the wrong kind is in every call) not
/// used by another thread during the call.
unsafe fn with_side(h: *mut c_void, f: impl FnOnce(Side<'_>) -> Result<()>) -> c_int {
    if h.is_null() {
        return Status::IPCRING_ERR_BAD_HANDLE as c_int;
    }
    // SAFETY: a live handle of this library per the contract: `repr(C)` with its tag, and
    // so its magic number, first.
    let magic = unsafe { h.cast::<u64>().read() };
    if magic == BoardWriterHandle::MAGIC {
        // SAFETY: a live board writer (its magic number says so), per the contract;
        // `with_handle` checks it again.
        unsafe {
            with_handle(h.cast::<BoardWriterHandle>(), |w| {
                f(Side::Writer(&w.writer))
            })
        }
    } else if magic == BoardReaderHandle::MAGIC {
        // SAFETY: a live board reader, as above.
        unsafe {
            with_handle(h.cast::<BoardReaderHandle>(), |r| {
                f(Side::Reader(&r.reader))
            })
        }
    } else {
        Status::IPCRING_ERR_BAD_HANDLE as c_int
    }
}

/// Stores in `*index` the index of the entry whose key is `key` (the index that
/// `ipcring_board_set`, `_get` and the others take). `handle` is an
/// `ipcring_board_writer_t *` or an `ipcring_board_reader_t *`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_UNKNOWN_KEY` (no entry has this key; "" never
/// matches), `IPCRING_ERR_NULL_POINTER` (`key` or `index` NULL) or
/// `IPCRING_ERR_BAD_HANDLE` (NULL, or neither a board writer nor a board reader).
///
/// # Safety
/// `handle` is NULL or a live handle of this library not used by another thread during
/// the call; `key` is NULL or a NUL-terminated string; `index` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_key(
    handle: *mut c_void,
    key: *const c_char,
    index: *mut usize,
) -> c_int {
    let find = |side: Side<'_>| {
        let index = out(index)?;
        if key.is_null() {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        // SAFETY: not NULL, and NUL-terminated per the contract.
        let key = unsafe { CStr::from_ptr(key) };
        // A key that is not UTF-8 is no entry's.
        let i = key.to_str().ok().and_then(|k| side.key(k));
        let i = i.ok_or(Status::IPCRING_ERR_UNKNOWN_KEY)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { index.write(i) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_side(handle, find) }
}

/// Stores in `*count` how many entries the board has (their indices are `0..count`).
/// `handle` is an `ipcring_board_writer_t *` or an `ipcring_board_reader_t *`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_board_key`; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_entries(handle: *mut c_void, count: *mut usize) -> c_int {
    let get = |side: Side<'_>| {
        let count = out(count)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { count.write(side.entries()) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_side(handle, get) }
}

/// Stores in `*max` the largest value of entry `key`, in bytes: a buffer of that size
/// gets any of its values. `handle` is an `ipcring_board_writer_t *` or an
/// `ipcring_board_reader_t *`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_UNKNOWN_KEY`, `IPCRING_ERR_NULL_POINTER` or
/// `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// As `ipcring_board_key`; `max` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_board_max_size(
    handle: *mut c_void,
    key: usize,
    max: *mut usize,
) -> c_int {
    let get = |side: Side<'_>| {
        let max = out(max)?;
        let m = side.max_size(key).ok_or(Status::IPCRING_ERR_UNKNOWN_KEY)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { max.write(m) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_side(handle, get) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_make_no_entries_and_one_writer() {
        let o = BoardOptions::defaults();
        assert!(o.entries.is_null());
        assert_eq!((o.n_entries, o.writers), (0, 1));
        assert_eq!(o.wait.strategy(), Ok(ipcring::WaitStrategy::default()));
    }

    #[test]
    fn too_many_entries_are_refused_before_the_array_is_read() {
        let o = BoardOptions {
            n_entries: IPCRING_BOARD_MAX_ENTRIES + 1,
            // Never read: the count is refused first.
            entries: core::ptr::NonNull::dangling().as_ptr(),
            ..BoardOptions::defaults()
        };
        // SAFETY: the entries are not read (see above).
        let b = unsafe { o.builder(&Place::Name("never-made"), true) };
        assert_eq!(b.err(), Some(Status::IPCRING_ERR_INVALID_GEOMETRY));
    }
}
