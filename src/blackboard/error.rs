//! Why a blackboard read or write did not happen.

/// Why a value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GetError {
    /// No entry has this index.
    #[error("no entry {key}: the board has {entries} entries")]
    UnknownKey {
        /// The index asked for.
        key: usize,
        /// How many entries the board has.
        entries: usize,
    },
    /// The entry was never set.
    #[error("entry {key} was never set")]
    NotSet {
        /// The entry.
        key: usize,
    },
    /// The writer of the entry died in the middle of setting it (or gave the write up:
    /// the `fill` of its [`super::Writer::set_with`] panicked): its value is half
    /// written. The entry is readable again once a writer sets it.
    #[error("entry {key} was abandoned by a writer in the middle of setting it")]
    Abandoned {
        /// The entry.
        key: usize,
    },
    /// A live writer was in the middle of setting the entry: at once for a non-blocking
    /// read, for a second for a blocking one (a writer stopped in the middle of a write).
    #[error("entry {key} is being written")]
    Busy {
        /// The entry.
        key: usize,
    },
    /// A typed read found a value of another size.
    #[error("entry {key} holds {found} bytes, expected {expected}")]
    WrongSize {
        /// The entry.
        key: usize,
        /// Bytes of the value.
        found: usize,
        /// Bytes of the type asked for.
        expected: usize,
    },
    /// A wait for a change ran out of time.
    #[error("timed out waiting for entry {key} to change")]
    Timeout {
        /// The entry.
        key: usize,
    },
    /// A wait for a change found no writer attached, after one was: the value will not
    /// change until a writer attaches again.
    #[error("no writer is attached to the board")]
    NoWriter,
    /// The board's shared state holds what no writer writes (a value longer than its
    /// entry): somebody scribbled over the segment.
    #[error("shared board state is corrupted")]
    Corrupted,
}

/// Why a value could not be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// No entry has this index.
    #[error("no entry {key}: the board has {entries} entries")]
    UnknownKey {
        /// The index asked for.
        key: usize,
        /// How many entries the board has.
        entries: usize,
    },
    /// The value is larger than the entry holds.
    #[error("a value of {len} bytes does not fit an entry of {max} bytes")]
    TooLarge {
        /// Bytes of the value.
        len: usize,
        /// Bytes the entry holds.
        max: usize,
    },
    /// Another live writer held the entry for longer than any write takes (a board with
    /// several writers).
    #[error("entry {key} is held by another writer")]
    Busy {
        /// The entry.
        key: usize,
    },
}
