//! Events in one process: what a wait reports, from when, with which counts; bad input;
//! timeouts; statistics.

use crate::common::{watchdog, RingGuard};
use ipcring::event::{Builder, Listener, Notifier, NotifyError, MAX_IDS};
use ipcring::{OpenError, RecvError, Role, WaitStrategy};
use std::time::{Duration, Instant};

#[test]
fn each_fired_id_is_reported_once_per_wait_with_its_count() {
    let ring = RingGuard::new("event-counts");
    let mut tx = Notifier::create(ring.name(), 10).expect("create");
    let mut rx = Listener::open(ring.name()).expect("open");
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    for id in [9, 0, 9, 4, 9] {
        tx.notify(id).expect("notify");
    }
    let fired = rx.try_wait().expect("fired");
    assert_eq!(fired.iter().collect::<Vec<_>>(), [(0, 1), (4, 1), (9, 3)]);
    assert_eq!(fired.iter().len(), 3);
    assert_eq!(fired.total(), 5);
    assert!(fired.departures().is_empty());
    // Reported once: the next look finds nothing new.
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    tx.notify(4).expect("notify");
    assert_eq!(
        rx.wait().expect("fired").iter().collect::<Vec<_>>(),
        [(4, 1)]
    );
}

#[test]
fn every_listener_sees_every_notification() {
    let ring = RingGuard::new("event-every");
    let mut a = Listener::create(ring.name(), 3).expect("create");
    let mut b = Listener::open(ring.name()).expect("open");
    let mut tx = Notifier::open(ring.name()).expect("open");
    tx.notify(2).expect("notify");
    for rx in [&mut a, &mut b] {
        assert_eq!(rx.wait().expect("fired").count(2), 1);
    }
    let s = tx.stats();
    assert_eq!((s.sent, s.received, s.ids), (1, 2, 3));
}

#[test]
fn a_listener_sees_what_fires_from_its_attach_on() {
    let ring = RingGuard::new("event-from-attach");
    let mut tx = Notifier::create(ring.name(), 2).expect("create");
    tx.notify(0).expect("before the listener");
    let mut rx = Listener::open(ring.name()).expect("open");
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    tx.notify(1).expect("after");
    assert_eq!(
        rx.try_wait().expect("fired").iter().collect::<Vec<_>>(),
        [(1, 1)]
    );
}

#[test]
fn counts_wrap_around_u64_max() {
    let ring = RingGuard::new("event-wrap");
    let start = u64::MAX - 7;
    let mut rx = Builder::new(ring.name())
        .ids(MAX_IDS)
        .start_position(start)
        .create_listener()
        .expect("create");
    let mut tx = Notifier::open(ring.name()).expect("open");
    for _ in 0..20 {
        tx.notify(MAX_IDS as u32 - 1).expect("the last id");
    }
    tx.notify(0).expect("the first id");
    let fired = rx.try_wait().expect("fired");
    assert_eq!(fired.iter().collect::<Vec<_>>(), [(0, 1), (4095, 20)]);
    assert_eq!(tx.stats().epoch, start.wrapping_add(21));
}

#[test]
fn an_unknown_id_is_refused_and_nothing_is_sent() {
    let ring = RingGuard::new("event-unknown");
    let mut tx = Notifier::create(ring.name(), 4).expect("create");
    let mut rx = Listener::open(ring.name()).expect("open");
    for id in [4, 5, u32::MAX] {
        let e = tx.notify(id).expect_err("unknown");
        assert_eq!(e, NotifyError::UnknownId { id, ids: 4 });
        assert!(e.to_string().contains("0 to 3"), "{e}");
    }
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    assert_eq!(tx.stats().sent, 0);
    tx.notify(3).expect("the last id");
    let fired = rx.try_wait().expect("fired");
    assert_eq!(
        (fired.count(3), fired.count(4), fired.count(u32::MAX)),
        (1, 0, 0)
    );
}

