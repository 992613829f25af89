//! Broadcast topics: every subscriber receives every message, in one order, from any
//! number of publishers (a chat room, a telemetry or market-data fan-out).
//!
//! A topic is a ring of fixed-size slots: it holds the last `capacity` messages, each of
//! 0 bytes up to the slot size. Publishers and subscribers of any processes attach and
//! detach at run time, up to the role slots fixed at create. Message number `p` of the
//! topic is at position `p`, which every subscriber reads in turn: all see the same order,
//! and each publisher's messages in the order it sent them.
//!
//! Two modes, fixed at create:
//!
//! - **Lossless** (the default): a publisher waits while the slowest live subscriber is a
//!   whole topic behind (`try_send` returns `Full`). A subscriber that dies is evicted (the
//!   kernel releases its role lock; publishers that wait on it notice within a few
//!   milliseconds), so it never blocks the topic; a slow or stopped one does block it
//!   (slow is not dead), unless the topic has a `max_lag`: then a subscriber that keeps
//!   a publisher waiting that long is evicted, counted, and told so by
//!   [`crate::RecvError::Evicted`] at its next receive.
//! - **Lossy**: publishers never wait for subscribers; they overwrite the oldest messages.
//!   A subscriber that was overtaken gets [`crate::RecvError::Lagged`] with the exact
//!   number of positions it lost, then resumes at the oldest message still held. A copy
//!   that raced with an overwrite is detected after the copy and never returned.
//!
//! Pick lossless when every subscriber must see everything (a chat room, an audit feed)
//! and a stuck subscriber may hold publishers up; pick lossy when publishers must never
//! wait and the newest data matters most (telemetry, prices).
//!
//! Crashes: a publisher marks the position it claims in its role slot before it claims it,
//! so a publisher that dies between claim and commit is known, and its position is skipped
//! (it holds no message; counted) once the kernel has released its lock. A live
//! publisher's claim is waited for, however long it takes, by subscribers (they read in
//! order) and by the publisher that needs its slot a lap later — unless the topic has a
//! stall timeout ([`Builder::stall_timeout`]): then subscribers pass a claim older than
//! that, the stalled publisher's commit fails with [`crate::SendError::Skipped`], and its
//! slot is not reused until it comes back or dies.
//!
//! **Committed** means the commit of the slot happened (`send*` returned, or
//! [`WriteGrant::commit`] was called): from then on every subscriber attached before the
//! message was published receives it (lossless), or receives it or counts it as lost
//! (lossy). Subscribers write nothing into the slots: receives copy a message out and
//! check the copy; [`Subscriber::read`] lends it in place where publishers cannot
//! overwrite it (a lossless topic without a `max_lag`), a checked copy elsewhere. See
//! `topic.rs` for the algorithm.

mod builder;
mod cell;
mod heap;
mod layout;
mod passing;
mod publisher;
mod reading;
mod room;
mod stats;
mod subscriber;
mod survey;
mod topic;

pub use crate::cells::{MAX_ROLE_SLOTS, MAX_SLOT_SIZE};
pub use builder::{Builder, Shape, DEFAULT_CAPACITY, DEFAULT_ROLE_SLOTS, DEFAULT_SLOT_SIZE};
pub use heap::HeapTopic;
pub(crate) use layout::Broadcast;
pub use publisher::{Publisher, WriteGrant};
pub use stats::{Stats, SubscriberStats};
pub use subscriber::{ReadGrant, Subscriber};
