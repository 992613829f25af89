//! What is found at a path is checked as what is found at a name: the same errors for a
//! file that is not a ring, a ring of another kind, a truncated ring, a symbolic link, a
//! special file, a world-writable file; creating where something is; a missing directory;
//! a full file system.

use crate::common::TestDir;
use crate::mounts::Mount;
use ipcring::{mpmc, spsc, OpenError};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn open_consumer(path: &Path) -> Result<spsc::Consumer, OpenError> {
    spsc::Builder::at(path).open_consumer()
}

fn make_ring(path: &Path) {
    spsc::Builder::at(path)
        .capacity(4096)
        .create_detached()
        .expect("create the ring");
}

#[test]
fn a_file_that_is_not_a_ring_is_refused() {
    let dir = TestDir::new("not-a-ring");
    let path = dir.join("notes.txt");
    std::fs::write(&path, vec![b'x'; 64 * 1024]).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let r = open_consumer(&path);
    assert!(matches!(r, Err(OpenError::NotIpcring { .. })), "{r:?}");
    // A short file: too small for a header.
    std::fs::write(&path, b"hello").expect("write");
    let r = open_consumer(&path);
    assert!(
        matches!(r, Err(OpenError::Truncated { size: 5, .. })),
        "{r:?}"
    );
    assert!(path.exists(), "left alone");
}

#[test]
fn a_ring_of_another_kind_is_refused() {
    let dir = TestDir::new("other-kind");
    let path = dir.join("queue.ring");
    mpmc::Builder::at(&path)
        .capacity(8)
        .slot_size(64)
        .create_detached()
        .expect("create");
    let r = open_consumer(&path);
    assert!(matches!(r, Err(OpenError::KindMismatch { .. })), "{r:?}");
}

#[test]
fn a_truncated_ring_is_refused() {
    let dir = TestDir::new("truncated");
    let path = dir.join("short.ring");
    make_ring(&path);
    let len = std::fs::metadata(&path).expect("stat").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(len - 1).expect("truncate");
    let r = open_consumer(&path);
    assert!(
        matches!(r, Err(OpenError::Truncated { size, expected }) if size == len - 1 && expected == len),
        "{r:?}"
    );
}

#[test]
fn a_symbolic_link_at_the_path_is_neither_followed_nor_removed() {
    let dir = TestDir::new("symlink");
    let real = dir.join("real.ring");
    let link = dir.join("link.ring");
    make_ring(&real);
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let r = open_consumer(&link);
    assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
    let r = spsc::Builder::at(&link).capacity(4096).create_producer();
    assert!(matches!(r, Err(OpenError::AlreadyExists { .. })), "{r:?}");
    let r = ipcring::remove_file_ring(&link);
    assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
    assert!(std::fs::symlink_metadata(&link).is_ok() && real.exists());
}

#[test]
fn a_directory_or_a_fifo_at_the_path_is_refused() {
    let dir = TestDir::new("special");
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let r = open_consumer(&sub);
    assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
    let fifo = dir.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    let r = open_consumer(&fifo);
    assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
}

#[test]
fn a_world_writable_ring_file_is_refused() {
    let dir = TestDir::new("world-writable");
    let path = dir.join("open.ring");
    make_ring(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o602)).expect("chmod");
    let r = open_consumer(&path);
    assert!(
        matches!(r, Err(OpenError::WorldWritable { mode: 0o602, .. })),
        "{r:?}"
    );
}

#[test]
fn creating_where_a_file_is_says_already_exists() {
    let dir = TestDir::new("exists");
    let ring = dir.join("ring");
    make_ring(&ring);
    let plain = dir.join("plain");
    std::fs::write(&plain, b"data").expect("write");
    for path in [&ring, &plain] {
        let r = spsc::Builder::at(path).capacity(4096).create_consumer();
        match r {
            Err(OpenError::AlreadyExists { name }) => assert_eq!(name, path.display().to_string()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(std::fs::read(&plain).expect("read"), b"data", "left alone");
}

#[test]
fn a_path_in_a_missing_directory_is_not_found() {
    let dir = TestDir::new("missing");
    let path = dir.join("no/such/dir/x.ring");
    let r = spsc::Builder::at(&path).capacity(4096).create_producer();
    assert!(matches!(r, Err(OpenError::NotFound { .. })), "{r:?}");
    let r = open_consumer(&path);
    assert!(matches!(r, Err(OpenError::NotFound { .. })), "{r:?}");
}

#[test]
fn a_path_that_names_no_file_is_an_invalid_name() {
    let dir = TestDir::new("no-file");
    for path in [
        Path::new(""),
        Path::new("/"),
        &dir.join("sub/"),
        &dir.join(".."),
    ] {
        let r = open_consumer(path);
        assert!(
            matches!(r, Err(OpenError::InvalidName { .. })),
            "{path:?}: {r:?}"
        );
    }
}

#[test]
fn a_ring_larger_than_the_free_space_fails_with_no_space_and_leaves_nothing() {
    let Some(fs) = Mount::new("tmpfs", "size=256k,mode=0700") else {
        eprintln!("skipped: cannot mount a small tmpfs here");
        return;
    };
    let path = fs.join("big.ring");
    let r = spsc::Builder::at(&path).capacity(1 << 20).create_producer();
    assert!(matches!(r, Err(OpenError::NoSpace { .. })), "{r:?}");
    assert!(!path.exists(), "the half-made file was removed");
    // One that fits is made there.
    spsc::Builder::at(&path)
        .capacity(4096)
        .create_producer()
        .expect("a small ring fits");
}
