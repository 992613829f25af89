//! A `WaitSet`'s descriptor under `poll(2)`: readable when a ring has work or a peer
//! died, not before; `arm` reports the ready rings and arms it again.

use crate::common::{spawn, watchdog};
use crate::edges::{members, producers, rings};
use ipcring::{RecvError, WaitSet};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::os::fd::AsFd;
use std::os::fd::BorrowedFd;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Whether `fd` becomes readable within `ms` milliseconds.
fn readable(fd: BorrowedFd<'_>, ms: i64) -> bool {
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: ms / 1000,
        tv_nsec: (ms % 1000) * 1_000_000,
    };
    poll(&mut fds, Some(&timeout)).expect("poll") == 1 && fds[0].revents().contains(PollFlags::IN)
}

#[test]
fn the_descriptor_is_readable_once_a_ring_has_a_message() {
    let _w = watchdog("wait set descriptor", LIMIT);
    let (guards, mut rxs) = rings("set-fd", 3);
    let mut txs = producers(&guards);
    let mut set = WaitSet::new();
    let fd = set
        .fd()
        .expect("a descriptor")
        .try_clone_to_owned()
        .expect("dup");
    let mut buf = Vec::new();
    for round in 0..20 {
        let k = round % 3;
        assert!(set.arm(&mut members(&mut rxs)).expect("arm").is_empty());
        assert!(
            !readable(fd.as_fd(), 0),
            "round {round}: readable with no message"
        );
        let mut tx = txs[k].take().expect("a producer");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            tx.send(b"hello").expect("send");
            tx
        });
        assert!(readable(fd.as_fd(), 10_000), "round {round}: not readable");
        // Readable: the rings that are ready are reported (a wake-up with nothing ready
        // would report none and arm again).
        let ready: Vec<usize> = loop {
            let r: Vec<usize> = set
                .arm(&mut members(&mut rxs))
                .expect("arm")
                .iter()
                .collect();
            if !r.is_empty() {
                break r;
            }
            assert!(
                readable(fd.as_fd(), 10_000),
                "round {round}: armed, not readable"
            );
        };
        assert_eq!(ready, [k]);
        assert_eq!(rxs[k].try_recv_into(&mut buf), Ok(5));
        txs[k] = Some(sender.join().expect("sender"));
    }
}

#[test]
fn the_descriptor_reports_a_killed_producer() {
    let _w = watchdog("wait set descriptor, kill", LIMIT);
    let (guards, mut rxs) = rings("set-fd-kill", 2);
    let mut children: Vec<_> = guards
        .iter()
        .map(|g| spawn("idle", g.name(), "producer"))
        .collect();
    for c in &children {
        c.expect("attached", Duration::from_secs(20));
    }
    let mut set = WaitSet::new();
    let fd = set
        .fd()
        .expect("a descriptor")
        .try_clone_to_owned()
        .expect("dup");
    assert!(set.arm(&mut members(&mut rxs)).expect("arm").is_empty());
    let killed = children[1].kill9();
    let ready = loop {
        assert!(readable(fd.as_fd(), 10_000), "not readable after the kill");
        let r: Vec<usize> = set
            .arm(&mut members(&mut rxs))
            .expect("arm")
            .iter()
            .collect();
        if !r.is_empty() {
            break r;
        }
    };
    let took = killed.elapsed();
    assert_eq!(ready, [1]);
    let mut buf = Vec::new();
    assert_eq!(rxs[1].try_recv_into(&mut buf), Err(RecvError::Disconnected));
    println!("the kill was reported through the descriptor {took:?} after it");
}
