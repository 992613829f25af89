//! What a running bridge tells its user: events as they happen ([`Report`], to a callback
//! of the user's), and counts ([`Summary`], now and then and at the end).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Something a running bridge did or met.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Report {
    /// The connection to the server was established again after it was lost.
    Connected,
    /// The connection to the server was lost; the client reconnects by itself.
    Disconnected,
    /// An attempt failed (a publish or its acknowledgement, a pull, a commit's
    /// acknowledgement): it is tried again after `after`.
    Retrying {
        /// What failed.
        what: &'static str,
        /// Why, in the client's words.
        error: String,
        /// The wait before the next attempt.
        after: Duration,
    },
    /// A lossy topic overtook the bridge: `missed` messages were overwritten before it
    /// read them (they are lost; see the delivery contract).
    Lagged {
        /// Messages lost.
        missed: u64,
    },
    /// A lossless topic with a `max_lag` evicted the bridge: it rejoined at the next
    /// message, and what was published meanwhile is lost.
    Evicted,
    /// Anything else worth a line (a ring without an incarnation, a dedupe state of
    /// another stream).
    Note(String),
    /// The counts so far (every progress interval, if one is set).
    Progress(Summary),
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Connected => f.write_str("reconnected"),
            Report::Disconnected => f.write_str("disconnected, reconnecting"),
            Report::Retrying { what, error, after } => {
                write!(f, "{what} failed ({error}), again in {after:?}")
            }
            Report::Lagged { missed } => write!(f, "overtaken by the topic, {missed} lost"),
            Report::Evicted => f.write_str("evicted by the topic's publishers, rejoined"),
            Report::Note(note) => f.write_str(note),
            Report::Progress(s) => write!(f, "{s}"),
        }
    }
}

/// Where a bridge sends its reports: a callback of the user's (called as a function).
#[derive(Clone)]
pub(crate) struct Reporter(Arc<dyn Fn(&Report) + Send + Sync>);

impl Reporter {
    pub(crate) fn new(f: impl Fn(&Report) + Send + Sync + 'static) -> Reporter {
        Reporter(Arc::new(f))
    }
}

impl Default for Reporter {
    /// Drops every report.
    fn default() -> Reporter {
        Reporter::new(|_| {})
    }
}

impl core::ops::Deref for Reporter {
    type Target = dyn Fn(&Report) + Send + Sync;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reporter")
    }
}

/// What a bridge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Outbound: messages acknowledged by JetStream and released from the ring; inbound:
    /// messages committed into the ring (and acknowledged, or about to be).
    pub messages: u64,
    /// Outbound: acknowledgements that said "duplicate" (a message that an earlier run
    /// published and died before releasing); inbound: messages dropped by `dedupe` as
    /// committed before.
    pub duplicates: u64,
    /// Outbound: messages published and not acknowledged yet (at the end: left in the
    /// ring, for the next run); inbound: 0.
    pub pending: u64,
    /// Attempts that failed and were tried again.
    pub retries: u64,
    /// Connections lost.
    pub disconnects: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} messages, {} duplicates, {} pending, {} retries, {} disconnects",
            self.messages, self.duplicates, self.pending, self.retries, self.disconnects
        )
    }
}
