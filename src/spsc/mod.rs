//! Single producer, single consumer: variable-length messages, zero-copy both ways.
//!
//! Records are an 8-byte header word plus the payload, 8-byte aligned, with a padding
//! record at the end of the area so that a record never straddles the wrap. The header is
//! the commit flag (see `record.rs`); the consumer never writes the data area and tells the
//! producer its position lazily, on a line of its own.
//!
//! Either side may create the ring; the other opens it. At most one live producer and one
//! live consumer are attached at a time (`RoleTaken` otherwise). A new producer continues
//! after the last committed record; a new consumer resumes after the last released one.

mod builder;
mod consumer;
mod heap;
mod layout;
mod producer;
pub(crate) mod record;
mod shared;
mod stats;
mod survey;

pub(crate) use layout::Spsc;

pub use builder::{Builder, Shape, DEFAULT_CAPACITY};
pub use consumer::{Consumer, ReadGrant};
pub use heap::{heap_pair, HeapRing};
pub use layout::{max_message_for, MAX_CAPACITY, MIN_CAPACITY};
pub use producer::{Producer, WriteGrant};
pub use stats::Stats;
