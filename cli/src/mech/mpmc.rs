//! ipcring MPMC: one work queue per direction, one producer and one consumer on each, with
//! the wait strategy under test. The round trip of the same two processes as the SPSC
//! rows, through the many-producer, many-consumer algorithm.

use super::pair::{self, Ends};
use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use std::io;

/// Slots of each queue: the library's default. A ping-pong never has more than one
/// message in a queue.
const SLOTS: usize = ipcring::mpmc::DEFAULT_CAPACITY;

/// MPMC queues, for the round trip of [`pair`].
struct Mpmc;

impl Ends for Mpmc {
    type Tx = Producer;
    type Rx = Consumer;

    fn send(tx: &mut Producer, msg: &[u8]) {
        tx.send(msg).expect("ipcring mpmc send");
    }

    fn recv(rx: &mut Consumer, buf: &mut Vec<u8>) {
        rx.recv_into(buf).expect("ipcring mpmc receive");
    }

    fn wakeups(tx: &Producer, rx: &Consumer) -> u64 {
        let (a, b) = (tx.stats(), rx.stats());
        a.producer_wakeups + a.consumer_wakeups + b.producer_wakeups + b.consumer_wakeups
    }
}

/// The wait strategy of an MPMC mechanism.
pub fn strategy(mech: Mech) -> WaitStrategy {
    match mech {
        Mech::MpmcSpin => WaitStrategy::BusySpin,
        _ => WaitStrategy::default(),
    }
}

pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    let opts = |n: &str| {
        Builder::new(n)
            .capacity(SLOTS)
            .slot_size(size)
            .producers(1)
            .consumers(1)
            .populate(true)
            .wait_strategy(strategy(mech))
    };
    pair::prepare::<Mpmc>(
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
    pair::open::<Mpmc>(
        &args.name,
        |n| opts(n).open_consumer(),
        |n| opts(n).open_producer(),
    )
}
