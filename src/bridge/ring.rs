//! Which ring a bridge works on: a name in /dev/shm or the path of a file-backed ring.

use super::BridgeError;
use crate::survey::{self, Kind};
use crate::Builder;
use core::fmt;
use std::path::PathBuf;

/// A ring that a bridge reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingAt {
    /// A ring in named shared memory (`Builder::new`).
    Name(String),
    /// A file-backed ring (`Builder::at`).
    Path(PathBuf),
}

impl RingAt {
    /// The options of a ring of kind `K` here, to open it.
    pub(crate) fn builder<K: Default>(&self) -> Builder<K> {
        match self {
            RingAt::Name(name) => Builder::new(name),
            RingAt::Path(path) => Builder::at(path),
        }
    }

    /// The kind of the ring here.
    pub(crate) fn kind(&self) -> Result<Kind, BridgeError> {
        let ring = match self {
            RingAt::Name(name) => survey::inspect(name),
            RingAt::Path(path) => survey::inspect_file(path),
        };
        Ok(ring.map_err(|e| self.open_error(e))?.kind)
    }

    pub(crate) fn open_error(&self, source: crate::OpenError) -> BridgeError {
        BridgeError::Open {
            ring: self.to_string(),
            source,
        }
    }

    pub(crate) fn recv_error(&self, source: crate::RecvError) -> BridgeError {
        BridgeError::Recv {
            ring: self.to_string(),
            source,
        }
    }

    pub(crate) fn send_error(&self, source: crate::SendError) -> BridgeError {
        BridgeError::Send {
            ring: self.to_string(),
            source,
        }
    }

    pub(crate) fn kind_error(&self, kind: Kind) -> BridgeError {
        BridgeError::Kind {
            ring: self.to_string(),
            kind,
        }
    }
}

impl fmt::Display for RingAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingAt::Name(name) => f.write_str(name),
            RingAt::Path(path) => write!(f, "{}", path.display()),
        }
    }
}
