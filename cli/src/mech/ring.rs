//! ipcring SPSC: one ring per direction, with the wait strategy under test.

use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use crate::cleanup::RingName;
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use std::io;

struct RingLink {
    tx: Producer,
    rx: Consumer,
    /// The parent's names, unlinked on drop (the child holds none).
    _names: Vec<RingName>,
}

impl Link for RingLink {
    fn send(&mut self, msg: &[u8]) {
        self.tx.send(msg).expect("ipcring send");
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        self.rx.recv_into(buf).expect("ipcring receive");
    }

    fn wakeups(&self) -> Option<u64> {
        let (a, b) = (self.tx.stats(), self.rx.stats());
        Some(a.producer_wakeups + a.consumer_wakeups + b.producer_wakeups + b.consumer_wakeups)
    }
}

/// The wait strategy of an SPSC mechanism.
pub fn strategy(mech: Mech) -> WaitStrategy {
    match mech {
        Mech::RingSpin => WaitStrategy::BusySpin,
        Mech::RingPark => WaitStrategy::Park,
        _ => WaitStrategy::default(),
    }
}

/// A data area that takes a message of `size` bytes (at most a quarter of it), and at
/// least the default 1 MiB.
fn capacity_for(size: usize) -> usize {
    (size * 4).next_power_of_two().max(1 << 20)
}

fn err(e: ipcring::OpenError) -> io::Error {
    io::Error::other(e)
}

pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    let name = format!("bench-{tag}");
    let opts = |n: &str| {
        Builder::new(n)
            .capacity(capacity_for(size))
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
        link: Box::new(RingLink {
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
    Ok(Box::new(RingLink {
        rx: opts("a").open_consumer().map_err(err)?,
        tx: opts("b").open_producer().map_err(err)?,
        _names: Vec::new(),
    }))
}
