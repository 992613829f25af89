//! The ring side of the inbound bridge: a sending handle of any kind, which commits each
//! message, waiting (without blocking the thread) while the ring is full.

use super::ring::RingAt;
use super::BridgeError;
use crate::survey::Kind;
use crate::{broadcast, mpmc, spsc, SendError};

/// The writing end of a ring of any kind.
#[derive(Debug)]
pub(crate) enum Writer {
    Spsc(spsc::Producer),
    Mpmc(mpmc::Producer),
    Topic(broadcast::Publisher),
}

impl Writer {
    /// Opens the writing end of the ring at `at`.
    pub(crate) fn open(at: &RingAt) -> Result<Writer, BridgeError> {
        let open = |e| at.open_error(e);
        Ok(match at.kind()? {
            Kind::Spsc => Writer::Spsc(at.builder::<spsc::Shape>().open_producer().map_err(open)?),
            Kind::Mpmc => Writer::Mpmc(at.builder::<mpmc::Shape>().open_producer().map_err(open)?),
            Kind::Broadcast => Writer::Topic(
                at.builder::<broadcast::Shape>()
                    .open_publisher()
                    .map_err(open)?,
            ),
            other => return Err(at.kind_error(other)),
        })
    }

    /// Commits `msg`, waiting while the ring has no room. Cancel-safe: dropped before it
    /// completes, it committed nothing.
    pub(crate) async fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        match self {
            Writer::Spsc(tx) => tx.send_async(msg).await,
            Writer::Mpmc(tx) => tx.send_async(msg).await,
            Writer::Topic(tx) => tx.send_async(msg).await,
        }
    }
}
