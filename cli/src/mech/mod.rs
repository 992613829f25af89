//! The mechanisms under test, each as a duplex [`Link`] with a parent and a child side.
//!
//! A message is `size` bytes whose first 8 hold a sequence number (1, 2, 3...); the last
//! message of a run carries the next number with [`STOP`] set and is echoed back.

pub mod broadcast;
mod kernel;
mod memory;
pub mod mpmc;
mod pair;
pub mod ring;

use crate::child::ChildArgs;
use std::io;
use std::os::fd::{OwnedFd, RawFd};

/// Set in the sequence number of the final message of a run.
pub const STOP: u64 = 1 << 62;

/// The sequence number in `msg`.
pub fn seq_of(msg: &[u8]) -> u64 {
    u64::from_le_bytes(msg[..8].try_into().expect("messages are at least 8 bytes"))
}

/// Writes the sequence number `seq` into `msg`.
pub fn set_seq(msg: &mut [u8], seq: u64) {
    msg[..8].copy_from_slice(&seq.to_le_bytes());
}

/// One side of a duplex channel. Failures panic: a benchmark cannot go on without its
/// channel, and the parent turns a child's panic into a clean abort.
pub trait Link {
    /// Sends `msg` (waiting for room as the mechanism does).
    fn send(&mut self, msg: &[u8]);
    /// Receives the next message into `buf` (replacing its contents).
    fn recv(&mut self, buf: &mut Vec<u8>);
    /// Futex wake calls this mechanism made so far, if it counts them.
    fn wakeups(&self) -> Option<u64> {
        None
    }
}

/// A mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mech {
    /// Two atomics on two 128-byte lines, busy-spin: what the hardware allows.
    Limit,
    /// ipcring SPSC, busy-spin.
    RingSpin,
    /// ipcring SPSC through the non-blocking calls only: `try_send`, then `try_recv_into`
    /// in a busy loop until the answer is there, as users of rtrb write a ping-pong.
    RingTry,
    /// ipcring SPSC, the default spin-then-park.
    RingDefault,
    /// ipcring SPSC, parked at once.
    RingPark,
    /// ipcring MPMC, busy-spin.
    MpmcSpin,
    /// ipcring MPMC, the default spin-then-park.
    MpmcDefault,
    /// ipcring broadcast (lossless), busy-spin.
    BroadcastSpin,
    /// ipcring broadcast (lossless), the default spin-then-park.
    BroadcastDefault,
    /// A raw futex sleep/wake ping-pong on two words in shared memory.
    Futex,
    /// The fixed-slot reference ring (8-byte messages).
    RefRing,
    Pipe,
    Unix,
    Eventfd,
    Mqueue,
    Sysv,
    Tcp,
}

impl Mech {
    /// Its name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Mech::Limit => "limit (2 lines, busy-spin)",
            Mech::RingSpin => "ipcring spsc, busy-spin",
            Mech::RingTry => "ipcring spsc, try_* polling",
            Mech::RingDefault => "ipcring spsc, default",
            Mech::RingPark => "ipcring spsc, parked",
            Mech::MpmcSpin => "ipcring mpmc, busy-spin",
            Mech::MpmcDefault => "ipcring mpmc, default",
            Mech::BroadcastSpin => "ipcring broadcast, busy-spin",
            Mech::BroadcastDefault => "ipcring broadcast, default",
            Mech::Futex => "raw futex wait/wake",
            Mech::RefRing => "fixed-slot reference ring",
            Mech::Pipe => "pipe",
            Mech::Unix => "unix stream socket",
            Mech::Eventfd => "eventfd",
            Mech::Mqueue => "POSIX message queue",
            Mech::Sysv => "System V message queue",
            Mech::Tcp => "TCP 127.0.0.1",
        }
    }

    /// Its family, for the JSON output.
    pub fn kind(self) -> Kind {
        match self {
            Mech::Limit => Kind::Limit,
            Mech::RingSpin | Mech::RingTry | Mech::RingDefault | Mech::RingPark => Kind::Spsc,
            Mech::MpmcSpin | Mech::MpmcDefault => Kind::Mpmc,
            Mech::BroadcastSpin | Mech::BroadcastDefault => Kind::Broadcast,
            Mech::Futex => Kind::Futex,
            Mech::RefRing => Kind::Reference,
            Mech::Pipe | Mech::Unix | Mech::Eventfd | Mech::Mqueue | Mech::Sysv | Mech::Tcp => {
                Kind::Kernel
            }
        }
    }

    /// Its stable identifier: the `--mech` value of `ipcring child`, e.g. `ring-spin`.
    pub fn id(self) -> String {
        use clap::ValueEnum;
        let value = self.to_possible_value().expect("no skipped variants");
        value.get_name().to_owned()
    }
}

