//! Surveys of a directory of file rings (`survey::list_dir`, `remove_unused_file`,
//! `collect_garbage_in`): only the rings among its files are listed, taken or removed, by
//! the rules of the ring namespace, except that a file left initialising is never taken
//! on a guess.

use crate::common::TestDir;
use ipcring::survey::{self, Kind, Reason, Removal};
use ipcring::{event, mpmc, spsc, OpenError};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Offset of the ABI major version in the identity line of every segment.
const ABI_AT: u64 = 8;
/// Offset of the state word in the identity line of every segment.
const STATE_AT: u64 = 24;

fn make_ring(path: &Path) {
    mpmc::Builder::at(path)
        .capacity(8)
        .slot_size(16)
        .create_detached()
        .expect("create a ring");
}

/// Writes `bytes` at `offset` of the file at `path`.
fn scribble(path: &Path, offset: u64, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.write_all_at(bytes, offset))
        .expect("write into the file");
}

/// A file as a creator leaves it while it initialises (mode 0200, sized, zeroed).
fn write_only(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o200)
        .open(path)
        .and_then(|f| f.write_all_at(&[0; 4096], 0))
        .expect("make a write-only file");
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn a_directory_lists_its_rings_and_none_of_its_other_files() {
    let dir = TestDir::new("list-dir");
    let queue = dir.join("b-queue.ring");
    make_ring(&queue);
    let events = dir.join("a-events");
    event::Builder::at(&events)
        .ids(4)
        .create_detached()
        .expect("create an event segment");
    let future = dir.join("c-future.ring");
    make_ring(&future);
    scribble(&future, ABI_AT, &99u32.to_le_bytes());
    std::fs::write(dir.join("notes.txt"), vec![b'x'; 8192]).expect("a text file");
    std::fs::write(dir.join("short"), b"IPC").expect("a short file");
    std::fs::create_dir(dir.join("sub")).expect("a directory");
    std::os::unix::fs::symlink(&queue, dir.join("link.ring")).expect("a link");
    write_only(&dir.join("half.ring"));

    let listed = survey::list_dir(dir.path()).expect("list the directory");
    let names: Vec<&str> = listed.iter().map(|e| e.name.as_str()).collect();
    // A root process reads the write-only file too: it does not begin with the magic.
    assert_eq!(names, [name(&events), name(&queue), name(&future)]);
    let kinds: Vec<_> = listed[..2]
        .iter()
        .map(|e| e.ring.as_ref().expect("readable").kind)
        .collect();
    assert_eq!(kinds, [Kind::Event, Kind::Mpmc]);
    // A ring of another ABI version is listed, with the reason it cannot be read.
    assert!(
        matches!(
            listed[2].ring,
            Err(OpenError::VersionMismatch { found: 99, .. })
        ),
        "{:?}",
        listed[2].ring
    );
    assert!(listed.iter().all(|e| e.object.is_some()));
    assert!(survey::list_dir(dir.join("missing")).is_err());
}

#[test]
fn a_file_ring_is_removed_unless_in_use_and_other_files_only_by_force() {
    let dir = TestDir::new("rm-file");
    let path = dir.join("jobs.ring");
    let tx = spsc::Builder::at(&path)
        .capacity(4096)
        .create_producer()
        .expect("create");
    match survey::remove_unused_file(&path, false).expect("rm") {
        Removal::InUse(ring) => assert!(ring.in_use()),
        Removal::Removed => panic!("removed a ring whose producer lives"),
    }
    drop(tx);
    assert!(matches!(
        survey::remove_unused_file(&path, false),
        Ok(Removal::Removed)
    ));
    assert!(!path.exists());
    assert!(matches!(
        survey::remove_unused_file(&path, false),
        Err(OpenError::NotFound { .. })
    ));

    let notes = dir.join("notes.txt");
    std::fs::write(&notes, vec![b'x'; 8192]).expect("a text file");
    let r = survey::remove_unused_file(&notes, false);
    assert!(matches!(r, Err(OpenError::NotIpcring { .. })), "{r:?}");
    let half = dir.join("half.ring");
    write_only(&half);
    let r = survey::remove_unused_file(&half, false);
    assert!(
        matches!(r, Err(OpenError::StillInitializing { .. })),
        "{r:?}"
    );
    assert!(notes.exists() && half.exists(), "removed without --force");
    for forced in [&notes, &half] {
        assert!(matches!(
            survey::remove_unused_file(forced, true),
            Ok(Removal::Removed)
        ));
        assert!(!forced.exists());
    }
}

#[test]
fn garbage_in_a_directory_follows_the_rules_of_the_namespace() {
    let dir = TestDir::new("gc-dir");
    let broken = dir.join("broken.ring");
    make_ring(&broken);
    scribble(&broken, STATE_AT, b"BAD!");
    let rested = dir.join("rested.ring");
    make_ring(&rested);
    let held = dir.join("held.ring");
    let rx = mpmc::Builder::at(&held)
        .capacity(8)
        .slot_size(16)
        .create_consumer()
        .expect("create a held ring");
    scribble(&held, STATE_AT, b"BAD!");
    let half = dir.join("half.ring");
    write_only(&half);
    std::fs::write(dir.join("notes.txt"), b"not a ring").expect("a text file");

    let dry = survey::collect_garbage_in(dir.path(), true).expect("gc --dry-run");
    assert_eq!(dry.len(), 1, "{dry:?}");
    assert_eq!(
        (dry[0].name.as_str(), dry[0].reason),
        (name(&broken).as_str(), Reason::Broken)
    );
    assert!(matches!(dry[0].removed, Ok(false)));
    assert!(broken.exists(), "a dry run removed the ring");
    let done = survey::collect_garbage_in(dir.path(), false).expect("gc");
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(matches!(done[0].removed, Ok(true)), "{done:?}");
    assert!(!broken.exists());
    for kept in [&rested, &held, &half, &dir.join("notes.txt")] {
        assert!(kept.exists(), "gc took {}", kept.display());
    }
    drop(rx);
}
