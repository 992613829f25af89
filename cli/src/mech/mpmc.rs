//! ipcring MPMC: one work queue per direction, one producer and one consumer on each, with
//! the wait strategy under test. The round trip of the same two processes as the SPSC
//! rows, through the many-producer, many-consumer algorithm.

use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use crate::cleanup::RingName;
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use std::io;

/// Slots of each queue: the library's default. A ping-pong never has more than one
/// message in a queue.
const SLOTS: usize = ipcring::mpmc::DEFAULT_CAPACITY;

struct MpmcLink {
    tx: Producer,
    rx: Consumer,
    /// The parent's names, unlinked on drop (the child holds none).
    _names: Vec<RingName>,
}

impl Link for MpmcLink {
    fn send(&mut self, msg: &[u8]) {
        self.tx.send(msg).expect("ipcring mpmc send");
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        self.rx.recv_into(buf).expect("ipcring mpmc receive");
    }

    fn wakeups(&self) -> Option<u64> {
        let (a, b) = (self.tx.stats(), self.rx.stats());
        Some(a.producer_wakeups + a.consumer_wakeups + b.producer_wakeups + b.consumer_wakeups)
    }
}

/// The wait strategy of an MPMC mechanism.
pub fn strategy(mech: Mech) -> WaitStrategy {
    match mech {
        Mech::MpmcSpin => WaitStrategy::BusySpin,
        _ => WaitStrategy::default(),
    }
}

fn err(e: ipcring::OpenError) -> io::Error {
    io::Error::other(e)
}

pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    let name = format!("bench-{tag}");
    let opts = |n: &str| {
        Builder::new(n)
            .capacity(SLOTS)
            .slot_size(size)
            .producers(1)
            .consumers(1)
            .populate(true)
            .wait_strategy(strategy(mech))
    };
    let (a, tx) = RingName::create(format!("{name}-a"), |n| {
        opts(n).create_producer().map_err(err)
    })?;
    let (b, rx) = RingName::create(format!("{name}-b"), |n| {
        opts(n).create_consumer().map_err(err)
    })?;
    Ok(Prepared {
        link: Box::new(MpmcLink {
            tx,
            rx,
            _names: vec![a, b],
        }),
        child_fds: Vec::new(),
        close_after_spawn: Vec::new(),
        name,
        id: 0,
    })
}

pub fn open(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    let opts = |suffix: &str| {
        Builder::new(&format!("{}-{suffix}", args.name))
            .populate(true)
            .wait_strategy(strategy(args.mech))
    };
    Ok(Box::new(MpmcLink {
        rx: opts("a").open_consumer().map_err(err)?,
        tx: opts("b").open_producer().map_err(err)?,
        _names: Vec::new(),
    }))
}
