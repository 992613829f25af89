//! Many producers, many consumers: a work queue of fixed-size slots across processes.
//!
//! Any number of producer and consumer processes attach and detach at run time, up to the
//! role slots fixed at create. Each message (0 bytes up to the slot size) goes to exactly
//! one consumer; the messages of one producer arrive in the order it sent them. A full
//! queue makes `send` wait and `try_send` fail at once with `Full` (counted as rejected).
//!
//! Crashes: a producer that dies between claiming a slot and committing it never stalls
//! the consumers: before it claims, it marks the position in its role slot, so every claim
//! has a known holder from the moment it exists, and once the kernel has released the dead
//! holder's role lock the claim is passed (counted as skipped). A consumer that dies while it holds a message (during
//! `recv_into`, or a `read` grant) does not lose it: another consumer, or a producer that
//! needs the slot, delivers it again (counted as redelivered). So delivery is exactly once
//! while nobody crashes, and at least once for the messages of a crashed consumer.
//!
//! **Committed** means the commit of the slot succeeded (`send*` and
//! [`WriteGrant::commit`] returned `Ok`): from then on the message is delivered.
//! **Released** means a consumer is done with it (`recv_into` returned, or the
//! [`ReadGrant`] was dropped): from then on it is never delivered again. See `queue.rs`
//! for the algorithm.

mod builder;
mod cell;
mod consumer;
mod heap;
mod layout;
mod producer;
mod queue;
mod recovery;
mod stats;
mod survey;

pub use crate::cells::{MAX_ROLE_SLOTS, MAX_SLOT_SIZE};
pub use builder::{Builder, Shape, DEFAULT_CAPACITY, DEFAULT_ROLE_SLOTS, DEFAULT_SLOT_SIZE};
pub use consumer::{Consumer, ReadGrant};
pub use heap::HeapQueue;
pub(crate) use layout::Mpmc;
pub use layout::MAX_SLOTS_PER_QUEUE;
pub use producer::{Producer, WriteGrant};
pub use stats::Stats;
