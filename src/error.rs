//! Errors, one small enum per kind of operation, written for people.

use crate::role::Role;
use std::io;
use std::time::Duration;

/// Why a ring could not be created or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The name is empty, too long, or contains `/` or a NUL byte.
    #[error("invalid ring name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The capacity is not a power of two, or is too small or too large.
    #[error("invalid capacity {capacity} bytes: must be a power of two from {min} to {max}")]
    InvalidCapacity {
        /// The capacity asked for.
        capacity: usize,
        /// The smallest capacity.
        min: usize,
        /// The largest capacity.
        max: usize,
    },
    /// A size or count asked for at create is out of its range.
    #[error("invalid {what} {value}: must be {reason}")]
    InvalidGeometry {
        /// Which option.
        what: &'static str,
        /// The value asked for.
        value: u64,
        /// The valid range.
        reason: &'static str,
    },
    /// The mode asked for at create is not allowed: it must give the owner read and write
    /// and other users nothing (see [`crate::Builder::mode`]).
    #[error("invalid mode {mode:#o}: {reason}")]
    InvalidMode {
        /// The mode asked for.
        mode: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `create` found a segment of that name already.
    #[error("ring {name:?} already exists")]
    AlreadyExists {
        /// The ring name.
        name: String,
    },
    /// `open` found no segment of that name.
    #[error("ring {name:?} does not exist")]
    NotFound {
        /// The ring name.
        name: String,
    },
    /// The segment exists but this user may not open it.
    #[error("permission denied for ring {name:?}")]
    PermissionDenied {
        /// The ring name.
        name: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// What is at the ring's name is not a shared-memory object but a symbolic link, a
    /// directory, a FIFO or another special file; it is neither used nor removed.
    #[error("ring {name:?} is not a regular shared-memory object (a symbolic link or special file is at its name)")]
    NotRegularFile {
        /// The ring name.
        name: String,
    },
    /// The object at the ring's name belongs to another user, and is not a group-mode
    /// object of one of this process's groups: somebody else may have put it there, so it
    /// is not used.
    #[error("ring {name:?} belongs to uid {uid} and group {gid}, neither this user nor a group-mode ring of one of its groups")]
    ForeignOwner {
        /// The ring name.
        name: String,
        /// The object's owner.
        uid: u32,
        /// The object's group.
        gid: u32,
    },
    /// Every user may write to the object at the ring's name, so it is not used.
    #[error("ring {name:?} is writable by every user (mode {mode:#o})")]
    WorldWritable {
        /// The ring name.
        name: String,
        /// The object's mode.
        mode: u32,
    },
    /// The object does not start with the ipcring magic number.
    #[error("not an ipcring segment (magic {found:#018x}, expected {expected:#018x})")]
    NotIpcring {
        /// The first 8 bytes found.
        found: u64,
        /// [`crate::MAGIC`].
        expected: u64,
    },
    /// The segment was made by an incompatible version of ipcring.
    #[error(
        "ABI version mismatch: segment has major version {found}, this build speaks {expected}"
    )]
    VersionMismatch {
        /// The segment's ABI major version.
        found: u32,
        /// This build's ABI major version.
        expected: u32,
    },
    /// The segment's layout hash differs from this build's.
    #[error("layout mismatch: segment hash {found:#018x}, this build {expected:#018x}")]
    LayoutMismatch {
        /// The segment's layout hash.
        found: u64,
        /// This build's layout hash.
        expected: u64,
    },
    /// The segment holds another kind of ring.
    #[error("wrong ring kind: segment holds kind {found}, expected kind {expected}")]
    KindMismatch {
        /// The segment's kind number.
        found: u32,
        /// The expected kind number.
        expected: u32,
    },
    /// The header size recorded in the segment is not this kind's.
    #[error("header size mismatch: segment says {found} bytes, expected {expected}")]
    HeaderSizeMismatch {
        /// The recorded header size.
        found: u64,
        /// The expected header size.
        expected: u64,
    },
    /// The geometry in the header is inconsistent (capacity, maximum message, total size).
    #[error("corrupted segment header: {what} is {found}, expected {expected}")]
    BadGeometry {
        /// Which field.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// The object is smaller than its header says.
    #[error("segment truncated: {size} bytes, expected at least {expected}")]
    Truncated {
        /// The object's size.
        size: u64,
        /// The size the header (or the minimum header) requires.
        expected: u64,
    },
    /// The creator did not finish initialising the segment in time.
    #[error("segment still initialising after {waited:?} (its creator may have died)")]
    StillInitializing {
        /// How long `open` waited.
        waited: Duration,
    },
    /// A handle found the ring corrupted (a value that no ipcring writes, where the protocol
    /// allows no other) and said so in the segment: it is not opened again. Remove it and
    /// create it anew.
    #[error("ring found corrupted by one of its handles: remove it and create it anew")]
    Broken,
    /// Every slot of this role on the ring is held by a live handle.
    #[error("every {role} slot of this ring ({slots}) is held by a live handle")]
    RoleTaken {
        /// The role asked for.
        role: Role,
        /// How many slots the ring has for it.
        slots: usize,
    },
    /// No memory left to back the segment (`fallocate` failed with ENOSPC).
    #[error("no space to allocate a {size}-byte segment")]
    NoSpace {
        /// The size asked for.
        size: u64,
    },
    /// Too few huge pages are free for a ring on huge pages
    /// ([`crate::RingFd::with_huge_pages`], or a file ring on hugetlbfs): the administrator
    /// reserves them in `/proc/sys/vm/nr_hugepages`.
    #[error(
        "no huge pages free for a {size}-byte segment (reserve them in /proc/sys/vm/nr_hugepages)"
    )]
    NoHugePages {
        /// The size asked for, in whole huge pages.
        size: u64,
    },
    /// An anonymous ring's descriptor is not a memfd sealed against shrinking (not made
    /// by ipcring, or its creator died while it created the ring): a peer could truncate
    /// it under the mapping, so it is not used.
    #[error("{name} is not a sealed memfd: refused (a peer could truncate it)")]
    NotSealed {
        /// The descriptor's label (`/memfd:<name> (deleted)`).
        name: String,
    },
    /// Any other system error.
    #[error("{op} failed")]
    Io {
        /// Which call failed.
        op: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
}

