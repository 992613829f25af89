//! The ring side of the outbound bridge: lends messages without releasing them, and
//! releases each once JetStream acknowledged it. One type over the three kinds:
//!
//! - SPSC: one consumer that peeks ahead ([`spsc::Consumer::try_peek_batch`]) up to the
//!   window, and releases the oldest message at each acknowledgement;
//! - MPMC: a consumer handle per message in flight (a window of N takes N of the queue's
//!   consumer slots, fewer if fewer are free), each holding its message with
//!   [`mpmc::ReadGrant::keep`] until its acknowledgement;
//! - broadcast: one subscriber that holds one message (a window of 1): its cursor passes a
//!   message only after the acknowledgement.

use super::report::{Report, Reporter};
use super::ring::RingAt;
use super::BridgeError;
use crate::survey::Kind;
use crate::{broadcast, mpmc, spsc, OpenError, RecvError, SharedBytes};
use bytes::Bytes;
use std::time::Duration;

/// How long the bridge waits before it looks again at a ring that no writer is attached
/// to (it waits for one to come).
const IDLE: Duration = Duration::from_millis(50);

/// A message lent by the ring, copied out to be published.
#[derive(Debug)]
pub(crate) struct Lent {
    pub(crate) position: u64,
    pub(crate) payload: Bytes,
}

impl Lent {
    fn of(position: u64, msg: &SharedBytes<'_>) -> Lent {
        Lent {
            position,
            payload: Bytes::from(msg.to_vec()),
        }
    }
}

/// A consumer of an MPMC queue and the position of the message it holds for the bridge.
#[derive(Debug)]
struct Worker {
    rx: mpmc::Consumer,
    holds: Option<u64>,
}

/// The reading end of a ring of any kind.
#[derive(Debug)]
enum Handles {
    Spsc(spsc::Consumer),
    Mpmc(Vec<Worker>),
    Topic {
        rx: broadcast::Subscriber,
        holds: Option<u64>,
    },
}

/// The ring an outbound bridge reads, with the window it can hold.
#[derive(Debug)]
pub(crate) struct Reader {
    at: RingAt,
    handles: Handles,
    window: usize,
    report: Reporter,
}

impl Reader {
    /// Opens the reading end of the ring at `at` for a window of `window` messages (what
    /// the kind allows of it: see the module's notes). A topic is joined at its oldest
    /// message, so that a bridge that restarts publishes again what the topic still holds
    /// (JetStream drops what it already has).
    pub(crate) fn open(at: RingAt, window: usize, report: Reporter) -> Result<Reader, BridgeError> {
        let window = window.max(1);
        let handles = match at.kind()? {
            Kind::Spsc => Handles::Spsc(
                at.builder::<spsc::Shape>()
                    .open_consumer()
                    .map_err(|e| at.open_error(e))?,
            ),
            Kind::Mpmc => Handles::Mpmc(workers(&at, window)?),
            Kind::Broadcast => Handles::Topic {
                rx: at
                    .builder::<broadcast::Shape>()
                    .from_oldest(true)
                    .open_subscriber()
                    .map_err(|e| at.open_error(e))?,
                holds: None,
            },
            other => return Err(at.kind_error(other)),
        };
        let window = match &handles {
            Handles::Spsc(_) => window,
            Handles::Mpmc(workers) => workers.len(),
            Handles::Topic { .. } => 1,
        };
        Ok(Reader {
            at,
            handles,
            window,
            report,
        })
    }

    /// Messages this reader can hold at once.
    pub(crate) fn window(&self) -> usize {
        self.window
    }

    /// The ring's incarnation.
    pub(crate) fn incarnation(&self) -> u64 {
        match &self.handles {
            Handles::Spsc(rx) => rx.incarnation(),
            Handles::Mpmc(workers) => workers[0].rx.incarnation(),
            Handles::Topic { rx, .. } => rx.incarnation(),
        }
    }

