//! Status codes, their messages, and the mapping from the library's error enums.

use core::ffi::{c_char, c_int};
use ipcring::blackboard::{GetError, SetError};
use ipcring::event::NotifyError;
use ipcring::{OpenError, RecvError, SendError};

/// The status codes that every `int`-returning function of this API returns: 0 on
/// success, one of the positive values below on failure. `ipcring_strerror` describes
/// each in words.
//
// The variants carry their C names in Rust too: cbindgen copies them as they are.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum Status {
    /// Success.
    IPCRING_OK = 0,
    /// A required pointer argument is NULL.
    IPCRING_ERR_NULL_POINTER = 1,
    /// The handle is NULL (for example already closed through `*_close(&handle)`) or is
    /// not a live handle of this kind.
    IPCRING_ERR_BAD_HANDLE = 2,
    /// The ring name is not valid UTF-8, is empty or longer than `IPCRING_MAX_NAME_LEN`
    /// bytes; or a path (a name with a '/') names no file (it ends in '/'); or a memfd's
    /// label is not UTF-8 or too long.
    IPCRING_ERR_INVALID_NAME = 3,
    /// An argument is out of range: an unknown wait kind, a commit longer than the
    /// reservation, a mode that gives other users access or lacks the owner's read and
    /// write, an unknown wait set member kind.
    IPCRING_ERR_INVALID_ARGUMENT = 4,
    /// The capacity is not a power of two from `IPCRING_MIN_CAPACITY` to
    /// `IPCRING_MAX_CAPACITY`.
    IPCRING_ERR_INVALID_CAPACITY = 5,
    /// `create` found a ring of that name or path already, or a memfd not empty.
    IPCRING_ERR_EXISTS = 6,
    /// `open` found no ring of that name or path, or an empty memfd (no ring created in
    /// it yet).
    IPCRING_ERR_NOT_FOUND = 7,
    /// The operating system refused access to the ring (errno EACCES or EPERM).
    IPCRING_ERR_PERMISSION = 8,
    /// The object is not an ipcring segment, or holds another kind of ring.
    IPCRING_ERR_NOT_IPCRING = 9,
    /// The ring was made by an incompatible version of ipcring (ABI major version or
    /// layout differs).
    IPCRING_ERR_VERSION_MISMATCH = 10,
    /// The segment is inconsistent: its header size, geometry or length is wrong.
    IPCRING_ERR_BAD_SEGMENT = 11,
    /// The ring's creator did not finish initialising it in time (it may have died).
    IPCRING_ERR_NOT_READY = 12,
    /// Another live handle holds this role (producer or consumer) on the ring.
    IPCRING_ERR_ROLE_TAKEN = 13,
    /// No memory is left to back the ring.
    IPCRING_ERR_NO_SPACE = 14,
    /// Another system call failed.
    IPCRING_ERR_IO = 15,
    /// The ring has no room now (`try_*` calls only; nothing was written).
    IPCRING_ERR_FULL = 16,
    /// No message is waiting (`try_*` calls only).
    IPCRING_ERR_EMPTY = 17,
    /// The timeout passed first.
    IPCRING_ERR_TIMEOUT = 18,
    /// The message (or reservation) is longer than the ring's maximum message size; the
    /// value is longer than the blackboard entry's `max_size`.
    IPCRING_ERR_TOO_LARGE = 19,
    /// The peer is gone: for a producer, the ring is full and its consumer (every consumer
    /// of an MPMC queue) has left; for a consumer, every message was received and the
    /// producer (every producer) has left; for a blackboard reader waiting for a change,
    /// every writer that attached has left.
    IPCRING_ERR_DISCONNECTED = 20,
    /// The peer wrote impossible values into the shared ring. From an open: a handle
    /// found the ring corrupted and said so in it; remove it and create it anew.
    IPCRING_ERR_CORRUPTED = 21,
    /// The caller's buffer is smaller than the message; the message stays in the ring and
    /// its length is stored through the length out-parameter.
    IPCRING_ERR_BUFFER_TOO_SMALL = 22,
    /// A zero-copy reservation or read is pending on this handle: commit, abort or
    /// release it first.
    IPCRING_ERR_GRANT_PENDING = 23,
    /// Commit, abort or release was called without a pending reservation or read.
    IPCRING_ERR_NO_GRANT = 24,
    /// A bug inside ipcring was caught at the API boundary. The handle is unusable from
    /// then on (every call but close returns this code).
    IPCRING_ERR_INTERNAL = 25,
    /// An MPMC queue's geometry is out of range when creating: its capacity is not a power
    /// of two up to `IPCRING_MPMC_MAX_SLOTS`, its slot size is not from 1 to
    /// `IPCRING_MPMC_MAX_SLOT_SIZE`, its producer or consumer count is not from 1 to
    /// `IPCRING_MPMC_MAX_ROLE_SLOTS`, or all slots together exceed 64 GiB. A blackboard's
    /// entries are out of range when creating: none or more than
    /// `IPCRING_BOARD_MAX_ENTRIES`, a `max_size` not from 1 to
    /// `IPCRING_BOARD_MAX_VALUE_SIZE`, a key longer than `IPCRING_BOARD_MAX_KEY_LEN`, not
    /// UTF-8 or repeated, or a writer count not from 1 to `IPCRING_MPMC_MAX_ROLE_SLOTS`.
    IPCRING_ERR_INVALID_GEOMETRY = 26,
    /// The producer stalled between reserving a slot and committing it for longer than the
    /// ring's stall timeout, and the consumers passed the slot: the message was not sent
    /// and never will be delivered (MPMC queues and broadcast topics).
    IPCRING_ERR_SKIPPED = 27,
    /// A lossy topic's publishers overwrote messages before this subscriber read them; the
    /// next receive resumes at the oldest message held (how many were lost: the
    /// subscriber's `missed` counter, see `ipcring_sub_stats`).
    IPCRING_ERR_LAGGED = 28,
    /// This subscriber kept the publishers of a lossless topic waiting longer than its
    /// `max_lag_ns` and was evicted; it has joined again at the next message.
    IPCRING_ERR_EVICTED = 29,
    /// The object at the ring's name or path is not used (nor removed, for a link or
    /// special file): it is not a regular file (a symbolic link, a FIFO...), it belongs to
    /// another user and is not a group-mode ring of one of the caller's groups, or every
    /// user may write to it. For an anonymous ring: the descriptor is not a memfd sealed
    /// against shrinking (not a memfd, or its creator has not sealed it after a wait of
    /// about 2 s: a peer could truncate it).
    IPCRING_ERR_UNTRUSTED = 30,
    /// The same handle is given twice in one call's members (`ipcring_waitset_wait`,
    /// `_poll`, `_arm`): the set would use it twice at once.
    IPCRING_ERR_DUPLICATE_MEMBER = 31,
    /// The blackboard has no entry of this index (`ipcring_board_set`, `_get`...), or no
    /// entry of this key (`ipcring_board_key`).
    IPCRING_ERR_UNKNOWN_KEY = 32,
    /// The blackboard entry was never set: it has no value yet (version 0).
    IPCRING_ERR_NOT_SET = 33,
    /// A writer died in the middle of setting the blackboard entry: its value is half
    /// written and is not given out. The entry is readable again once a writer sets it.
    IPCRING_ERR_ABANDONED = 34,
    /// A live writer holds the blackboard entry: `ipcring_board_try_get` found it in the
    /// middle of setting it, or `ipcring_board_set` (a board with several writers) waited
    /// a second for another writer's claim of it. Nothing was read or written.
    IPCRING_ERR_BUSY = 35,
    /// The event segment has no such id: its ids are 0 to `ids - 1` (`ipcring_notify`).
    /// Nothing was sent.
    IPCRING_ERR_UNKNOWN_ID = 36,
    /// Creating a ring on huge pages (`ipcring_memfd_create` with `huge_pages`) found
    /// too few free in the pool the administrator reserved (`/proc/sys/vm/nr_hugepages`).
    IPCRING_ERR_NO_HUGE_PAGES = 37,
}

