//! Surveys from outside (`ipcring::survey`): what they report of each kind, that they take
//! nothing (no role, no lock, no byte written), and removals that spare live rings.

use crate::common::{self, spawn, watchdog, RingGuard};
use ipcring::survey::{self, Holder, Kind, Reason, Removal, Unit};
use ipcring::{broadcast, mpmc, spsc, OpenError};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const WITHIN: Duration = Duration::from_secs(20);
/// Offset of the state word in the identity line of every segment.
const STATE_AT: u64 = 24;

/// In a child: holds the producer role of the SPSC ring `ring` until told to stop.
pub fn holder(ring: &str, _: &str) {
    let _tx = spsc::Producer::open(ring).expect("open the producer");
    common::say("attached", "");
    common::hear();
}

#[test]
fn a_survey_reports_an_spsc_ring_as_its_handles_left_it() {
    let _w = watchdog("spsc survey", LIMIT);
    let ring = RingGuard::new("survey-spsc");
    let mut tx = spsc::Producer::create(ring.name(), 4096).expect("create");
    let mut rx = spsc::Consumer::open(ring.name()).expect("open");
    for m in [&b"one"[..], b"two", b"three"] {
        tx.send(m).expect("send");
    }
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv");
    let bytes = std::fs::read(ring.path()).expect("read the object");
    let r = survey::inspect(ring.name()).expect("inspect");
    assert_eq!(std::fs::read(ring.path()).expect("read again"), bytes);
    assert_eq!((r.kind, r.broken), (Kind::Spsc, false));
    assert_eq!((r.geometry.capacity, r.geometry.unit), (4096, Unit::Bytes));
    assert_eq!(r.geometry.max_message, 1024);
    // Two records of 8-byte header and a payload padded to 8 bytes.
    assert_eq!((r.messages, r.fill), (2, 32));
    let holders: Vec<_> = r.slots.iter().map(|s| (s.role, s.holder)).collect();
    assert_eq!(
        holders,
        [("producer", Holder::Alive), ("consumer", Holder::Alive)]
    );
    assert_eq!(
        (r.slots[0].counters.sent, r.slots[0].counters.bytes),
        (3, 11)
    );
    assert_eq!(
        (r.slots[1].counters.received, r.slots[1].counters.bytes),
        (1, 3)
    );
    assert!(r.in_use());
    drop(rx);
    let r = survey::inspect(ring.name()).expect("inspect");
    assert_eq!(r.slots[1].holder, Holder::Left);
    assert_eq!(r.slots[1].generation, 1);
}

#[test]
fn a_survey_reports_queues_and_topics_slot_by_slot() {
    let _w = watchdog("cells survey", LIMIT);
    let q = RingGuard::new("survey-mpmc");
    let mut tx = mpmc::Builder::new(q.name())
        .capacity(8)
        .slot_size(16)
        .producers(2)
        .consumers(3)
        .create_producer()
        .expect("create a queue");
    for i in 0..5u64 {
        tx.send_value(&i).expect("send");
    }
    let r = survey::inspect(q.name()).expect("inspect the queue");
    assert_eq!((r.kind, r.messages, r.fill), (Kind::Mpmc, 5, 5));
    assert_eq!(r.geometry.slot_size, Some(16));
    assert_eq!(r.slots_of("producer").count(), 2);
    assert_eq!(r.slots_of("consumer").count(), 3);
    assert_eq!(r.slots[0].holder, Holder::Alive);
    assert_eq!(r.slots[0].counters.bytes, 40);
    assert!(r.slots[1..].iter().all(|s| s.holder == Holder::Never));
    let mut rx = mpmc::Consumer::open(q.name()).expect("consumer");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv");
    rx.read().expect("read").len();
    let r = survey::inspect(q.name()).expect("inspect the queue");
    let c = r.slots_of("consumer").next().expect("consumer").counters;
    assert_eq!((c.received, c.bytes), (2, 16));

    let t = RingGuard::new("survey-topic");
    let mut publisher = broadcast::Builder::new(t.name())
        .capacity(16)
        .slot_size(8)
        .create_publisher()
        .expect("create a topic");
    let mut fast = broadcast::Subscriber::open(t.name()).expect("subscribe");
    let mut slow = broadcast::Subscriber::open(t.name()).expect("subscribe");
    for i in 0..6u64 {
        publisher.send_value(&i).expect("publish");
    }
    for _ in 0..6 {
        fast.recv_value::<u64>().expect("receive");
    }
    slow.recv_value::<u64>().expect("receive");
    let r = survey::inspect(t.name()).expect("inspect the topic");
    assert_eq!((r.kind, r.geometry.lossy), (Kind::Broadcast, Some(false)));
    let mut lags: Vec<_> = r.slots_of("subscriber").filter_map(|s| s.lag).collect();
    lags.sort_unstable();
    assert_eq!(lags, [0, 5]);
    let mut bytes: Vec<_> = r.slots_of("subscriber").map(|s| s.counters.bytes).collect();
    bytes.sort_unstable();
    assert_eq!(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 48]);
    // The slowest subscriber has 5 messages to read; the topic holds all 6.
    assert_eq!((r.fill, r.messages), (5, 6));
}