    /// Lends, into `out`, the messages after the `held` ones it already lent, up to the
    /// window, without waiting.
    ///
    /// # Errors
    /// `Recv` when the ring is corrupted.
    pub(crate) fn lend(&mut self, held: usize, out: &mut Vec<Lent>) -> Result<(), BridgeError> {
        let room = self.window.saturating_sub(held);
        let looked = match &mut self.handles {
            Handles::Spsc(rx) => rx
                .try_peek_batch(held, room, |position, msg| {
                    out.push(Lent::of(position, msg))
                })
                .map(drop),
            Handles::Mpmc(workers) => {
                let mut r = Ok(());
                for w in workers.iter_mut().filter(|w| w.holds.is_none()) {
                    match w.rx.try_read() {
                        Ok(g) => {
                            let lent = Lent::of(g.position(), &g);
                            g.keep();
                            w.holds = Some(lent.position);
                            out.push(lent);
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                r
            }
            Handles::Topic { rx, holds } if holds.is_none() => match rx.try_read() {
                Ok(g) => {
                    let lent = Lent::of(g.position(), &g);
                    g.keep();
                    *holds = Some(lent.position);
                    out.push(lent);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Handles::Topic { .. } => Ok(()),
        };
        match looked {
            Err(RecvError::Corrupted) => Err(self.at.recv_error(RecvError::Corrupted)),
            Err(e) => {
                self.note(e);
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// Waits until the ring holds a message (when the bridge holds none), or a while when
    /// no writer is attached.
    ///
    /// # Errors
    /// `Recv` when the ring is corrupted.
    pub(crate) async fn wait(&mut self) -> Result<(), BridgeError> {
        // The message found stays where it is, for the next `lend`.
        let waited = match &mut self.handles {
            Handles::Spsc(rx) => rx.read_async().await.map(spsc::ReadGrant::keep),
            Handles::Mpmc(workers) => workers[0].rx.read_async().await.map(mpmc::ReadGrant::keep),
            Handles::Topic { rx, .. } => rx.read_async().await.map(broadcast::ReadGrant::keep),
        };
        match waited {
            Ok(()) => Ok(()),
            Err(RecvError::Corrupted) => Err(self.at.recv_error(RecvError::Corrupted)),
            Err(RecvError::Disconnected) => {
                tokio::time::sleep(IDLE).await;
                Ok(())
            }
            Err(e) => {
                self.note(e);
                Ok(())
            }
        }
    }

    /// Releases the message at `position`, which JetStream acknowledged: the oldest lent
    /// (SPSC, broadcast) or the one a worker holds (MPMC).
    ///
    /// # Errors
    /// `Recv` when the ring is corrupted, or no longer holds the message where it was.
    pub(crate) fn release(&mut self, position: u64) -> Result<(), BridgeError> {
        let released = match &mut self.handles {
            Handles::Spsc(rx) => release_at(
                rx.try_read(),
                position,
                spsc::ReadGrant::position,
                spsc::ReadGrant::keep,
            ),
            Handles::Mpmc(workers) => {
                let w = workers.iter_mut().find(|w| w.holds == Some(position));
                let w = w.expect("a worker holds each message in flight");
                w.holds = None;
                release_at(
                    w.rx.try_read(),
                    position,
                    mpmc::ReadGrant::position,
                    mpmc::ReadGrant::keep,
                )
            }
            Handles::Topic { rx, holds } => {
                *holds = None;
                match rx.try_read() {
                    // A lossy topic that overtook us moved the cursor past the message.
                    Err(RecvError::Lagged { missed }) => {
                        (self.report)(&Report::Lagged { missed });
                        Ok(())
                    }
                    found => release_at(
                        found,
                        position,
                        broadcast::ReadGrant::position,
                        broadcast::ReadGrant::keep,
                    ),
                }
            }
        };
        released.map_err(|e| self.at.recv_error(e))
    }

    /// Reports what a look met that is not the end of the bridge.
    fn note(&self, e: RecvError) {
        match e {
            RecvError::Lagged { missed } => (self.report)(&Report::Lagged { missed }),
            RecvError::Evicted => (self.report)(&Report::Evicted),
            _ => {}
        }
    }
}

/// Releases the grant `found` if it lends the message at `position` (by dropping it);
/// otherwise keeps it in the ring and says the ring is not what it was.
fn release_at<G>(
    found: Result<G, RecvError>,
    position: u64,
    at: impl Fn(&G) -> u64,
    keep: impl FnOnce(G),
) -> Result<(), RecvError> {
    let g = found?;
    if at(&g) == position {
        drop(g);
        Ok(())
    } else {
        keep(g);
        Err(RecvError::Corrupted)
    }
}

/// Consumers of the MPMC queue at `at`, one for each message of the window, as many as
/// the queue has free slots for (at least one).
fn workers(at: &RingAt, window: usize) -> Result<Vec<Worker>, BridgeError> {
    let mut workers = Vec::new();
    while workers.len() < window {
        match at.builder::<mpmc::Shape>().open_consumer() {
            Ok(rx) => workers.push(Worker { rx, holds: None }),
            Err(OpenError::RoleTaken { .. }) if !workers.is_empty() => break,
            Err(e) => return Err(at.open_error(e)),
        }
    }
    Ok(workers)
}