/// The families of mechanisms: the closed set of `kind` values of `--json` (see
/// `cli/JSON.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The hardware limit: two atomics on their own lines, busy-spin.
    Limit,
    /// An ipcring SPSC ring.
    Spsc,
    /// An ipcring MPMC queue.
    Mpmc,
    /// An ipcring broadcast topic.
    Broadcast,
    /// A raw futex wait/wake ping-pong in shared memory: the floor of a parked wait.
    Futex,
    /// The fixed-slot reference ring.
    Reference,
    /// The kernel's IPC: pipe, sockets, eventfd, message queues.
    Kernel,
}

impl Kind {
    /// Every kind, in the order of `cli/JSON.md`.
    #[cfg(test)]
    pub const ALL: [Kind; 7] = [
        Kind::Limit,
        Kind::Spsc,
        Kind::Mpmc,
        Kind::Broadcast,
        Kind::Futex,
        Kind::Reference,
        Kind::Kernel,
    ];

    /// Its name in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Limit => "limit",
            Kind::Spsc => "spsc",
            Kind::Mpmc => "mpmc",
            Kind::Broadcast => "broadcast",
            Kind::Futex => "futex",
            Kind::Reference => "reference",
            Kind::Kernel => "kernel",
        }
    }
}

/// What the parent needs to run one mechanism: its side of the link, and what to hand to
/// the child (descriptors it inherits, a name, an id).
pub struct Prepared {
    pub link: Box<dyn Link>,
    /// Descriptors the child inherits, in the order its side expects them.
    pub child_fds: Vec<RawFd>,
    /// The child's ends, closed in the parent once the child runs.
    pub close_after_spawn: Vec<OwnedFd>,
    pub name: String,
    pub id: i32,
}

/// Sets up `mech` for messages of `size` bytes; `tag` makes names unique.
pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    match mech {
        Mech::Limit => memory::prepare_limit(),
        Mech::Futex => memory::prepare_futex(),
        Mech::RefRing => memory::prepare_ref_ring(size),
        Mech::RingSpin | Mech::RingTry | Mech::RingDefault | Mech::RingPark => {
            ring::prepare(mech, size, tag)
        }
        Mech::MpmcSpin | Mech::MpmcDefault => mpmc::prepare(mech, size, tag),
        Mech::BroadcastSpin | Mech::BroadcastDefault => broadcast::prepare(mech, size, tag),
        Mech::Pipe | Mech::Unix | Mech::Tcp | Mech::Eventfd => kernel::prepare_fds(mech, size),
        Mech::Mqueue => kernel::prepare_mqueue(size, tag),
        Mech::Sysv => kernel::prepare_sysv(size),
    }
}

/// The child's side of the link the parent prepared.
pub fn open_child(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    match args.mech {
        Mech::Limit => memory::open_limit(args),
        Mech::Futex => memory::open_futex(args),
        Mech::RefRing => memory::open_ref_ring(args),
        Mech::RingSpin | Mech::RingTry | Mech::RingDefault | Mech::RingPark => ring::open(args),
        Mech::MpmcSpin | Mech::MpmcDefault => mpmc::open(args),
        Mech::BroadcastSpin | Mech::BroadcastDefault => broadcast::open(args),
        Mech::Pipe | Mech::Unix | Mech::Tcp | Mech::Eventfd | Mech::Mqueue => {
            kernel::open_fds(args)
        }
        Mech::Sysv => kernel::open_sysv(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_round_trip_through_a_message() {
        let mut m = vec![0u8; 16];
        set_seq(&mut m, 7 | STOP);
        assert_eq!(seq_of(&m), 7 | STOP);
        assert_eq!(&m[8..], &[0; 8]);
    }
}
