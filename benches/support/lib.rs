//! What ipcring's benchmarks share: the `ipcring bench` tool (cli/), the criterion benches
//! (benches/*.rs) and the peers' run (benches/peers/) depend on this crate.
//!
//! - [`pin`]: choosing two CPUs and pinning a thread to one;
//! - [`refring`]: the fixed-slot reference ring, the yardstick for throughput;
//! - [`shm`]: anonymous shared memory (a memfd) that a child process inherits;
//! - [`team`]: a team of pinned threads streaming through one queue, many to many;
//! - [`pingpong`]: an 8-byte ping-pong between two threads over the team's ends;
//! - [`ends`]: the team's ends for ipcring's MPMC queue and SPSC ring and crossbeam's
//!   `ArrayQueue`;
//! - [`nats`]: a `nats-server` of our own for the NATS bridge's tests, demo and bench.

#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod ends;
pub mod nats;
pub mod pin;
pub mod pingpong;
pub mod refring;
pub mod shm;
pub mod team;
