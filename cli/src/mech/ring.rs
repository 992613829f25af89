//! ipcring SPSC: one ring per direction, with the wait strategy under test.

use super::pair::{self, Ends};
use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use std::io;

/// SPSC rings, for the round trip of [`pair`].
struct Spsc;

impl Ends for Spsc {
    type Tx = Producer;
    type Rx = Consumer;

    fn send(tx: &mut Producer, msg: &[u8]) {
        tx.send(msg).expect("ipcring send");
    }

    fn recv(rx: &mut Consumer, buf: &mut Vec<u8>) {
        rx.recv_into(buf).expect("ipcring receive");
    }

    fn wakeups(tx: &Producer, rx: &Consumer) -> u64 {
        let (a, b) = (tx.stats(), rx.stats());
        a.producer_wakeups + a.consumer_wakeups + b.producer_wakeups + b.consumer_wakeups
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

pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    let opts = |n: &str| {
        Builder::new(n)
            .capacity(capacity_for(size))
            .populate(true)
            .wait_strategy(strategy(mech))
    };
    pair::prepare::<Spsc>(
        tag,
        |n| opts(n).create_producer(),
        |n| opts(n).create_consumer(),
    )
}

pub fn open(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    let opts = |n: &str| {
        Builder::new(n)
            .populate(true)
            .wait_strategy(strategy(args.mech))
    };
    pair::open::<Spsc>(
        &args.name,
        |n| opts(n).open_consumer(),
        |n| opts(n).open_producer(),
    )
}