#[test]
fn a_geometry_out_of_range_is_refused_at_create() {
    let ring = RingGuard::new("event-geometry");
    let cases: [(Builder, &str); 6] = [
        (Builder::new(ring.name()).ids(0), "ids"),
        (Builder::new(ring.name()).ids(MAX_IDS + 1), "ids"),
        (Builder::new(ring.name()).notifiers(0), "notifiers"),
        (Builder::new(ring.name()).notifiers(65), "notifiers"),
        (Builder::new(ring.name()).listeners(0), "listeners"),
        (Builder::new(ring.name()).listeners(65), "listeners"),
    ];
    for (b, what) in cases {
        match b.create_notifier() {
            Err(OpenError::InvalidGeometry { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
        assert!(!ring.path().exists(), "{what}: nothing left behind");
    }
    // The edges themselves are fine.
    let rx = Builder::new(ring.name())
        .ids(MAX_IDS)
        .notifiers(64)
        .listeners(1)
        .create_listener()
        .expect("the largest geometry");
    assert_eq!(rx.ids(), MAX_IDS);
}

#[test]
fn more_notifiers_than_slots_is_role_taken() {
    let ring = RingGuard::new("event-role-taken");
    let first = Builder::new(ring.name())
        .notifiers(2)
        .listeners(1)
        .create_notifier()
        .expect("create");
    let second = Notifier::open(ring.name()).expect("the second slot");
    match Notifier::open(ring.name()) {
        Err(OpenError::RoleTaken { role, slots }) => assert_eq!((role, slots), (Role::Producer, 2)),
        other => panic!("{other:?}"),
    }
    let _rx = Listener::open(ring.name()).expect("the listener slot");
    assert!(matches!(
        Listener::open(ring.name()),
        Err(OpenError::RoleTaken {
            role: Role::Consumer,
            slots: 1
        })
    ));
    drop(first);
    let _again = Notifier::open(ring.name()).expect("a slot freed by a drop");
    drop(second);
}

#[test]
fn another_kind_is_not_opened_as_events() {
    let ring = RingGuard::new("event-kind");
    let _q = ipcring::mpmc::Producer::create(ring.name(), 4, 8).expect("a queue");
    assert!(matches!(
        Listener::open(ring.name()),
        Err(OpenError::KindMismatch {
            found: 2,
            expected: 5
        })
    ));
    let other = RingGuard::new("event-kind-2");
    let _ev = Notifier::create(other.name(), 1).expect("events");
    assert!(matches!(
        ipcring::mpmc::Consumer::open(other.name()),
        Err(OpenError::KindMismatch {
            found: 5,
            expected: 2
        })
    ));
}

#[test]
fn open_or_create_makes_one_segment_for_both_roles() {
    let ring = RingGuard::new("event-ooc");
    let mut rx = Builder::new(ring.name())
        .ids(3)
        .open_or_create_listener()
        .expect("created");
    let mut tx = Builder::new(ring.name())
        .ids(99)
        .open_or_create_notifier()
        .expect("opened");
    assert_eq!(tx.ids(), 3, "the creator's geometry");
    tx.notify(2).expect("notify");
    assert_eq!(rx.wait().expect("fired").count(2), 1);
    assert!(Notifier::create(ring.name(), 3).is_err());
}

#[test]
fn create_detached_waits_for_both_roles() {
    let ring = RingGuard::new("event-detached");
    Builder::new(ring.name())
        .ids(2)
        .create_detached()
        .expect("create");
    let mut rx = Listener::open(ring.name()).expect("open");
    let mut tx = Notifier::open(ring.name()).expect("open");
    tx.notify(1).expect("notify");
    assert_eq!(rx.wait().expect("fired").count(1), 1);
}

#[test]
fn wait_timeout_times_out_when_nothing_fires() {
    let _w = watchdog("wait_timeout", Duration::from_secs(60));
    let ring = RingGuard::new("event-timeout");
    for strategy in [
        WaitStrategy::Park,
        WaitStrategy::default(),
        WaitStrategy::BusySpin,
    ] {
        let mut rx = Builder::new(ring.name())
            .wait_strategy(strategy)
            .create_listener()
            .expect("create");
        let _tx = Notifier::open(ring.name()).expect("a live notifier that fires nothing");
        let t = Instant::now();
        assert_eq!(
            rx.wait_timeout(Duration::from_millis(30)).err(),
            Some(RecvError::Timeout),
            "{strategy:?}"
        );
        assert!(t.elapsed() >= Duration::from_millis(30), "{strategy:?}");
        drop((rx, _tx));
        ipcring::unlink(ring.name()).expect("unlink");
    }
}

#[test]
fn a_blocked_listener_is_woken_by_a_notification_from_another_thread() {
    let _w = watchdog("blocked listener", Duration::from_secs(60));
    let ring = RingGuard::new("event-wake");
    for strategy in [WaitStrategy::Park, WaitStrategy::default()] {
        let mut rx = Builder::new(ring.name())
            .ids(8)
            .wait_strategy(strategy)
            .create_listener()
            .expect("create");
        let mut tx = Notifier::open(ring.name()).expect("open");
        let mut got = 0;
        let firing = std::thread::spawn(move || {
            for i in 0..200u32 {
                if i % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                tx.notify(i % 8).expect("notify");
            }
            tx
        });
        while got < 200 {
            got += rx.wait().expect("fired").total();
        }
        assert_eq!(got, 200);
        let tx = firing.join().expect("the notifier");
        assert!(tx.stats().wakeups > 0 || strategy != WaitStrategy::Park);
        drop((rx, tx));
        ipcring::unlink(ring.name()).expect("unlink");
    }
}
