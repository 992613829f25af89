//! A listener in a `WaitSet` next to an SPSC ring: the set is woken by either, sleeping
//! or through its descriptor.

use crate::common::{watchdog, RingGuard};
use ipcring::event::{Listener, Notifier, Party};
use ipcring::{spsc, RecvError, WaitSet, WaitStrategy};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `f` on another thread after a moment (so that the set is asleep by then), and
/// returns what it gives back.
fn later<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        f()
    })
}

#[test]
fn a_sleeping_set_is_woken_by_a_notification_or_by_a_message() {
    let _w = watchdog("event in a set", LIMIT);
    let (ge, gr) = (RingGuard::new("set-ev"), RingGuard::new("set-ev-ring"));
    let mut rx = Listener::create(ge.name(), 4).expect("create the events");
    let mut tx = Notifier::open(ge.name()).expect("open");
    let mut ring_rx = spsc::Consumer::create(gr.name(), 4096).expect("create the ring");
    let mut ring_tx = spsc::Producer::open(gr.name()).expect("open");
    let mut set = WaitSet::new();
    set.set_wait_strategy(WaitStrategy::Park);
    let mut buf = Vec::new();
    for round in 0..10 {
        assert!(set
            .wait_timeout(&mut [&mut rx, &mut ring_rx], Duration::ZERO)
            .is_empty());
        let ready: Vec<usize> = if round % 2 == 0 {
            let t = later(move || {
                tx.notify(round % 4).expect("notify");
                tx
            });
            let ready = set.wait(&mut [&mut rx, &mut ring_rx]).iter().collect();
            tx = t.join().expect("notifier");
            ready
        } else {
            let t = later(move || {
                ring_tx.send(b"hello").expect("send");
                ring_tx
            });
            let ready = set.wait(&mut [&mut rx, &mut ring_rx]).iter().collect();
            ring_tx = t.join().expect("producer");
            ready
        };
        if round % 2 == 0 {
            assert_eq!(ready, [0], "round {round}");
            let fired = rx.try_wait().expect("kept for the next wait");
            assert_eq!(fired.iter().collect::<Vec<_>>(), [(round % 4, 1)]);
        } else {
            assert_eq!(ready, [1], "round {round}");
            assert_eq!(ring_rx.try_recv_into(&mut buf), Ok(5));
        }
    }
    // A departure wakes it too.
    let t = later(move || drop(tx));
    assert_eq!(
        set.wait(&mut [&mut ring_rx, &mut rx])
            .iter()
            .collect::<Vec<_>>(),
        [1]
    );
    t.join().expect("dropper");
    let fired = rx.try_wait().expect("the departure");
    assert_eq!(fired.departures()[0].role, Party::Notifier);
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
}

// The descriptor and its helper thread are not in loom builds.
#[cfg(not(ipcring_loom))]
mod fd {
    use super::{later, LIMIT};
    use crate::common::{watchdog, RingGuard};
    use ipcring::event::{Listener, Notifier};
    use ipcring::{spsc, WaitSet};
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use std::os::fd::{AsFd, BorrowedFd};

    /// Whether `fd` becomes readable within `ms` milliseconds.
    fn readable(fd: BorrowedFd<'_>, ms: i64) -> bool {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
        };
        poll(&mut fds, Some(&timeout)).expect("poll") == 1
            && fds[0].revents().contains(PollFlags::IN)
    }

    #[test]
    fn the_descriptor_of_a_set_becomes_readable_when_an_id_fires() {
        let _w = watchdog("event in a set's descriptor", LIMIT);
        let (ge, gr) = (
            RingGuard::new("set-ev-fd"),
            RingGuard::new("set-ev-fd-ring"),
        );
        let mut rx = Listener::create(ge.name(), 2).expect("create the events");
        let mut tx = Notifier::open(ge.name()).expect("open");
        let mut ring_rx = spsc::Consumer::create(gr.name(), 4096).expect("create the ring");
        let _ring_tx = spsc::Producer::open(gr.name()).expect("open");
        let mut set = WaitSet::new();
        let fd = set.fd().expect("fd").try_clone_to_owned().expect("dup");
        for round in 0..5u32 {
            assert!(set
                .arm(&mut [&mut ring_rx, &mut rx])
                .expect("arm")
                .is_empty());
            assert!(
                !readable(fd.as_fd(), 0),
                "round {round}: readable with nothing"
            );
            let t = later(move || {
                tx.notify(round % 2).expect("notify");
                tx
            });
            assert!(readable(fd.as_fd(), 10_000), "round {round}: not readable");
            tx = t.join().expect("notifier");
            let ready: Vec<usize> = loop {
                let r: Vec<usize> = set
                    .arm(&mut [&mut ring_rx, &mut rx])
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
            assert_eq!(ready, [1]);
            assert_eq!(rx.try_wait().expect("fired").count(round % 2), 1);
        }
    }
}
