//! Every kind at a path: created, opened by another handle, used as a named ring is; a
//! named ring and a file ring of the same file name are two rings; removal.

use crate::common::{RingGuard, TestDir};
use ipcring::{blackboard, broadcast, event, mpmc, spsc, OpenError};

#[test]
fn an_spsc_ring_at_a_path_carries_messages_between_handles() {
    let dir = TestDir::new("at-spsc");
    let path = dir.join("spsc.ring");
    let mut tx = spsc::Builder::at(&path)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let mut rx = spsc::Builder::at(&path).open_consumer().expect("open");
    assert_eq!(rx.capacity(), 4096);
    let mut buf = Vec::new();
    for msg in [&b""[..], b"a", &[7; 1000]] {
        tx.send(msg).expect("send");
        rx.recv_into(&mut buf).expect("receive");
        assert_eq!(buf, msg);
    }
    let meta = std::fs::symlink_metadata(&path).expect("the file");
    assert!(meta.file_type().is_file());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn an_mpmc_ring_at_a_path_carries_messages_between_handles() {
    let dir = TestDir::new("at-mpmc");
    let path = dir.join("mpmc.ring");
    let mut tx = mpmc::Builder::at(&path)
        .capacity(8)
        .slot_size(64)
        .create_producer()
        .expect("create");
    let mut rx = mpmc::Builder::at(&path).open_consumer().expect("open");
    let mut buf = Vec::new();
    tx.send(b"queued").expect("send");
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"queued");
}

#[test]
fn a_broadcast_topic_at_a_path_reaches_its_subscriber() {
    let dir = TestDir::new("at-broadcast");
    let path = dir.join("topic.ring");
    let mut tx = broadcast::Builder::at(&path)
        .capacity(8)
        .slot_size(64)
        .create_publisher()
        .expect("create");
    let mut rx = broadcast::Builder::at(&path)
        .open_subscriber()
        .expect("open");
    let mut buf = Vec::new();
    tx.send(b"news").expect("send");
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"news");
}

#[test]
fn a_blackboard_at_a_path_is_read_by_another_handle() {
    let dir = TestDir::new("at-board");
    let path = dir.join("board.ring");
    let mut w = blackboard::Builder::at(&path)
        .entries(2, 32)
        .create_writer()
        .expect("create");
    let mut r = blackboard::Builder::at(&path).open_reader().expect("open");
    assert_eq!(w.set(1, b"value"), Ok(1));
    let mut buf = Vec::new();
    assert_eq!(r.get_into(1, &mut buf), Ok(1));
    assert_eq!(buf, b"value");
}

#[test]
fn an_event_segment_at_a_path_wakes_its_listener() {
    let dir = TestDir::new("at-event");
    let path = dir.join("event.ring");
    let mut rx = event::Builder::at(&path)
        .ids(4)
        .create_listener()
        .expect("create");
    let mut tx = event::Builder::at(&path).open_notifier().expect("open");
    tx.notify(3).expect("notify");
    let fired = rx.wait().expect("fired");
    assert_eq!(fired.iter().collect::<Vec<_>>(), [(3, 1)]);
}

#[test]
fn a_named_ring_and_a_file_ring_of_the_same_file_name_are_two_rings() {
    let ring = RingGuard::new("twin");
    let dir = TestDir::new("twin");
    let mut named = spsc::Producer::create(ring.name(), 4096).expect("create the named ring");
    // The same name as a file name, with and without the prefix of the shm object.
    let plain = dir.join(ring.name());
    let prefixed = dir.join(&format!("ipcring.{}", ring.name()));
    let mut files = Vec::new();
    for path in [&plain, &prefixed] {
        files.push(
            spsc::Builder::at(path)
                .capacity(8192)
                .create_producer()
                .expect("create the file ring"),
        );
    }
    named.send(b"named").expect("send");
    files[0].send(b"plain").expect("send");
    files[1].send(b"prefixed").expect("send");
    let mut buf = Vec::new();
    let mut rx = spsc::Consumer::open(ring.name()).expect("open the named ring");
    assert_eq!(rx.capacity(), 4096);
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"named");
    for (path, want) in [(&plain, &b"plain"[..]), (&prefixed, b"prefixed")] {
        let mut rx = spsc::Builder::at(path).open_consumer().expect("open");
        assert_eq!(rx.capacity(), 8192);
        rx.recv_into(&mut buf).expect("receive");
        assert_eq!(buf, want);
    }
    assert!(ring.path().exists(), "the named ring is in /dev/shm");
}

