//! What a survey reports of the kinds that share state rather than pass messages: the
//! entries of a blackboard and the counters of an event segment.

/// The state of a blackboard entry, as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Never set.
    Unset,
    /// Holds a complete value.
    Set,
    /// A live writer is setting it.
    Writing,
    /// Its writer died while setting it: readers report it as abandoned until a writer
    /// sets it again.
    Abandoned,
}

/// One entry of a blackboard.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoardEntry {
    /// Its index.
    pub index: usize,
    /// Its key (empty for none).
    pub key: String,
    /// Largest value, in bytes.
    pub max_size: u64,
    /// Bytes of the value found (of the last complete one, or of the one being written).
    pub len: u64,
    /// How many times it was set.
    pub version: u64,
    /// What it holds.
    pub state: EntryState,
}

/// How many times an event id fired since its segment was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventCount {
    /// The id.
    pub id: usize,
    /// Notifications of it.
    pub count: u64,
}