/// A failed call's status.
pub(crate) type Result<T> = core::result::Result<T, Status>;

impl Status {
    /// Every status, in order of value.
    pub(crate) const ALL: [Status; 38] = [
        Status::IPCRING_OK,
        Status::IPCRING_ERR_NULL_POINTER,
        Status::IPCRING_ERR_BAD_HANDLE,
        Status::IPCRING_ERR_INVALID_NAME,
        Status::IPCRING_ERR_INVALID_ARGUMENT,
        Status::IPCRING_ERR_INVALID_CAPACITY,
        Status::IPCRING_ERR_EXISTS,
        Status::IPCRING_ERR_NOT_FOUND,
        Status::IPCRING_ERR_PERMISSION,
        Status::IPCRING_ERR_NOT_IPCRING,
        Status::IPCRING_ERR_VERSION_MISMATCH,
        Status::IPCRING_ERR_BAD_SEGMENT,
        Status::IPCRING_ERR_NOT_READY,
        Status::IPCRING_ERR_ROLE_TAKEN,
        Status::IPCRING_ERR_NO_SPACE,
        Status::IPCRING_ERR_IO,
        Status::IPCRING_ERR_FULL,
        Status::IPCRING_ERR_EMPTY,
        Status::IPCRING_ERR_TIMEOUT,
        Status::IPCRING_ERR_TOO_LARGE,
        Status::IPCRING_ERR_DISCONNECTED,
        Status::IPCRING_ERR_CORRUPTED,
        Status::IPCRING_ERR_BUFFER_TOO_SMALL,
        Status::IPCRING_ERR_GRANT_PENDING,
        Status::IPCRING_ERR_NO_GRANT,
        Status::IPCRING_ERR_INTERNAL,
        Status::IPCRING_ERR_INVALID_GEOMETRY,
        Status::IPCRING_ERR_SKIPPED,
        Status::IPCRING_ERR_LAGGED,
        Status::IPCRING_ERR_EVICTED,
        Status::IPCRING_ERR_UNTRUSTED,
        Status::IPCRING_ERR_DUPLICATE_MEMBER,
        Status::IPCRING_ERR_UNKNOWN_KEY,
        Status::IPCRING_ERR_NOT_SET,
        Status::IPCRING_ERR_ABANDONED,
        Status::IPCRING_ERR_BUSY,
        Status::IPCRING_ERR_UNKNOWN_ID,
        Status::IPCRING_ERR_NO_HUGE_PAGES,
    ];

