//! What a handle refuses to open as an anonymous ring: a descriptor is untrusted input,
//! checked before anything of it is used.

use crate::common::TestDir;
use ipcring::{mpmc, spsc, OpenError, RingFd};
use rustix::fs::{MemfdFlags, SealFlags};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

fn open_consumer(ring: &RingFd) -> Result<spsc::Consumer, OpenError> {
    spsc::Builder::fd(ring).open_consumer()
}

/// A memfd that can be sealed, holding `bytes`.
fn memfd_with(bytes: &[u8]) -> OwnedFd {
    let fd = rustix::fs::memfd_create("forged", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .expect("memfd");
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).expect("write");
    file.into()
}

fn seal(fd: &OwnedFd) {
    rustix::fs::fcntl_add_seals(fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)
        .expect("seal");
}

#[test]
fn an_empty_memfd_holds_no_ring_yet() {
    let ring = RingFd::new("empty").expect("memfd");
    assert!(matches!(
        open_consumer(&ring),
        Err(OpenError::NotFound { .. })
    ));
}

#[test]
fn an_unsealed_memfd_is_refused() {
    // A real ring's bytes, copied into a memfd that nobody sealed.
    let ring = RingFd::new("real").expect("memfd");
    let _tx = spsc::Builder::fd(&ring)
        .capacity(4096)
        .create_producer()
        .expect("create");
    let bytes = std::fs::read(format!("/proc/self/fd/{}", {
        use std::os::fd::AsRawFd;
        rustix::fd::AsFd::as_fd(&ring).as_raw_fd()
    }))
    .expect("read the ring");
    let forged = RingFd::from(memfd_with(&bytes));
    let r = open_consumer(&forged);
    assert!(
        matches!(r, Err(OpenError::NotSealed { .. })),
        "{:?}",
        r.map(|_| ())
    );
}

#[test]
fn a_file_that_is_no_memfd_is_refused() {
    let dir = TestDir::new("anon-file");
    let path = dir.join("ring");
    let tx = spsc::Builder::at(&path)
        .capacity(4096)
        .create_producer()
        .expect("create a file ring");
    let file = std::fs::File::open(&path).expect("open the file");
    let r = open_consumer(&RingFd::from(OwnedFd::from(file)));
    assert!(
        matches!(r, Err(OpenError::NotSealed { .. })),
        "{:?}",
        r.map(|_| ())
    );
    drop(tx);
}

#[test]
fn a_socket_or_a_pipe_is_refused() {
    let (a, _b) = UnixStream::pair().expect("pair");
    let r = open_consumer(&RingFd::from(OwnedFd::from(a)));
    assert!(
        matches!(r, Err(OpenError::NotRegularFile { .. })),
        "{:?}",
        r.map(|_| ())
    );
    let (read, _write) = rustix::pipe::pipe().expect("pipe");
    let r = open_consumer(&RingFd::from(read));
    assert!(
        matches!(r, Err(OpenError::NotRegularFile { .. })),
        "{:?}",
        r.map(|_| ())
    );
}

#[test]
fn a_sealed_memfd_of_garbage_or_another_kind_or_cut_short_is_refused() {
    let garbage = memfd_with(&[0x5a; 65536]);
    seal(&garbage);
    let r = open_consumer(&RingFd::from(garbage));
    assert!(
        matches!(r, Err(OpenError::NotIpcring { .. })),
        "{:?}",
        r.map(|_| ())
    );

    let queue = RingFd::new("queue").expect("memfd");
    let _q = mpmc::Builder::fd(&queue)
        .capacity(64)
        .slot_size(64)
        .create_producer()
        .expect("create");
    let r = open_consumer(&queue);
    assert!(
        matches!(r, Err(OpenError::KindMismatch { .. })),
        "{:?}",
        r.map(|_| ())
    );

    // A valid header of a large ring, in a memfd sealed at a fraction of its size.
    let big = RingFd::new("big").expect("memfd");
    let _tx = spsc::Builder::fd(&big)
        .capacity(1 << 20)
        .create_producer()
        .expect("create");
    let bytes = std::fs::read(format!("/proc/self/fd/{}", {
        use std::os::fd::AsRawFd;
        rustix::fd::AsFd::as_fd(&big).as_raw_fd()
    }))
    .expect("read the ring");
    let cut = memfd_with(&bytes[..64 << 10]);
    seal(&cut);
    let r = open_consumer(&RingFd::from(cut));
    assert!(
        matches!(r, Err(OpenError::Truncated { .. })),
        "{:?}",
        r.map(|_| ())
    );
}

#[test]
fn a_stream_message_without_a_descriptor_is_refused() {
    let (a, b) = UnixStream::pair().expect("pair");
    std::io::Write::write_all(&mut &a, b"R").expect("write");
    let e = RingFd::recv(&b).expect_err("no descriptor");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    drop(a);
    let e = RingFd::recv(&b).expect_err("closed");
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
}

#[test]
fn a_ring_is_never_created_where_it_could_not_be_sealed() {
    let dir = TestDir::new("anon-create-file");
    let file = std::fs::File::create_new(dir.join("plain")).expect("a file");
    let r = spsc::Builder::fd(&RingFd::from(OwnedFd::from(file)))
        .capacity(4096)
        .create_producer();
    assert!(
        matches!(r, Err(OpenError::NotSealed { .. })),
        "{:?}",
        r.map(|_| ())
    );
    let unsealable = rustix::fs::memfd_create("no-sealing", MemfdFlags::CLOEXEC).expect("memfd");
    let ring = RingFd::from(unsealable);
    let r = spsc::Builder::fd(&ring).capacity(4096).create_producer();
    assert!(
        matches!(r, Err(OpenError::NotSealed { .. })),
        "{:?}",
        r.map(|_| ())
    );
    assert_eq!(
        rustix::fs::fstat(&ring).expect("fstat").st_size,
        0,
        "left empty"
    );
}
