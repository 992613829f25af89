//! The seals of an anonymous ring: no holder of its descriptor, in any process, can
//! shrink, grow or re-seal it, so no mapping of it can fault.

use crate::common::{say, spawn};
use ipcring::{spsc, RingFd};
use rustix::fs::SealFlags;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// What each attack on `fd` gave: `EPERM`, another error, or `ok`. The hole is punched in the
/// last page, which the tests' messages never reach.
fn attacks(fd: impl AsFd) -> Vec<(&'static str, String)> {
    let fd = fd.as_fd();
    let size = rustix::fs::fstat(fd).expect("fstat").st_size as u64;
    let r = |r: rustix::io::Result<()>| match r {
        Ok(()) => "ok".to_owned(),
        Err(rustix::io::Errno::PERM) => "EPERM".to_owned(),
        Err(e) => format!("{e}"),
    };
    vec![
        ("shrink", r(rustix::fs::ftruncate(fd, 0))),
        ("grow", r(rustix::fs::ftruncate(fd, 1 << 30))),
        (
            "fallocate",
            r(rustix::fs::fallocate(
                fd,
                rustix::fs::FallocateFlags::empty(),
                0,
                1 << 30,
            )),
        ),
        (
            "punch",
            r(rustix::fs::fallocate(
                fd,
                rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
                size - 4096,
                4096,
            )),
        ),
        (
            "seal-write",
            r(rustix::fs::fcntl_add_seals(fd, SealFlags::WRITE)),
        ),
    ]
}

/// Child: attacks the inherited descriptor number `fd` and says what each attack gave.
pub fn truncator(fd: &str, _arg: &str) {
    let n: i32 = fd.parse().expect("a descriptor number");
    // SAFETY: the parent passed this descriptor to us, open, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(n) };
    for (what, got) in attacks(&fd) {
        say(what, got);
    }
}

#[test]
fn a_peer_cannot_truncate_grow_or_reseal_an_anonymous_ring() {
    let ring = RingFd::new("sealed").expect("memfd");
    let mut tx = spsc::Builder::fd(&ring)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let mut rx = spsc::Builder::fd(&ring).open_consumer().expect("open");
    let size = rustix::fs::fstat(&ring).expect("fstat").st_size;
    let inheritable = ring.inheritable().expect("dup");
    let child = spawn("truncator", &inheritable.as_raw_fd().to_string(), "");
    drop(inheritable);
    // Shrinking and growing fail with EPERM (the seals), and so does a new seal. Punching
    // a hole is no size change, and the kernel allows it: it zeroes a page, as a peer
    // could by writing through its own mapping, and the ring validates it like any other
    // shared state.
    for what in ["shrink", "grow", "fallocate", "punch", "seal-write"] {
        let got = child.expect(what, WAIT);
        if what != "punch" {
            assert_eq!(got, "EPERM", "{what}");
        }
    }
    child.wait_success(WAIT);
    assert_eq!(rustix::fs::fstat(&ring).expect("fstat").st_size, size);
    // The ring goes on.
    tx.send(b"still here").expect("send");
    let mut buf = Vec::new();
    rx.recv_timeout_into(&mut buf, WAIT).expect("receive");
    assert_eq!(buf, b"still here");
    // The same holds for this process's own descriptor.
    for (what, got) in attacks(&ring) {
        if what != "punch" {
            assert_eq!(got, "EPERM", "{what}");
        }
    }
}

#[test]
fn a_ring_cannot_be_created_twice_in_one_memfd() {
    let ring = RingFd::new("twice").expect("memfd");
    let _tx = spsc::Builder::fd(&ring)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let r = spsc::Builder::fd(&ring).capacity(4096).create_consumer();
    assert!(
        matches!(r, Err(ipcring::OpenError::AlreadyExists { .. })),
        "{:?}",
        r.map(|_| ())
    );
    // open_or_create opens it.
    spsc::Builder::fd(&ring)
        .open_or_create_consumer()
        .expect("open");
}
