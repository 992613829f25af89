//! ipcring SPSC: one ring per direction, with the wait strategy under test, or polled
//! through the non-blocking calls.

use super::pair::{self, Ends};
use super::{Link, Mech, Prepared};
use crate::child::ChildArgs;
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError, WaitStrategy};
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

/// SPSC rings used the way a ping-pong over rtrb or iceoryx2 is written: `try_send`
/// (again while the ring is full), then `try_recv_into` in a busy loop until a message
/// is there. The wait strategy is never used.
struct SpscTry;

impl Ends for SpscTry {
    type Tx = Producer;
    type Rx = Consumer;

    fn send(tx: &mut Producer, msg: &[u8]) {
        loop {
            match tx.try_send(msg) {
                Ok(()) => return,
                Err(SendError::Full) => std::hint::spin_loop(),
                Err(e) => panic!("ipcring try_send: {e}"),
            }
        }
    }

    fn recv(rx: &mut Consumer, buf: &mut Vec<u8>) {
        loop {
            match rx.try_recv_into(buf) {
                Ok(_) => return,
                Err(RecvError::Empty) => std::hint::spin_loop(),
                Err(e) => panic!("ipcring try_recv_into: {e}"),
            }
        }
    }

    fn wakeups(tx: &Producer, rx: &Consumer) -> u64 {
        Spsc::wakeups(tx, rx)
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
    let tx = |n: &str| opts(n).create_producer();
    let rx = |n: &str| opts(n).create_consumer();
    if mech == Mech::RingTry {
        pair::prepare::<SpscTry>(tag, tx, rx)
    } else {
        pair::prepare::<Spsc>(tag, tx, rx)
    }
}

pub fn open(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    let opts = |n: &str| {
        Builder::new(n)
            .populate(true)
            .wait_strategy(strategy(args.mech))
    };
    let rx = |n: &str| opts(n).open_consumer();
    let tx = |n: &str| opts(n).open_producer();
    if args.mech == Mech::RingTry {
        pair::open::<SpscTry>(&args.name, rx, tx)
    } else {
        pair::open::<Spsc>(&args.name, rx, tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mech::{seq_of, set_seq, STOP};

    /// Both sides of a try_* polling link, in two threads of this process: every message
    /// comes back in order, and the rings are gone afterwards.
    #[test]
    fn try_polling_links_echo_every_message() {
        let tag = format!("test-{}-try", std::process::id());
        let prep = prepare(Mech::RingTry, 8, &tag).unwrap();
        let args = ChildArgs {
            mech: Mech::RingTry,
            sink: false,
            size: 8,
            cpu: None,
            fds: Vec::new(),
            name: prep.name.clone(),
            id: 0,
            crowd: None,
        };
        let echo = std::thread::spawn(move || {
            let mut child = open(&args).unwrap();
            let mut buf = Vec::new();
            loop {
                child.recv(&mut buf);
                child.send(&buf);
                if seq_of(&buf) & STOP != 0 {
                    return;
                }
            }
        });
        let mut link = prep.link;
        let (mut msg, mut back) = (vec![0u8; 8], Vec::new());
        for seq in (1..=100).chain([101 | STOP]) {
            set_seq(&mut msg, seq);
            link.send(&msg);
            link.recv(&mut back);
            assert_eq!(seq_of(&back), seq);
        }
        echo.join().unwrap();
        assert_eq!(link.wakeups(), Some(0));
        drop(link);
        for side in ["a", "b"] {
            let name = format!("/dev/shm/ipcring.bench-{tag}-{side}");
            assert!(!std::path::Path::new(&name).exists(), "{name} left behind");
        }
    }
}
