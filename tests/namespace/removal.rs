//! Removals that never take somebody else's ring: `unlink` removes only the object it
//! looked at, and `open_or_create` reclaims the leftover of a creator that died — one
//! reclaimer at a time, and never the object of a creator that lives.

use crate::common::{watchdog, RingGuard};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::OpenError;
use rustix::fs::FlockOperation;
use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
/// Offset of the state word in the identity line of every segment.
const STATE_AT: u64 = 24;

/// How many descriptors of this process are open on what the name `path` refers to now.
fn descriptors_on(path: &Path) -> usize {
    let Ok(target) = std::fs::metadata(path) else {
        return 0;
    };
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .filter_map(|e| std::fs::metadata(e.ok()?.path()).ok())
        .filter(|m| (m.dev(), m.ino()) == (target.dev(), target.ino()))
        .count()
}

/// Takes the object lock of ring `path`'s object, as its creator or a remover holds it
/// (`flock`), on a description of its own; released when the file is dropped.
fn hold_lock(path: &Path) -> File {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open the object");
    rustix::fs::flock(&f, FlockOperation::NonBlockingLockExclusive).expect("flock");
    f
}

#[test]
fn unlink_leaves_alone_a_ring_made_again_after_it_looked() {
    let _w = watchdog("unlink after re-creation", LIMIT);
    let ring = RingGuard::new("again");
    let first = Producer::create(ring.name(), 4096).expect("create");
    // Another remover is at work on the first object: it holds its lock.
    let lock = hold_lock(&ring.path());
    let before = descriptors_on(&ring.path());
    let name = ring.name().to_owned();
    let remover = std::thread::spawn(move || ipcring::unlink(&name));
    // The remover opens what it found at the name, and waits for the lock.
    let deadline = Instant::now() + Duration::from_secs(10);
    while descriptors_on(&ring.path()) == before {
        assert!(
            !remover.is_finished() && Instant::now() < deadline,
            "unlink removed the name without holding the object it found"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // Meanwhile the other remover removes the first object, and somebody makes the ring
    // again.
    rustix::fs::unlink(ring.path().as_path()).expect("remove the first object");
    let mut tx = Producer::create(ring.name(), 4096).expect("create again");
    let made = std::fs::metadata(ring.path()).expect("stat").ino();
    drop(lock);
    let r = remover.join().expect("the remover panicked");
    assert!(matches!(r, Err(OpenError::NotFound { .. })), "{r:?}");
    // The new ring is still at the name, and works.
    assert_eq!(std::fs::metadata(ring.path()).expect("stat").ino(), made);
    let mut rx = Consumer::open(ring.name()).expect("open the new ring");
    tx.send(b"mine").expect("send");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv");
    assert_eq!(buf, b"mine");
    drop(first);
}

/// Plants at ring `ring`'s name what a creator that died before it published leaves: a
/// whole SPSC segment of capacity 4096 but for READY, with mode `mode` (0200, or 0000
/// in the instant after its `open`). Returns the object's inode.
fn plant_leftover(ring: &RingGuard, mode: u32) -> u64 {
    let model = RingGuard::new("model");
    drop(Producer::create(model.name(), 4096).expect("create the model"));
    let mut bytes = std::fs::read(model.path()).expect("read the model");
    bytes[STATE_AT as usize..][..4].copy_from_slice(&0u32.to_le_bytes());
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o200)
        .open(ring.path())
        .expect("create the object");
    f.write_all_at(&bytes, 0).expect("write the object");
    f.set_permissions(Permissions::from_mode(mode))
        .expect("chmod");
    f.metadata().expect("stat").ino()
}

/// Asserts that `tx` and `rx` are attached to one ring.
fn connected(tx: &mut Producer, rx: &mut Consumer) {
    tx.send(b"connected").expect("send");
    let mut buf = Vec::new();
    rx.recv_timeout_into(&mut buf, Duration::from_secs(10))
        .expect("receive on the same ring");
    assert_eq!(buf, b"connected");
}

#[test]
fn open_or_create_reclaims_the_leftover_of_a_creator_that_died() {
    let _w = watchdog("reclaim", LIMIT);
    for mode in [0o200, 0o000] {
        let ring = RingGuard::new("leftover");
        let left = plant_leftover(&ring, mode);
        let mut tx = Builder::new(ring.name())
            .capacity(4096)
            .open_or_create_producer()
            .unwrap_or_else(|e| panic!("mode {mode:o}: {e}"));
        let made = std::fs::metadata(ring.path()).expect("stat");
        assert_ne!(made.ino(), left, "mode {mode:o}: not created again");
        assert_eq!(made.mode() & 0o777, 0o600);
        let mut rx = Consumer::open(ring.name()).expect("open the consumer");
        connected(&mut tx, &mut rx);
    }
}

#[test]
fn racing_openers_reclaim_a_leftover_once_and_meet_on_one_ring() {
    let _w = watchdog("racing reclaimers", LIMIT);
    for round in 0..8 {
        let ring = RingGuard::new("race");
        plant_leftover(&ring, 0o200);
        let start = Arc::new(Barrier::new(2));
        let (name, go) = (ring.name().to_owned(), start.clone());
        let producer = std::thread::spawn(move || {
            go.wait();
            Builder::new(&name).capacity(4096).open_or_create_producer()
        });
        start.wait();
        let rx = Builder::new(ring.name())
            .capacity(4096)
            .open_or_create_consumer();
        let tx = producer.join().expect("the producer thread panicked");
        let (mut tx, mut rx) = match (tx, rx) {
            (Ok(tx), Ok(rx)) => (tx, rx),
            other => panic!("round {round}: {other:?}"),
        };
        connected(&mut tx, &mut rx);
    }
}

#[test]
fn open_or_create_leaves_alone_the_object_of_a_creator_that_lives() {
    let _w = watchdog("live creator", LIMIT);
    let ring = RingGuard::new("live");
    let left = plant_leftover(&ring, 0o200);
    // The creator is alive: it holds the object lock.
    let creator = hold_lock(&ring.path());
    let r = Builder::new(ring.name())
        .capacity(4096)
        .open_or_create_consumer()
        .map(drop);
    assert!(
        matches!(r, Err(OpenError::StillInitializing { .. })),
        "{r:?}"
    );
    assert_eq!(std::fs::metadata(ring.path()).expect("stat").ino(), left);
    drop(creator);
}