#[test]
fn a_holder_killed_shows_dead_and_garbage_collection_takes_its_ring() {
    let _w = watchdog("dead holder", LIMIT);
    let ring = RingGuard::new("survey-dead");
    drop(spsc::Producer::create(ring.name(), 4096).expect("create"));
    let mut child = spawn("holder", ring.name(), "");
    child.expect("attached", WITHIN);
    let r = survey::inspect(ring.name()).expect("inspect");
    assert_eq!(r.slots[0].holder, Holder::Alive);
    assert_eq!(r.slots[0].generation, 2);
    match survey::remove_unused(ring.name(), false).expect("rm") {
        Removal::InUse(found) => assert!(found.in_use()),
        Removal::Removed => panic!("removed a ring whose producer lives"),
    }
    // Nothing is garbage while the holder lives.
    assert!(survey::collect_garbage(ring.name(), false)
        .expect("gc")
        .is_empty());
    child.kill9();
    let _ = child.wait_exit(WITHIN);
    let r = survey::inspect(ring.name()).expect("inspect");
    assert_eq!(r.slots[0].holder, Holder::Dead);
    let dry = survey::collect_garbage(ring.name(), true).expect("gc --dry-run");
    assert_eq!(dry.len(), 1);
    assert_eq!(dry[0].reason, Reason::HoldersDied);
    assert!(matches!(dry[0].removed, Ok(false)));
    assert!(ring.path().exists(), "a dry run removed the ring");
    let done = survey::collect_garbage(ring.name(), false).expect("gc");
    assert!(matches!(done[0].removed, Ok(true)), "{done:?}");
    assert!(!ring.path().exists());
}

#[test]
fn a_ring_whose_holders_left_stays_for_the_next_process_but_rm_takes_it() {
    let _w = watchdog("rm at rest", LIMIT);
    let ring = RingGuard::new("survey-rest");
    let mut tx = spsc::Producer::create(ring.name(), 4096).expect("create");
    tx.send(b"for later").expect("send");
    drop(tx);
    assert!(survey::collect_garbage(ring.name(), false)
        .expect("gc")
        .is_empty());
    assert!(matches!(
        survey::remove_unused(ring.name(), false),
        Ok(Removal::Removed)
    ));
    assert!(matches!(
        survey::remove_unused(ring.name(), false),
        Err(OpenError::NotFound { .. })
    ));
}

