//! # ipcring
//!
//! Low-latency inter-process communication on Linux through lock-free rings in named
//! shared memory. After set-up, no message touches the kernel: a producer writes a record
//! into a segment that both processes map, and the consumer sees it by polling one word.
//! When a side has to wait, it spins, then yields, then sleeps on a futex in the segment,
//! and the other side wakes it only if it announced that it sleeps, so a busy pair makes
//! no system calls at all.
//!
//! Two processes (here two handles in one process, which behave the same way: each has its
//! own mapping and its own role lock):
//!
//! ```
//! use ipcring::spsc::{Consumer, Producer};
//! # let name = format!("doc-crate-{}", std::process::id());
//!
//! // Process A: create the ring "orders" with a 1 MiB data area.
//! let mut tx = Producer::create(&name, 1 << 20)?;
//! tx.send(b"order #1")?;
//! let mut g = tx.reserve(64)?;          // write in place, then commit
//! g.write_at(0, b"order #2");
//! g.commit(8);
//!
//! // Process B: open it and receive.
//! let mut rx = Consumer::open(&name)?;
//! let mut buf = Vec::new();
//! rx.recv_into(&mut buf)?;
//! assert_eq!(buf, b"order #1");
//! let msg = rx.read()?;                 // zero-copy: released on drop
//! assert_eq!(&*msg, b"order #2");
//! drop(msg);
//!
//! // Once the producer is gone, the consumer drains what is left, then sees Disconnected.
//! drop(tx);
//! assert_eq!(rx.try_recv_into(&mut buf), Err(ipcring::RecvError::Disconnected));
//! ipcring::unlink(&name)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The ring kinds: [`spsc`] (one producer, one consumer, variable-length messages: the
//! lowest latency), [`mpmc`] (a work queue: any number of producers and competing
//! consumers, fixed-size slots, crash-safe claims) and [`broadcast`] (topics: every
//! subscriber sees every message, lossless or lossy). Two kinds share state rather than
//! pass messages: a [`blackboard`] holds the newest value of each of its entries (readers
//! never see a torn value and never hold the writer up), and [`event`] segments carry no
//! messages at all: notifiers fire event ids and listeners wait for them, each id reported
//! once per wait with how many times it fired, and peers that leave reported too. They
//! share one core: the segment format, role slots, waiting, and the options of
//! [`Builder`].
//!
//! A thread waits on many rings at once with a [`WaitSet`], which also gives an event
//! loop a descriptor to poll; with the feature `tokio`, every handle has async receives
//! and sends, streams and sinks (module `task`), on any executor; with the feature `nats`,
//! module `bridge` moves a ring's messages to NATS JetStream and back, across machines.
//!
//! A message lent in place (`read`, `reserve`) is a view of memory that other processes map
//! too: [`SharedBytes`] and [`SharedBytesMut`] copy out and in with word-atomic accesses,
//! and hand out a `&[u8]` only to a caller that vouches for its peers (an `unsafe`
//! method), since a peer that scribbles over the segment could change the bytes under it.
//!
//! A ring lives at a name (`Producer::create(name, ..)`, [`Builder::new`]: POSIX shared
//! memory, gone at reboot) or at a path (`Builder::at(path)`: a file on any file system,
//! whose messages outlive every process and a reboot; removed with
//! [`remove_file_ring`]). Both give the same handles.
//!
//! Linux only: named segments are POSIX shared memory (`/dev/shm/ipcring.<name>`),
//! waiting uses futexes, and liveness uses open-file-description locks. Peers run as the
//! same user (or share a group, with [`Builder::mode`]).

#![cfg(target_os = "linux")]
#![deny(unsafe_op_in_unsafe_fn, missing_docs, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks, unreachable_pub)]

mod anonymous;
mod attachment;
pub mod blackboard;
#[cfg(all(feature = "nats", not(ipcring_loom)))]
pub mod bridge;
pub mod broadcast;
mod builder;
mod bytes;
mod cells;
mod claims;
#[cfg(feature = "crash-points")]
pub mod crash;
mod durability;
mod error;
pub mod event;
mod futex;
mod grant;
mod hint;
mod layout;
#[cfg(ipcring_loom)]
#[doc(hidden)]
pub mod loom_hooks;
mod mapping;
pub mod mpmc;
mod namespace;
mod pace;
mod region;
mod role;
mod roles;
mod segment;
pub mod spsc;
pub mod survey;
mod sync;
#[cfg(all(feature = "tokio", not(ipcring_loom)))]
pub mod task;
mod time;
mod view;
mod wait;
mod waitset;

pub use anonymous::RingFd;
pub use builder::Builder;
pub use durability::{SyncPolicy, SyncStats};
pub use error::{OpenError, RecvError, SendError};
pub use layout::{ABI_MAJOR, ABI_MINOR, MAGIC};
pub use namespace::{remove_file_ring, unlink, MAX_NAME_LEN};
pub use role::Role;
pub use view::{SharedBytes, SharedBytesMut};
pub use wait::WaitStrategy;
pub use waitset::{Ready, Room, WaitSet, Waitable};
