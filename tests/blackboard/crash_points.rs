//! Crash points (`--features crash-points`): a writer process that dies in the middle of
//! setting an entry (its sequence odd, the value written). Readers report that entry as
//! abandoned, within a bound, and every other entry as it was; a new writer sets it and
//! it is whole again. With several writers, the dead writer's claim of the entry is taken
//! over by the next writer that sets it.

use crate::common::crashes::{self, died_at_the_point};
use crate::common::{spawn, watchdog, RingGuard};
use crate::stamps::{board, checked_value, stamp, value, Typed, TYPED};
use ipcring::blackboard::{GetError, Reader, Writer};
use ipcring::crash::Point;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
/// Far longer than a reader takes to find a dead writer (a few park slices).
const NOTICE: Duration = Duration::from_secs(10);

fn point(name: &str) -> Point {
    match name {
        "mid-write" => Point::BoardMidWrite,
        other => panic!("no crash point {other:?}"),
    }
}

/// Child: sets entries 0, 1 and 2 once (writer 1), then entry 1 again, with its crash
/// point armed (argument `mid-write 3`) to die in that fourth set.
pub fn crashing_writer(ring: &str, arg: &str) {
    crashes::arm_from(arg, point);
    let mut w = Writer::open(ring).expect("open a writer");
    for key in 0..3 {
        w.set(key, &value(stamp(1, key, 0))).expect("set");
    }
    w.set(1, &value(stamp(1, 1, 1))).expect("set");
    unreachable!("the crash point let the fourth set through");
}

/// Runs the crashing writer on `ring` and checks what it left: entry 1 abandoned (every
/// kind of read says so, none hangs), entries 0 and 2 whole, the others unset.
fn writer_dies_in_a_set(ring: &RingGuard) -> Reader {
    let child = spawn("crashing-writer", ring.name(), "mid-write 3");
    died_at_the_point(child.wait_exit(LIMIT), "a writer in the middle of a set");
    let mut r = Reader::open(ring.name()).expect("open a reader");
    let mut buf = Vec::new();
    for key in [0, 2] {
        assert_eq!(r.get_into(key, &mut buf), Ok(1), "entry {key}");
        assert_eq!(checked_value(key, &buf), stamp(1, key, 0));
    }
    assert_eq!(r.get_into(3, &mut buf), Err(GetError::NotSet { key: 3 }));
    assert_eq!(r.get::<Typed>(TYPED), Err(GetError::NotSet { key: TYPED }));
    let abandoned = Err(GetError::Abandoned { key: 1 });
    let t = Instant::now();
    assert_eq!(r.get_into(1, &mut buf), abandoned);
    assert!(
        t.elapsed() < NOTICE,
        "a blocking read took {:?}",
        t.elapsed()
    );
    // A non-blocking read says `Busy` until it has asked the kernel about the writer.
    let t = Instant::now();
    loop {
        match r.try_get_into(1, &mut buf) {
            Err(GetError::Busy { key: 1 }) => assert!(t.elapsed() < NOTICE, "still busy"),
            other => break assert_eq!(other, abandoned),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(r.version(1), Ok(1), "the abandoned set is not a version");
    let t = Instant::now();
    assert_eq!(r.wait_changed(1, 1, None), abandoned);
    assert_eq!(r.wait_changed(1, 0, Some(NOTICE)), abandoned);
    assert!(t.elapsed() < NOTICE, "the waits took {:?}", t.elapsed());
    r
}

/// After the abandoned entry: a writer sets it and it reads whole, at a larger version.
fn entry_is_whole_again(w: &mut Writer, r: &mut Reader) {
    let v = w
        .set(1, &value(stamp(2, 1, 0)))
        .expect("set the abandoned entry");
    assert!(v > 1, "version {v} after an abandoned set");
    let mut buf = Vec::new();
    assert_eq!(r.get_into(1, &mut buf), Ok(v));
    assert_eq!(checked_value(1, &buf), stamp(2, 1, 0));
    assert_eq!(r.try_get_into(1, &mut buf), Ok(v));
    assert_eq!(r.version(1), Ok(v));
    let next = w.set(1, &value(stamp(2, 1, 1))).expect("set again");
    assert_eq!(next, v + 1);
    assert_eq!(r.wait_changed(1, v, None), Ok(v + 1));
    assert_eq!(w.set(3, &value(stamp(2, 3, 0))), Ok(1));
}

#[test]
fn a_writer_killed_mid_write_abandons_that_entry_until_the_next_writer_sets_it() {
    let _w = watchdog("board writer killed mid-write", LIMIT);
    let ring = RingGuard::new("bb-crash");
    board(ring.name(), 1).create_detached().expect("create");
    let mut r = writer_dies_in_a_set(&ring);
    let mut w = Writer::open(ring.name()).expect("the dead writer's slot is free");
    entry_is_whole_again(&mut w, &mut r);
}

/// A blocking read that started while the dead writer was still alive at its crash point
/// would also end: here the read starts right after the death, before anybody reaped it.
#[test]
fn a_blocked_read_of_an_abandoned_entry_returns() {
    let _w = watchdog("board read of a dead write", LIMIT);
    let ring = RingGuard::new("bb-crash-read");
    board(ring.name(), 1).create_detached().expect("create");
    let mut r = Reader::open(ring.name()).expect("open a reader");
    let mut child = spawn("crashing-writer", ring.name(), "mid-write 3");
    let mut buf = Vec::new();
    let t = Instant::now();
    // Reads of entry 1 until the writer died in its second set of it.
    loop {
        match r.get_into(1, &mut buf) {
            Err(GetError::NotSet { .. }) | Ok(1) => {}
            Err(GetError::Abandoned { key: 1 }) => break,
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed() < LIMIT / 2, "the writer never died");
    }
    child.kill9();
}

#[test]
fn a_dead_writers_claim_is_taken_over_by_another_writer() {
    let _w = watchdog("board claim of a dead writer", LIMIT);
    let ring = RingGuard::new("bb-crash-claim");
    // The survivor holds a slot before the victim attaches.
    let mut w = board(ring.name(), 4).create_writer().expect("create");
    let mut r = writer_dies_in_a_set(&ring);
    let t = Instant::now();
    entry_is_whole_again(&mut w, &mut r);
    assert!(t.elapsed() < NOTICE, "the set took {:?}", t.elapsed());
    // Another writer can set it too: the claim was given back.
    let mut other = Writer::open(ring.name()).expect("another writer");
    let v = r.version(1).expect("version");
    assert_eq!(other.set(1, &value(stamp(3, 1, 0))), Ok(v + 1));
}
