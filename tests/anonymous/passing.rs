//! Descriptors handed to other processes: over a unix socket (`SCM_RIGHTS`) for every
//! kind, and by inheritance; a descriptor passed around holds no role, so a peer that
//! dies is seen gone even while descriptors of the memfd stay open everywhere.

use crate::common::full::disconnects;
use crate::common::{say, spawn, spawn_with, TestDir};
use ipcring::{blackboard, broadcast, event, mpmc, spsc, RecvError, RingFd};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Child: connects to the socket at `socket`, receives five ring descriptors (an SPSC
/// ring, an MPMC queue, a topic, a blackboard, an event segment, in that order) and
/// answers on each: sends `from child` (on the event segment, fires id 7), reads entry 0
/// of the blackboard and says it.
pub fn every_kind(socket: &str, _arg: &str) {
    let stream = UnixStream::connect(socket).expect("connect");
    let next = || RingFd::recv(&stream).expect("receive a descriptor");
    let msg = b"from child";
    spsc::Builder::fd(&next())
        .open_producer()
        .expect("open the spsc producer")
        .send(msg)
        .expect("send");
    mpmc::Builder::fd(&next())
        .open_producer()
        .expect("open the mpmc producer")
        .send(msg)
        .expect("send");
    let mut publisher = broadcast::Builder::fd(&next())
        .open_publisher()
        .expect("open the publisher");
    publisher.send(msg).expect("publish");
    let mut board = blackboard::Builder::fd(&next())
        .open_reader()
        .expect("open the reader");
    let mut value = Vec::new();
    board.get_into(0, &mut value).expect("get");
    event::Builder::fd(&next())
        .open_notifier()
        .expect("open the notifier")
        .notify(7)
        .expect("notify");
    say("board", String::from_utf8(value).expect("text"));
}

#[test]
fn every_kind_crosses_a_unix_socket_to_another_process() {
    let dir = TestDir::new("anon-kinds");
    let socket = dir.join("sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let fds: Vec<RingFd> = (0..5)
        .map(|i| RingFd::new(&format!("kind-{i}")).expect("memfd"))
        .collect();
    let mut spsc_rx = spsc::Builder::fd(&fds[0])
        .capacity(4096)
        .create_consumer()
        .expect("create spsc");
    let mut mpmc_rx = mpmc::Builder::fd(&fds[1])
        .capacity(8)
        .slot_size(64)
        .create_consumer()
        .expect("create mpmc");
    let mut topic_rx = broadcast::Builder::fd(&fds[2])
        .capacity(8)
        .slot_size(64)
        .create_subscriber()
        .expect("create topic");
    let mut board = blackboard::Builder::fd(&fds[3])
        .entries(1, 32)
        .create_writer()
        .expect("create board");
    board.set(0, b"from parent").expect("set");
    let mut listener_handle = event::Builder::fd(&fds[4])
        .ids(8)
        .create_listener()
        .expect("create events");

    let child = spawn("every-kind", socket.to_str().expect("utf-8"), "");
    let (stream, _) = listener.accept().expect("accept");
    for fd in &fds {
        fd.send(&stream).expect("send a descriptor");
    }
    assert_eq!(child.expect("board", WAIT), "from parent");
    let mut buf = Vec::new();
    spsc_rx.recv_timeout_into(&mut buf, WAIT).expect("spsc");
    assert_eq!(buf, b"from child");
    mpmc_rx.recv_timeout_into(&mut buf, WAIT).expect("mpmc");
    assert_eq!(buf, b"from child");
    topic_rx.recv_timeout_into(&mut buf, WAIT).expect("topic");
    assert_eq!(buf, b"from child");
    let fired = listener_handle.wait_timeout(WAIT).expect("fired");
    assert!(fired.iter().any(|(id, n)| id == 7 && n == 1));
    child.wait_success(WAIT);
}

/// Child: takes the inherited descriptor number `fd`, opens the SPSC producer in it,
/// sends `arg` messages, says `sent`, then waits to be killed.
pub fn inherited_producer(fd: &str, arg: &str) {
    let n: i32 = fd.parse().expect("a descriptor number");
    // SAFETY: the parent passed this descriptor to us, open, and nothing else owns it.
    let ring = RingFd::from(unsafe { OwnedFd::from_raw_fd(n) });
    let mut tx = spsc::Builder::fd(&ring)
        .open_producer()
        .expect("open the producer");
    let count: u32 = arg.parse().expect("a count");
    for i in 0..count {
        tx.send(&i.to_le_bytes()).expect("send");
    }
    say("sent", count);
    std::thread::sleep(WAIT * 2);
}

#[test]
fn a_child_inherits_the_ring_and_its_death_is_seen_though_descriptors_stay_open() {
    let ring = RingFd::new("inherited").expect("memfd");
    let mut rx = spsc::Builder::fd(&ring)
        .capacity(4096)
        .create_consumer()
        .expect("create");
    let inheritable = ring.inheritable().expect("dup");
    let number = inheritable.as_raw_fd().to_string();
    let mut child = spawn_with("inherited-producer", &number, "100", |_| {});
    drop(inheritable);
    assert_eq!(child.expect("sent", WAIT), "100");
    let mut buf = Vec::new();
    for i in 0..100u32 {
        rx.recv_timeout_into(&mut buf, WAIT).expect("receive");
        assert_eq!(buf, i.to_le_bytes());
    }
    // The child's inherited descriptor dies with it; ours (`ring`) stays open, and holds
    // no role: the producer is gone.
    child.kill9();
    assert_eq!(
        rx.recv_timeout_into(&mut buf, WAIT),
        Err(RecvError::Disconnected)
    );
    // The role is free again for a new producer of this process.
    let mut tx = spsc::Builder::fd(&ring).open_producer().expect("reopen");
    tx.send(b"again").expect("send");
}

#[test]
fn a_received_descriptor_holds_no_role_of_the_sender() {
    let ring = RingFd::new("no-role").expect("memfd");
    let tx = spsc::Builder::fd(&ring)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let (a, b) = UnixStream::pair().expect("pair");
    ring.send(&a).expect("send");
    let got = RingFd::recv(&b).expect("receive");
    let mut rx = spsc::Builder::fd(&got).open_consumer().expect("open");
    // A second producer finds the role taken by the live handle, not by the descriptors.
    assert!(spsc::Builder::fd(&got).open_producer().is_err());
    drop(tx);
    let mut buf = Vec::new();
    disconnects(|| rx.try_recv_into(&mut buf));
    // A fresh producer takes the freed role through the received descriptor.
    spsc::Builder::fd(&got)
        .open_producer()
        .expect("the role is free");
}