    /// The code returned to C.
    pub(crate) fn code(r: Result<()>) -> c_int {
        match r {
            Ok(()) => Status::IPCRING_OK as c_int,
            Err(s) => s as c_int,
        }
    }

    /// A sentence for people, NUL-terminated, with static lifetime.
    fn message(self) -> &'static core::ffi::CStr {
        match self {
            Status::IPCRING_OK => c"success",
            Status::IPCRING_ERR_NULL_POINTER => c"a required pointer argument is NULL",
            Status::IPCRING_ERR_BAD_HANDLE => {
                c"the handle is NULL (closed) or not a handle of this kind"
            }
            Status::IPCRING_ERR_INVALID_NAME => {
                c"invalid ring name (not UTF-8, empty or too long) or path (names no file)"
            }
            Status::IPCRING_ERR_INVALID_ARGUMENT => c"an argument is out of range",
            Status::IPCRING_ERR_INVALID_CAPACITY => {
                c"invalid capacity: must be a power of two from 64 bytes to 2 GiB"
            }
            Status::IPCRING_ERR_EXISTS => c"a ring of that name already exists",
            Status::IPCRING_ERR_NOT_FOUND => c"no ring of that name exists",
            Status::IPCRING_ERR_PERMISSION => c"permission denied",
            Status::IPCRING_ERR_NOT_IPCRING => c"not an ipcring segment of this kind",
            Status::IPCRING_ERR_VERSION_MISMATCH => {
                c"the ring was made by an incompatible ipcring version"
            }
            Status::IPCRING_ERR_BAD_SEGMENT => c"the ring's segment is inconsistent or truncated",
            Status::IPCRING_ERR_NOT_READY => c"the ring is still being initialised by its creator",
            Status::IPCRING_ERR_ROLE_TAKEN => c"this role of the ring is held by a live handle",
            Status::IPCRING_ERR_NO_SPACE => c"no space left to allocate the ring",
            Status::IPCRING_ERR_IO => c"a system call failed",
            Status::IPCRING_ERR_FULL => c"the ring is full",
            Status::IPCRING_ERR_EMPTY => c"the ring is empty",
            Status::IPCRING_ERR_TIMEOUT => c"timed out",
            Status::IPCRING_ERR_TOO_LARGE => {
                c"the message is larger than the ring's maximum message"
            }
            Status::IPCRING_ERR_DISCONNECTED => c"the peer is gone",
            Status::IPCRING_ERR_CORRUPTED => c"the shared ring state is corrupted",
            Status::IPCRING_ERR_BUFFER_TOO_SMALL => c"the buffer is too small for the message",
            Status::IPCRING_ERR_GRANT_PENDING => c"a zero-copy reservation or read is pending",
            Status::IPCRING_ERR_NO_GRANT => c"no zero-copy reservation or read is pending",
            Status::IPCRING_ERR_INTERNAL => c"internal error in ipcring (a bug: please report it)",
            Status::IPCRING_ERR_INVALID_GEOMETRY => {
                c"invalid geometry: slots, slot size, entries or role count out of range"
            }
            Status::IPCRING_ERR_SKIPPED => {
                c"the reserved slot was passed while this producer stalled; nothing was sent"
            }
            Status::IPCRING_ERR_LAGGED => {
                c"overtaken by the publishers: messages were lost before they were read"
            }
            Status::IPCRING_ERR_EVICTED => {
                c"evicted for keeping the publishers waiting; joined again at the next message"
            }
            Status::IPCRING_ERR_UNTRUSTED => {
                c"the ring's object is not trusted: not a regular file, another user's, writable by all, or (an anonymous ring) not a sealed memfd"
            }
            Status::IPCRING_ERR_DUPLICATE_MEMBER => {
                c"the same handle is given twice in one wait set's members"
            }
            Status::IPCRING_ERR_UNKNOWN_KEY => c"the board has no entry of this index or key",
            Status::IPCRING_ERR_NOT_SET => c"the board entry was never set",
            Status::IPCRING_ERR_ABANDONED => {
                c"a writer died while setting the board entry; it is readable once set again"
            }
            Status::IPCRING_ERR_BUSY => c"a writer is in the middle of setting the board entry",
            Status::IPCRING_ERR_UNKNOWN_ID => c"the event segment has no such id",
            Status::IPCRING_ERR_NO_HUGE_PAGES => {
                c"too few free huge pages reserved (/proc/sys/vm/nr_hugepages) for the ring"
            }
        }
    }
}

