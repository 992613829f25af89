//! A scribbler writes any value into any word of an event segment: handles refuse a
//! segment whose geometry is wrong, and otherwise never panic, hang or read out of bounds
//! (at worst they report counts or departures that did not happen).

use crate::common::{forge_each_word, segment_word, set_segment_word, watchdog, RingGuard};
use ipcring::event::{Builder, Listener, Notifier};
use ipcring::{OpenError, RecvError};
use std::cell::RefCell;
use std::time::Duration;

const IDS: usize = 20;
/// Header (4 lines), 2 + 2 role slots of 2 lines, 20 counters (2 lines).
const SIZE: u64 = 4 * 128 + 4 * 256 + 256;
const DATA: u64 = 4 * 128 + 4 * 256;
// 16 ids or fewer take one line of counters: a segment of 16 ids is smaller (and 17 to
// 19 ids would be the same size, and a valid geometry).

fn segment(ring: &RingGuard) {
    Builder::new(ring.name())
        .ids(IDS)
        .notifiers(2)
        .listeners(2)
        .create_detached()
        .expect("create");
    assert_eq!(std::fs::metadata(ring.path()).expect("stat").len(), SIZE);
}

#[test]
fn a_scribbled_geometry_is_refused_at_open() {
    let ring = RingGuard::new("event-bad-geometry");
    segment(&ring);
    for (at, value, what) in [
        (128, 0, "ids"),
        (128, 4097, "ids"),
        (136, 65, "notifiers"),
        (144, 0, "listeners"),
        (128, 16, "total_size"),
    ] {
        let good = segment_word(&ring, at);
        set_segment_word(&ring, at, value);
        let r = Listener::open(ring.name());
        set_segment_word(&ring, at, good);
        match r {
            Err(OpenError::BadGeometry { what: w, .. }) => assert_eq!(w, what, "{at}={value}"),
            other => panic!("{at}={value}: {other:?}"),
        }
    }
    Listener::open(ring.name()).expect("put back whole, it opens");
}

#[test]
fn a_scribbled_counter_gives_a_count_and_nothing_worse() {
    let ring = RingGuard::new("event-bad-counter");
    segment(&ring);
    let mut rx = Listener::open(ring.name()).expect("open");
    let mut tx = Notifier::open(ring.name()).expect("open");
    // Counter 3 jumps by 2^63; counter 19 goes back by one (a huge forward wrap).
    set_segment_word(&ring, DATA + 3 * 8, 1 << 63);
    set_segment_word(&ring, DATA + 19 * 8, u64::MAX);
    tx.notify(0).expect("notify");
    let fired = rx.try_wait().expect("fired");
    assert_eq!(
        fired.iter().collect::<Vec<_>>(),
        [(0, 1), (3, 1 << 63), (19, u64::MAX)]
    );
    // The epoch scribbled alone: a scan that finds nothing new.
    set_segment_word(&ring, 256, 12345);
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
}

#[test]
fn any_value_in_any_word_never_panics_or_hangs() {
    let _w = watchdog("event scribbler", Duration::from_secs(240));
    let ring = RingGuard::new("event-forge");
    segment(&ring);
    // A listener and a notifier that live through every scribble, and fresh ones each time.
    let live = RefCell::new((
        Listener::open(ring.name()).expect("open"),
        Notifier::open(ring.name()).expect("open"),
    ));
    let attempt = || {
        let (rx, tx) = &mut *live.borrow_mut();
        tx.notify(7).expect("notify");
        let _ = rx.try_wait().map(|f| (f.total(), f.departures().len()));
        if let Ok(mut fresh) = Listener::open(ring.name()) {
            if let Ok(mut n) = Notifier::open(ring.name()) {
                n.notify(19).expect("notify");
            }
            let _ = fresh.wait_timeout(Duration::from_millis(1));
            let _ = fresh.stats();
        }
    };
    forge_each_word(&ring, (0..SIZE).step_by(8), &attempt);
    // Put back whole, the segment works.
    let (rx, tx) = &mut *live.borrow_mut();
    let _ = rx.try_wait();
    tx.notify(1).expect("notify");
    assert_eq!(rx.try_wait().expect("fired").count(1), 1);
}