#[test]
fn a_file_ring_is_removed_by_path_and_stays_usable_by_its_handles() {
    let dir = TestDir::new("remove");
    let path = dir.join("gone.ring");
    let mut tx = spsc::Builder::at(&path)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let mut rx = spsc::Builder::at(&path).open_consumer().expect("open");
    ipcring::remove_file_ring(&path).expect("remove");
    assert!(!path.exists());
    assert!(matches!(
        ipcring::remove_file_ring(&path),
        Err(OpenError::NotFound { .. })
    ));
    let r = spsc::Builder::at(&path).open_consumer();
    assert!(matches!(r, Err(OpenError::NotFound { .. })), "{r:?}");
    tx.send(b"still").expect("send");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"still");
}

#[test]
fn open_or_create_at_a_path_creates_then_opens() {
    let dir = TestDir::new("open-or-create");
    let path = dir.join("either.ring");
    let mut tx = mpmc::Builder::at(&path)
        .capacity(4)
        .slot_size(16)
        .open_or_create_producer()
        .expect("create");
    let mut rx = mpmc::Builder::at(&path)
        .open_or_create_consumer()
        .expect("open");
    tx.send(b"x").expect("send");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"x");
}

/// A write-only file at a path looks like a ring whose creator died (mode 0200): at a
/// path of the user's choice it is never removed on that guess.
#[test]
fn open_or_create_never_removes_a_write_only_file_at_a_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new("write-only");
    let path = dir.join("notes");
    std::fs::write(&path, b"somebody's notes").expect("write a file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o200)).expect("chmod");
    let r = mpmc::Builder::at(&path).open_or_create_producer();
    assert!(
        matches!(r, Err(OpenError::StillInitializing { .. })),
        "{:?}",
        r.map(|_| ())
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert_eq!(
        std::fs::read(&path).expect("still there"),
        b"somebody's notes"
    );
}

#[test]
fn the_sending_handles_flush_file_rings_and_named_rings() {
    let dir = TestDir::new("flush");
    let ring = RingGuard::new("flush");
    let mut tx = spsc::Builder::at(dir.join("spsc"))
        .capacity(4096)
        .create_producer()
        .expect("create");
    tx.send(b"kept").expect("send");
    tx.flush().expect("flush an spsc file ring");
    let mut tx = mpmc::Builder::at(dir.join("mpmc"))
        .capacity(4)
        .create_producer()
        .expect("create");
    tx.send(b"kept").expect("send");
    tx.flush().expect("flush an mpmc file ring");
    let tx = broadcast::Builder::at(dir.join("broadcast"))
        .capacity(4)
        .create_publisher()
        .expect("create");
    tx.flush().expect("flush a broadcast file ring");
    let mut w = blackboard::Builder::at(dir.join("board"))
        .entries(1, 8)
        .create_writer()
        .expect("create");
    w.set(0, b"kept").expect("set");
    w.flush().expect("flush a blackboard file");
    let named = spsc::Producer::create(ring.name(), 4096).expect("create a named ring");
    named.flush().expect("flush a named ring");
    // What was flushed is in the file, as a reader of the file finds it.
    let bytes = std::fs::read(dir.join("spsc")).expect("read the file");
    assert!(bytes.windows(4).any(|w| w == b"kept"));
}