impl From<OpenError> for Status {
    fn from(e: OpenError) -> Status {
        match e {
            OpenError::InvalidName { .. } => Status::IPCRING_ERR_INVALID_NAME,
            OpenError::InvalidCapacity { .. } => Status::IPCRING_ERR_INVALID_CAPACITY,
            OpenError::InvalidGeometry { .. } => Status::IPCRING_ERR_INVALID_GEOMETRY,
            OpenError::InvalidMode { .. } => Status::IPCRING_ERR_INVALID_ARGUMENT,
            OpenError::AlreadyExists { .. } => Status::IPCRING_ERR_EXISTS,
            OpenError::NotFound { .. } => Status::IPCRING_ERR_NOT_FOUND,
            OpenError::PermissionDenied { .. } => Status::IPCRING_ERR_PERMISSION,
            OpenError::NotIpcring { .. } | OpenError::KindMismatch { .. } => {
                Status::IPCRING_ERR_NOT_IPCRING
            }
            OpenError::VersionMismatch { .. } | OpenError::LayoutMismatch { .. } => {
                Status::IPCRING_ERR_VERSION_MISMATCH
            }
            OpenError::HeaderSizeMismatch { .. }
            | OpenError::BadGeometry { .. }
            | OpenError::Truncated { .. } => Status::IPCRING_ERR_BAD_SEGMENT,
            OpenError::StillInitializing { .. } => Status::IPCRING_ERR_NOT_READY,
            OpenError::Broken => Status::IPCRING_ERR_CORRUPTED,
            OpenError::RoleTaken { .. } => Status::IPCRING_ERR_ROLE_TAKEN,
            OpenError::NoSpace { .. } => Status::IPCRING_ERR_NO_SPACE,
            OpenError::NotRegularFile { .. }
            | OpenError::ForeignOwner { .. }
            | OpenError::WorldWritable { .. }
            | OpenError::NotSealed { .. } => Status::IPCRING_ERR_UNTRUSTED,
            OpenError::NoHugePages { .. } => Status::IPCRING_ERR_NO_HUGE_PAGES,
            // `Io`, and whatever a later version of the library adds.
            _ => Status::IPCRING_ERR_IO,
        }
    }
}

