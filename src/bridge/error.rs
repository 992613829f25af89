//! Why a bridge stopped.

use crate::{OpenError, RecvError, SendError};
use std::path::PathBuf;

/// The error with which a bridge stops. What can be tried again (a lost connection, a
/// publish without an acknowledgement) is, and is only reported: these are the causes
/// that no retry would cure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The ring cannot be opened (missing, of another version, every slot taken...).
    #[error("ring {ring}")]
    Open {
        /// The ring, as given.
        ring: String,
        /// Why.
        #[source]
        source: OpenError,
    },
    /// The segment is a blackboard or an event segment, which carry no messages.
    #[error("ring {ring}: a bridge moves messages, and a {kind} segment has none")]
    Kind {
        /// The ring, as given.
        ring: String,
        /// Its kind.
        kind: crate::survey::Kind,
    },
    /// The ring was found corrupted.
    #[error("ring {ring}")]
    Recv {
        /// The ring, as given.
        ring: String,
        /// What the read said.
        #[source]
        source: RecvError,
    },
    /// A message cannot be committed into the ring (too large for it, or the ring was
    /// found corrupted). Inbound: the message is neither committed nor acknowledged.
    #[error("ring {ring}")]
    Send {
        /// The ring, as given.
        ring: String,
        /// What the send said.
        #[source]
        source: SendError,
    },
    /// The server's address is not one, or no server answers there at start.
    #[error("cannot connect to {server}: {error}")]
    Connect {
        /// The address, as given.
        server: String,
        /// Why (the client's error, which tells its causes itself).
        error: async_nats::ConnectError,
    },
    /// No stream of that name exists (and none was to be created).
    #[error("no stream {stream} (create it, or ask the bridge to: --create-stream)")]
    NoStream {
        /// The stream's name.
        stream: String,
    },
    /// No stream holds the subject.
    #[error("no stream holds subject {subject} (name one with --stream, and --create-stream)")]
    NoStreamFor {
        /// The subject.
        subject: String,
    },
    /// A message is larger than the server accepts: publishing it again would not help.
    /// It stays in the ring.
    #[error("a message of {len} bytes is larger than the server accepts")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// A JetStream request failed at start (looking up or creating the stream or the
    /// consumer).
    #[error("{what}: {error}")]
    JetStream {
        /// What was asked.
        what: String,
        /// The client's error (which tells its causes itself).
        error: async_nats::Error,
    },
    /// The dedupe state file cannot be read or written.
    #[error("dedupe state {}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
