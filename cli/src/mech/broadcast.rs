//! ipcring broadcast: one lossless topic per direction, one publisher and one subscriber
//! on each, with the wait strategy under test. The round trip of the same two processes as
//! the SPSC rows, through the topic algorithm (claims, cursors, validated copies).

use super::pair::{self, Ends};
use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::WaitStrategy;
use std::io;

/// Slots of each topic: the library's default. A ping-pong never has more than one
/// message in flight.
const SLOTS: usize = ipcring::broadcast::DEFAULT_CAPACITY;

/// Broadcast topics, for the round trip of [`pair`].
struct Broadcast;

impl Ends for Broadcast {
    type Tx = Publisher;
    type Rx = Subscriber;

    fn send(tx: &mut Publisher, msg: &[u8]) {
        tx.send(msg).expect("ipcring broadcast send");
    }

    fn recv(rx: &mut Subscriber, buf: &mut Vec<u8>) {
        rx.recv_into(buf).expect("ipcring broadcast receive");
    }

    fn wakeups(tx: &Publisher, rx: &Subscriber) -> u64 {
        let (a, b) = (tx.stats(), rx.stats());
        a.publisher_wakeups + a.subscriber_wakeups + b.publisher_wakeups + b.subscriber_wakeups
    }
}

/// The wait strategy of a broadcast mechanism.
pub fn strategy(mech: Mech) -> WaitStrategy {
    match mech {
        Mech::BroadcastSpin => WaitStrategy::BusySpin,
        _ => WaitStrategy::default(),
    }
}

pub fn prepare(mech: Mech, size: usize, tag: &str) -> io::Result<Prepared> {
    let opts = |n: &str| {
        Builder::new(n)
            .capacity(SLOTS)
            .slot_size(size)
            .publishers(1)
            .max_subscribers(1)
            .populate(true)
            .wait_strategy(strategy(mech))
    };
    pair::prepare::<Broadcast>(
        tag,
        |n| opts(n).create_publisher(),
        |n| opts(n).create_subscriber(),
    )
}

pub fn open(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    let opts = |n: &str| {
        Builder::new(n)
            .populate(true)
            .wait_strategy(strategy(args.mech))
    };
    // From the oldest message: the parent may have sent the first one before we joined.
    pair::open::<Broadcast>(
        &args.name,
        |n| opts(n).from_oldest(true).open_subscriber(),
        |n| opts(n).open_publisher(),
    )
}