impl From<SendError> for Status {
    fn from(e: SendError) -> Status {
        match e {
            SendError::Full => Status::IPCRING_ERR_FULL,
            SendError::Timeout => Status::IPCRING_ERR_TIMEOUT,
            SendError::TooLarge { .. } => Status::IPCRING_ERR_TOO_LARGE,
            SendError::Disconnected => Status::IPCRING_ERR_DISCONNECTED,
            SendError::Skipped => Status::IPCRING_ERR_SKIPPED,
            // `Corrupted`, and whatever a later version adds: the ring is unusable.
            _ => Status::IPCRING_ERR_CORRUPTED,
        }
    }
}

impl From<RecvError> for Status {
    fn from(e: RecvError) -> Status {
        match e {
            RecvError::Empty => Status::IPCRING_ERR_EMPTY,
            RecvError::Timeout => Status::IPCRING_ERR_TIMEOUT,
            RecvError::Disconnected => Status::IPCRING_ERR_DISCONNECTED,
            RecvError::Lagged { .. } => Status::IPCRING_ERR_LAGGED,
            RecvError::Evicted => Status::IPCRING_ERR_EVICTED,
            // `Corrupted`; `WrongSize` comes only from the typed calls, which the C API
            // does not use.
            _ => Status::IPCRING_ERR_CORRUPTED,
        }
    }
}

impl From<GetError> for Status {
    fn from(e: GetError) -> Status {
        match e {
            GetError::UnknownKey { .. } => Status::IPCRING_ERR_UNKNOWN_KEY,
            GetError::NotSet { .. } => Status::IPCRING_ERR_NOT_SET,
            GetError::Abandoned { .. } => Status::IPCRING_ERR_ABANDONED,
            GetError::Busy { .. } => Status::IPCRING_ERR_BUSY,
            GetError::Timeout { .. } => Status::IPCRING_ERR_TIMEOUT,
            GetError::NoWriter => Status::IPCRING_ERR_DISCONNECTED,
            // `Corrupted`; `WrongSize` comes only from the typed get, which the C API does
            // not use; and whatever a later version adds.
            _ => Status::IPCRING_ERR_CORRUPTED,
        }
    }
}

impl From<SetError> for Status {
    fn from(e: SetError) -> Status {
        match e {
            SetError::UnknownKey { .. } => Status::IPCRING_ERR_UNKNOWN_KEY,
            SetError::TooLarge { .. } => Status::IPCRING_ERR_TOO_LARGE,
            SetError::Busy { .. } => Status::IPCRING_ERR_BUSY,
            // Whatever a later version adds: the write did not happen, for a reason this
            // version of the C API cannot name.
            _ => Status::IPCRING_ERR_INTERNAL,
        }
    }
}

impl From<NotifyError> for Status {
    fn from(e: NotifyError) -> Status {
        match e {
            NotifyError::UnknownId { .. } => Status::IPCRING_ERR_UNKNOWN_ID,
            // Whatever a later version adds: nothing was sent, for a reason this version
            // of the C API cannot name.
            _ => Status::IPCRING_ERR_INTERNAL,
        }
    }
}

