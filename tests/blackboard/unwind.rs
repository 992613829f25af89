//! A `set_with` whose `fill` panics leaves its entry half written, with the writer alive:
//! readers must not wait for it for good (they report the entry abandoned), other writers
//! must not be kept out of it, and the next set makes it whole.

use crate::common::{watchdog, RingGuard};
use ipcring::blackboard::{Builder, GetError, Reader, Writer};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
/// Far longer than a read takes to give up on the entry.
const NOTICE: Duration = Duration::from_secs(10);

/// Sets entry 0 with a `fill` that writes half the value and panics.
fn panicking_set(w: &mut Writer) {
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        w.set_with(0, 16, |room| {
            room.write_at(0, b"half-way");
            panic!("a fill that panics");
        })
    }));
    assert!(panicked.is_err());
}

/// The entry reads as abandoned, within a bound, by every kind of read.
fn reads_abandoned(r: &mut Reader) {
    let abandoned = Err(GetError::Abandoned { key: 0 });
    let mut buf = Vec::new();
    let t = Instant::now();
    assert_eq!(r.get_into(0, &mut buf), abandoned);
    assert_eq!(r.get::<[u8; 16]>(0).map(|(_, v)| v), abandoned);
    assert_eq!(r.wait_changed(0, 1, None), abandoned);
    loop {
        match r.try_get_into(0, &mut buf) {
            Err(GetError::Busy { key: 0 }) => {}
            other => break assert_eq!(other, abandoned),
        }
        assert!(t.elapsed() < NOTICE, "still busy");
    }
    assert!(t.elapsed() < NOTICE, "the reads took {:?}", t.elapsed());
    // Another entry is not touched.
    assert_eq!(r.get_into(1, &mut buf), Ok(1));
}

#[test]
fn a_fill_that_panics_abandons_the_entry_until_the_next_set() {
    let _w = watchdog("board fill panics", LIMIT);
    let ring = RingGuard::new("bb-unwind");
    let mut w = Writer::create(ring.name(), 2, 16).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, b"before"), Ok(1));
    assert_eq!(w.set(1, b"other"), Ok(1));
    panicking_set(&mut w);
    reads_abandoned(&mut r);
    let v = w.set(0, b"after").expect("set again");
    assert!(v > 1);
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(v));
    assert_eq!(buf, b"after");
}

#[test]
fn a_fill_that_panics_does_not_keep_other_writers_out() {
    let _w = watchdog("board fill panics, two writers", LIMIT);
    let ring = RingGuard::new("bb-unwind-2");
    let b = || Builder::new(ring.name()).entries(2, 16).writers(2);
    let mut w = b().create_writer().expect("create");
    let mut other = b().open_writer().expect("a second writer");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, b"before"), Ok(1));
    assert_eq!(w.set(1, b"other"), Ok(1));
    panicking_set(&mut w);
    reads_abandoned(&mut r);
    let t = Instant::now();
    let v = other
        .set(0, b"after")
        .expect("the other writer sets the entry");
    assert!(v > 1);
    assert!(t.elapsed() < NOTICE, "the set took {:?}", t.elapsed());
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(v));
    assert_eq!(buf, b"after");
    // And the writer whose fill panicked sets it again.
    assert_eq!(w.set(0, b"again"), Ok(v + 1));
}

/// A live writer in the middle of a write that does not end (here: a read from inside the
/// write's `fill`; elsewhere a stopped writer, or a peer that scribbled a live writer's
/// claim over the entry) holds a blocking read up for a bounded time only: `Busy`.
#[test]
fn a_write_that_does_not_end_holds_a_blocking_read_up_for_a_second_only() {
    let _w = watchdog("board write in progress", LIMIT);
    let ring = RingGuard::new("bb-stuck");
    let mut w = Writer::create(ring.name(), 2, 16).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, b"before"), Ok(1));
    let mut seen = Vec::new();
    w.set_with(0, 8, |room| {
        room.write_at(0, b"inside!!");
        let mut buf = Vec::new();
        let t = Instant::now();
        seen.push(r.get_into(0, &mut buf));
        seen.push(r.get::<u64>(0).map(|(_, v)| v));
        seen.push(r.try_get_into(0, &mut buf));
        assert!(t.elapsed() < NOTICE, "the reads took {:?}", t.elapsed());
        // The wait for a change has a deadline of its own: the write is not a change.
        let since = r.version(0).expect("a version");
        seen.push(r.wait_changed(0, since, Some(Duration::from_millis(50))));
    })
    .expect("set");
    let busy = Err(GetError::Busy { key: 0 });
    assert_eq!(seen, [busy, busy, busy, Err(GetError::Timeout { key: 0 })]);
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(2));
    assert_eq!(buf, b"inside!!");
}