/// Why a message was not sent.
///
/// `send` returns `TooLarge`, `Disconnected` or `Corrupted`; `try_send` adds `Full`;
/// `send_timeout` adds `Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The ring has no room now (`try_send` only; nothing was written).
    #[error("ring is full")]
    Full,
    /// The deadline passed while the ring stayed full (`send_timeout` only).
    #[error("timed out waiting for room in the ring")]
    Timeout,
    /// The message is longer than the ring's maximum message size.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The message length.
        len: usize,
        /// The ring's maximum.
        max: usize,
    },
    /// The ring is full and the consumer that was attached is gone, so it will not drain.
    #[error("the consumer is gone")]
    Disconnected,
    /// The consumer wrote an impossible position into shared memory.
    #[error("shared ring state is corrupted")]
    Corrupted,
    /// This producer stalled between claiming a cell and committing it for longer than the
    /// ring's stall timeout, and consumers passed the claim: the message was not sent
    /// and never will be delivered (MPMC queues and broadcast topics with a stall
    /// timeout).
    #[error("the claim was passed while this producer stalled; the message was not sent")]
    Skipped,
}

/// Why no message was received.
///
/// `recv*` returns `Disconnected` or `Corrupted`; `try_recv*` adds `Empty`; the timeout
/// variants add `Timeout`; `recv_value` adds `WrongSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// No message is waiting (`try_*` only).
    #[error("ring is empty")]
    Empty,
    /// The deadline passed while the ring stayed empty.
    #[error("timed out waiting for a message")]
    Timeout,
    /// Every committed message was received and the producer that was attached is gone.
    #[error("the producer is gone and the ring is drained")]
    Disconnected,
    /// The next message does not have the size of the requested type; it stays in the ring.
    #[error("next message has {found} bytes, expected {expected}")]
    WrongSize {
        /// The message length.
        found: usize,
        /// `size_of::<T>()`.
        expected: usize,
    },
    /// The producer wrote an impossible record header into shared memory.
    #[error("shared ring state is corrupted")]
    Corrupted,
    /// A lossy topic's publishers overwrote `missed` messages before this subscriber read
    /// them (a claim of a dead publisher among them counts too); the next receive resumes
    /// at the oldest message the topic holds.
    #[error("overtaken by the publishers: {missed} messages lost")]
    Lagged {
        /// Positions lost since the last message received.
        missed: u64,
    },
    /// This subscriber kept the publishers of a lossless topic waiting longer than the
    /// topic's `max_lag` and was evicted; it has joined again at the next message.
    #[error("evicted for keeping the publishers waiting; joined again at the next message")]
    Evicted,
}