/// Describes a status code in words.
///
/// Returns a static, NUL-terminated English sentence; an unknown code gets a sentence
/// saying so. Never returns NULL.
///
/// # Safety
/// None: any `code` is accepted. Thread-safe. The returned string must not be freed or
/// written to.
#[no_mangle]
pub extern "C" fn ipcring_strerror(code: c_int) -> *const c_char {
    let known = usize::try_from(code)
        .ok()
        .and_then(|i| Status::ALL.get(i))
        .map(|s| s.message());
    known.unwrap_or(c"unknown ipcring status code").as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_status_at_its_value() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s:?}");
        }
    }

    #[test]
    fn every_status_has_its_own_message() {
        let mut seen = std::collections::HashSet::new();
        for s in Status::ALL {
            assert!(seen.insert(s.message()), "{s:?} repeats a message");
        }
    }

    #[test]
    fn mpmc_errors_get_their_own_codes() {
        let geometry = OpenError::InvalidGeometry {
            what: "slot_size",
            value: 0,
            reason: "from 1 byte to 1 GiB",
        };
        assert_eq!(Status::from(geometry), Status::IPCRING_ERR_INVALID_GEOMETRY);
        assert_eq!(
            Status::from(SendError::Skipped),
            Status::IPCRING_ERR_SKIPPED
        );
        assert_eq!(
            Status::from(RecvError::Lagged { missed: 3 }),
            Status::IPCRING_ERR_LAGGED
        );
        assert_eq!(
            Status::from(RecvError::Evicted),
            Status::IPCRING_ERR_EVICTED
        );
    }

    #[test]
    fn namespace_refusals_get_their_codes() {
        let name = || "x".to_owned();
        for e in [
            OpenError::NotRegularFile { name: name() },
            OpenError::ForeignOwner {
                name: name(),
                uid: 65534,
                gid: 65534,
            },
            OpenError::WorldWritable {
                name: name(),
                mode: 0o666,
            },
            OpenError::NotSealed { name: name() },
        ] {
            assert_eq!(Status::from(e), Status::IPCRING_ERR_UNTRUSTED);
        }
        let mode = OpenError::InvalidMode {
            mode: 0o666,
            reason: "other users may get no access",
        };
        assert_eq!(Status::from(mode), Status::IPCRING_ERR_INVALID_ARGUMENT);
    }

    #[test]
    fn board_errors_get_their_codes() {
        let cases = [
            (
                Status::from(GetError::UnknownKey { key: 9, entries: 2 }),
                Status::IPCRING_ERR_UNKNOWN_KEY,
            ),
            (
                Status::from(GetError::NotSet { key: 0 }),
                Status::IPCRING_ERR_NOT_SET,
            ),
            (
                Status::from(GetError::Abandoned { key: 0 }),
                Status::IPCRING_ERR_ABANDONED,
            ),
            (
                Status::from(GetError::Busy { key: 0 }),
                Status::IPCRING_ERR_BUSY,
            ),
            (
                Status::from(GetError::Timeout { key: 0 }),
                Status::IPCRING_ERR_TIMEOUT,
            ),
            (
                Status::from(GetError::NoWriter),
                Status::IPCRING_ERR_DISCONNECTED,
            ),
            (
                Status::from(GetError::Corrupted),
                Status::IPCRING_ERR_CORRUPTED,
            ),
            (
                Status::from(SetError::UnknownKey { key: 9, entries: 2 }),
                Status::IPCRING_ERR_UNKNOWN_KEY,
            ),
            (
                Status::from(SetError::TooLarge { len: 9, max: 8 }),
                Status::IPCRING_ERR_TOO_LARGE,
            ),
            (
                Status::from(SetError::Busy { key: 0 }),
                Status::IPCRING_ERR_BUSY,
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn a_pool_of_huge_pages_too_small_gets_its_code() {
        let e = OpenError::NoHugePages { size: 4 };
        assert_eq!(Status::from(e), Status::IPCRING_ERR_NO_HUGE_PAGES);
    }

    #[test]
    fn an_unknown_event_id_gets_its_code() {
        let e = NotifyError::UnknownId { id: 9, ids: 4 };
        assert_eq!(Status::from(e), Status::IPCRING_ERR_UNKNOWN_ID);
    }

    #[test]
    fn strerror_of_an_unknown_code_says_so() {
        // SAFETY: `ipcring_strerror` returns a static NUL-terminated string.
        let text = |c| unsafe { core::ffi::CStr::from_ptr(ipcring_strerror(c)) };
        assert_eq!(text(-1), c"unknown ipcring status code");
        assert_eq!(text(38), c"unknown ipcring status code");
        assert_eq!(text(17), c"the ring is empty");
    }
}
