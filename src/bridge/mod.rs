//! Rings across machines: bridges between rings and NATS JetStream (feature `nats`).
//!
//! An [`Outbound`] bridge reads a ring (an SPSC or MPMC consumer, or a broadcast
//! subscriber: whatever kind the ring is) and publishes each message to a JetStream
//! subject; an [`Inbound`] bridge pulls a subject's messages through a durable consumer
//! and commits each into a ring. Both run on tokio, until a shutdown future completes.
//!
//! ```no_run
//! use ipcring::bridge::{Inbound, Options, Outbound, RingAt};
//! # async fn f() -> Result<(), ipcring::bridge::BridgeError> {
//! let nats = Options::default()
//!     .server("nats://nats.example:4222")
//!     .on_report(|r| eprintln!("bridge: {r}"));
//! // Machine A: the ring "orders" to the subject "orders.eu" (a stream holds it).
//! let out = Outbound::new(RingAt::Name("orders".into()), "orders.eu").options(nats.clone());
//! // Machine B: the subject into the ring "orders-b", through the durable consumer "b".
//! let into = Inbound::new("orders.eu", RingAt::Name("orders-b".into()), "b")
//!     .options(nats)
//!     .dedupe("/var/lib/orders/b.state");
//! # let stop = std::future::pending::<()>;
//! let (a, b) = tokio::join!(out.run(stop()), into.run(stop()));
//! # Ok(())
//! # }
//! ```
//!
//! # The delivery contract
//!
//! **Outbound: at least once into the stream, and exactly once while the stream's
//! duplicate window covers a restart.** The bridge releases a message from the ring only
//! after JetStream acknowledged it (stored it): until then the ring keeps it, for this
//! bridge or the next one. Each message is published with the id
//! `Nats-Msg-Id: <incarnation>-<position>` ([`MessageId`]): the ring's incarnation (a
//! random word drawn when the ring was created) and the message's position in the ring (an
//! SPSC record's byte position, an MPMC cell's ticket, a topic's message number), which a
//! message read again after a reader died keeps. So:
//!
//! - a bridge killed at any instant loses nothing: what was acknowledged was stored, the
//!   rest is still in the ring;
//! - a restarted bridge publishes again what was in flight when the old one died (at most
//!   the window); JetStream drops those it stored already, if their first publish is within
//!   the stream's duplicate window (`duplicate_window`, 2 minutes by default; streams that
//!   the bridge creates get [`DUPLICATE_WINDOW`], 10 minutes). A bridge that stays down
//!   longer than the window stores those (at most a window of messages) twice;
//! - a publish that fails (no acknowledgement within 5 s, a lost connection, a server
//!   that restarts) is published again, after a backoff from 100 ms to 5 s, with every
//!   message in flight behind it, in order, under the same ids: nothing is dropped, and
//!   duplicates are dropped by the server. Around such a failure a message may be stored
//!   after one that followed it in the ring (when its first publish was lost and the next
//!   one's was not); otherwise the stream has the ring's order (the order in which
//!   messages were taken from an MPMC queue, for several consumer handles).
//!
//! By kind: an SPSC ring holds a window of messages in place (peeked, not released), and
//! releases the oldest at each acknowledgement. An MPMC queue takes a consumer slot per
//! message in flight (a window of N takes N slots, or as many as are free: a queue has a
//! bounded number of consumer slots, set at its creation); a bridge that dies leaves its
//! messages claimed by dead slots, and any consumer (the next bridge) adopts them again at
//! the same positions. A broadcast topic holds one message in flight (its subscriber's
//! cursor passes a message only after the acknowledgement; a window would need a
//! subscriber that reads ahead of its cursor), and a topic keeps nothing for a subscriber
//! that is gone: a restarted bridge joins at the oldest message the topic still holds and
//! publishes all of it again (JetStream drops what it has), but what the topic overwrote
//! while no bridge was attached is lost, as is what a lossy topic overwrites before the
//! bridge reads it ([`Report::Lagged`]) and what a topic with a `max_lag` publishes while
//! it evicted the bridge ([`Report::Evicted`]).
//!
//! **Inbound: at least once into the ring; with dedupe, exactly once but for one message
//! per kill.** The bridge commits a message into the ring (waiting while the ring is full:
//! at most one message is held outside the ring, and the server delivers at most a batch
//! without acknowledgements), then acknowledges it. A bridge killed between the commit and
//! the acknowledgement, or whose acknowledgement the server never received or lost (a lost
//! connection, a kill while acknowledgements still wait in the client's buffer, a server
//! killed before it stored them), gets those messages again from the server (after the
//! consumer's `ack_wait`, 30 s by default: [`Inbound::ack_wait`]; after a server's restart)
//! and commits them twice: without dedupe, that is the duplicate window — the messages
//! committed whose acknowledgements had not reached the server's store, at most one batch
//! ([`Inbound::batch`], the most the server delivers without acknowledgements) per kill or
//! lost connection (5 to 54 of a batch of 64 in the tests' kills). With
//! [`Inbound::dedupe`], the bridge writes the stream sequence of each message it committed
//! to a small file after the commit, and drops a message it finds there, however late it
//! comes again: the file keeps the consumer's ack floor (asked of the server every 200 ms:
//! every message up to it is acknowledged, hence committed) and every sequence committed
//! above it. The one window left is a kill between the commit and that write (a few
//! instructions and one `pwrite`), which commits one message twice; and past 2^20 commits
//! above a floor held down (a message unacknowledged for minutes at a high rate), the
//! lowest are forgotten. Dedupe takes one bridge per durable consumer and ring (the file is
//! locked: a second bridge on it is an error), and a stream that never numbers two messages
//! the same (a stream or consumer deleted and created again starts a new state). Messages
//! that a killed bridge had pulled and not committed come again after `ack_wait` too, and
//! are committed then, after later ones (never dropped). The file is not synced: a machine
//! crash may lose its last writes (more duplicates), and with a file-backed ring whose
//! messages reached the disk while the file's last writes did not, or the reverse, a crash
//! of the machine can make the bridge drop messages that the ring lost: use dedupe with
//! rings in shared memory, or sync both.
//!
//! A message never leaves the ring or the stream before it is safe on the other side;
//! a message too large for the other side (the server's `max_payload`, the ring's largest
//! message) stops the bridge with an error and stays where it was.
//!
//! **Connections.** The client reconnects by itself, with its own backoff, and the bridges
//! report it ([`Report::Disconnected`], [`Report::Connected`]); what failed meanwhile is
//! tried again as above. At start, an address that is none or no server there, a missing
//! stream, or a ring that cannot be opened is an error at once.
//!
//! This build's client speaks plain `nats://` (no TLS).

mod backoff;
mod dedupe;
mod error;
mod id;
mod inbound;
mod link;
mod options;
mod outbound;
mod reader;
mod report;
mod ring;
mod writer;

pub use error::BridgeError;
pub use id::{BadMessageId, MessageId};
pub use inbound::Inbound;
pub use link::DUPLICATE_WINDOW;
pub use options::Options;
pub use outbound::Outbound;
pub use report::{Report, Summary};
pub use ring::RingAt;

/// The server both bridges connect to unless told otherwise.
pub const DEFAULT_SERVER: &str = "nats://127.0.0.1:4222";

#[cfg(test)]
mod tests {
    use super::{Inbound, Outbound, RingAt};

    fn spawnable<F: core::future::Future + Send + 'static>(_: F) {}

    /// A bridge's run is a future that a multi-threaded runtime may spawn (it is only
    /// made here, never polled).
    #[test]
    fn runs_are_send() {
        let ring = || RingAt::Name("unit-never-made".into());
        spawnable(Outbound::new(ring(), "s").run(async {}));
        spawnable(Inbound::new("s", ring(), "d").run(async {}));
    }
}