#[test]
fn objects_that_are_not_readable_rings_are_listed_with_the_reason() {
    let _w = watchdog("strangers", LIMIT);
    let stranger = RingGuard::new("survey-stranger");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(stranger.path())
        .and_then(|f| f.write_all_at(&[0x5a; 4096], 0))
        .expect("make a stranger");
    let broken = RingGuard::new("survey-broken");
    drop(spsc::Producer::create(broken.name(), 4096).expect("create"));
    std::fs::OpenOptions::new()
        .write(true)
        .open(broken.path())
        .and_then(|f| f.write_all_at(b"BAD!", STATE_AT))
        .expect("write the verdict");

    let listed = survey::list().expect("list");
    let entry = |name: &str| listed.iter().find(|e| e.name == name).expect("listed");
    assert!(matches!(
        entry(stranger.name()).ring,
        Err(OpenError::NotIpcring { .. })
    ));
    assert!(entry(broken.name()).ring.as_ref().expect("readable").broken);

    assert!(survey::remove_unused(stranger.name(), false).is_err());
    assert!(stranger.path().exists());
    let gc = survey::collect_garbage(broken.name(), false).expect("gc");
    assert_eq!(gc[0].reason, Reason::Broken);
    assert!(!broken.path().exists());
    assert!(matches!(
        survey::remove_unused(stranger.name(), true),
        Ok(Removal::Removed)
    ));
}

#[test]
fn a_ring_created_detached_holds_no_role_and_waits_for_both() {
    let _w = watchdog("detached create", LIMIT);
    let s = RingGuard::new("detached-spsc");
    spsc::Builder::new(s.name())
        .capacity(4096)
        .mode(0o660)
        .create_detached()
        .expect("create an spsc ring");
    let q = RingGuard::new("detached-mpmc");
    mpmc::Builder::new(q.name())
        .capacity(4)
        .slot_size(8)
        .create_detached()
        .expect("create a queue");
    let t = RingGuard::new("detached-topic");
    broadcast::Builder::new(t.name())
        .capacity(4)
        .slot_size(8)
        .lossy(true)
        .create_detached()
        .expect("create a topic");
    for (name, kind) in [
        (s.name(), Kind::Spsc),
        (q.name(), Kind::Mpmc),
        (t.name(), Kind::Broadcast),
    ] {
        let r = survey::inspect(name).expect("inspect");
        assert_eq!(r.kind, kind);
        assert!(r.slots.iter().all(|s| s.holder == Holder::Never), "{r:?}");
    }
    assert_eq!(survey::inspect(s.name()).unwrap().object.mode, 0o660);
    assert_eq!(
        survey::inspect(t.name()).unwrap().geometry.lossy,
        Some(true)
    );
    // A consumer that comes first waits for a producer: the ring is empty, not abandoned.
    let mut rx = spsc::Consumer::open(s.name()).expect("consumer");
    let mut buf = Vec::new();
    assert!(matches!(
        rx.try_recv_into(&mut buf),
        Err(ipcring::RecvError::Empty)
    ));
    spsc::Producer::open(s.name())
        .expect("producer")
        .send(b"x")
        .expect("send");
    rx.recv_into(&mut buf).expect("recv");
    assert_eq!(buf, b"x");
}

#[test]
fn a_creation_left_half_done_is_garbage_only_once_its_creator_is_gone() {
    let _w = watchdog("abandoned creation", LIMIT);
    let ring = RingGuard::new("survey-half");
    // What a creator leaves while it initialises: mode 0200, its object lock held.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o200)
        .open(ring.path())
        .expect("make a half-created object");
    file.write_all_at(&[0; 4096], 0).expect("size it");
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .expect("the creator's lock");
    let listed = survey::list().expect("list");
    let entry = listed
        .iter()
        .find(|e| e.name == ring.name())
        .expect("listed");
    assert!(matches!(
        entry.ring,
        Err(OpenError::StillInitializing { .. })
    ));
    assert!(survey::collect_garbage(ring.name(), false)
        .expect("gc")
        .is_empty());
    assert!(ring.path().exists(), "gc took the object of a live creator");
    // The creator dies: its lock goes with its descriptor.
    drop(file);
    let gc = survey::collect_garbage(ring.name(), false).expect("gc");
    assert_eq!(gc.len(), 1);
    assert_eq!(gc[0].reason, Reason::AbandonedCreation);
    assert!(matches!(gc[0].removed, Ok(true)), "{gc:?}");
    assert!(!ring.path().exists());
}
