//! One cross-process measurement: which library, which kind of ring, how its ends wait,
//! the message size, and whether the child echoes (a round trip) or sinks a stream. The
//! parent hands it to its children on their command line.

use crate::measure::BLOCK;

/// The library under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    Ipcring,
    Ringfire,
    Iceoryx2,
}

/// The kind of ring: ipcring's three kinds, and what each peer has that does the same job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ipcring SPSC; ringfire's SPMC ring with one reader; iceoryx2 publish/subscribe.
    Spsc,
    /// ipcring's MPMC work queue; ringfire's MPMC work queue (lossy).
    Mpmc,
    /// ipcring broadcast topic (lossless); ringfire's SPMC ring, lossless.
    Broadcast,
}

/// How a blocked end waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Spin until ready.
    Spin,
    /// The library's default: spin a while, then sleep on a futex.
    Default,
    /// Sleep on a futex at once.
    Park,
}

/// A measurement, as the parent and its children see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub lib: Lib,
    pub kind: Kind,
    pub wait: Wait,
    /// Message size in bytes: 8 or [`BLOCK`].
    pub size: usize,
    /// 0: a round trip, the child echoes until `STOP`; otherwise the child receives this
    /// many messages of a stream.
    pub n: u64,
    /// Children that receive the stream (each one every message); 1 for a round trip.
    pub subscribers: usize,
}

const LIBS: [(Lib, &str); 3] = [
    (Lib::Ipcring, "ipcring"),
    (Lib::Ringfire, "ringfire"),
    (Lib::Iceoryx2, "iceoryx2"),
];
const KINDS: [(Kind, &str); 3] = [
    (Kind::Spsc, "spsc"),
    (Kind::Mpmc, "mpmc"),
    (Kind::Broadcast, "broadcast"),
];
const WAITS: [(Wait, &str); 3] = [
    (Wait::Spin, "spin"),
    (Wait::Default, "default"),
    (Wait::Park, "park"),
];

fn word<T: Copy + PartialEq>(table: &[(T, &'static str)], v: T) -> &'static str {
    table
        .iter()
        .find(|e| e.0 == v)
        .expect("every value is named")
        .1
}

fn value<T: Copy>(table: &[(T, &str)], w: &str) -> Option<T> {
    table.iter().find(|e| e.1 == w).map(|e| e.0)
}

impl Job {
    /// A round trip of 8-byte messages.
    pub fn round_trip(lib: Lib, kind: Kind, wait: Wait) -> Job {
        Job {
            lib,
            kind,
            wait,
            size: 8,
            n: 0,
            subscribers: 1,
        }
    }

    /// A stream of `n` messages of `size` bytes to `subscribers` children.
    pub fn stream(
        lib: Lib,
        kind: Kind,
        wait: Wait,
        size: usize,
        n: u64,
        subscribers: usize,
    ) -> Job {
        Job {
            lib,
            kind,
            wait,
            size,
            n,
            subscribers,
        }
    }

    /// Whether a ringfire ring of this job holds its writer back for its slowest reader:
    /// always in a stream (the sink checks that it lost nothing) and in a broadcast.
    pub fn lossless(&self) -> bool {
        self.n > 0 || self.kind == Kind::Broadcast
    }

    /// The row's name in the tables.
    pub fn label(&self) -> String {
        let wait = match (self.lib, self.wait) {
            (Lib::Iceoryx2, _) => "busy-poll",
            (_, Wait::Spin) => "busy-spin",
            (Lib::Ipcring, Wait::Default) => "default",
            (Lib::Ipcring, Wait::Park) => "parked",
            (Lib::Ringfire, Wait::Default) => "futex, 32 spins",
            (Lib::Ringfire, Wait::Park) => "futex, 0 spins",
        };
        let what = match (self.lib, self.kind) {
            (Lib::Ipcring, k) => format!("ipcring {}", word(&KINDS, k)),
            (Lib::Ringfire, Kind::Mpmc) => "ringfire 0.5 mpmc (lossy)".to_owned(),
            (Lib::Ringfire, _) if self.lossless() => "ringfire 0.5 spmc lossless".to_owned(),
            (Lib::Ringfire, _) => "ringfire 0.5 spmc".to_owned(),
            (Lib::Iceoryx2, _) => "iceoryx2 0.10 pub/sub".to_owned(),
        };
        format!("{what}, {wait}")
    }

    /// The command-line words that [`Job::parse`] reads back.
    pub fn to_args(self) -> Vec<String> {
        vec![
            word(&LIBS, self.lib).to_owned(),
            word(&KINDS, self.kind).to_owned(),
            word(&WAITS, self.wait).to_owned(),
            self.size.to_string(),
            self.n.to_string(),
            self.subscribers.to_string(),
        ]
    }

    /// Reads what [`Job::to_args`] wrote.
    pub fn parse(args: &[String]) -> Option<Job> {
        let [lib, kind, wait, size, n, subscribers] = args else {
            return None;
        };
        let size = size.parse().ok()?;
        (size == 8 || size == BLOCK).then_some(())?;
        Some(Job {
            lib: value(&LIBS, lib)?,
            kind: value(&KINDS, kind)?,
            wait: value(&WAITS, wait)?,
            size,
            n: n.parse().ok()?,
            subscribers: subscribers.parse().ok()?,
        })
    }
}
