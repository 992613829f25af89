//! Departures are events: a notifier killed with SIGKILL, or one that drops its handle, is
//! reported to listeners that sleep in a wait or poll; so is a listener that leaves, to the
//! other listeners.

use crate::common::{hear, kill9_pid, say, spawn, watchdog, RingGuard};
use ipcring::event::{Builder, Departure, Fired, Listener, Notifier, Party};
use ipcring::{RecvError, WaitStrategy};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

/// How late a departure may be reported and the test still pass: generous, for a loaded
/// machine (the design says a park slice, 20 ms, for a sleeper).
const LATE: Duration = Duration::from_secs(2);

/// Child: opens a notifier, fires id 1, says `ready`, and stays until killed (or until
/// its stdin closes).
pub fn fire_and_stay(name: &str, _arg: &str) {
    let mut tx = Notifier::open(name).expect("open a notifier");
    tx.notify(1).expect("notify");
    say("ready", "");
    while hear().is_some() {}
    drop(tx);
}

/// Child: opens a notifier, fires id 1, says `ready`; drops the handle when told `drop`,
/// then stays until its stdin closes.
pub fn fire_and_drop(name: &str, _arg: &str) {
    let mut tx = Notifier::open(name).expect("open a notifier");
    tx.notify(1).expect("notify");
    say("ready", "");
    assert_eq!(hear().as_deref(), Some("drop"));
    drop(tx);
    while hear().is_some() {}
}

fn only_departure(fired: &Fired) -> Departure {
    assert_eq!(fired.iter().count(), 0, "nothing fired");
    match fired.departures() {
        [d] => *d,
        other => panic!("departures {other:?}"),
    }
}

/// A listener that has seen the notifier in `child`'s role fire, as `how` waits.
fn listener_after_first_fire(
    ring: &RingGuard,
    strategy: WaitStrategy,
    role: &str,
) -> (Listener, crate::common::ChildProc) {
    let mut rx = Builder::new(ring.name())
        .ids(4)
        .wait_strategy(strategy)
        .create_listener()
        .expect("create the segment");
    let child = spawn(role, ring.name(), "");
    child.expect("ready", Duration::from_secs(30));
    let fired = rx.wait_timeout(LIMIT).expect("the first notification");
    assert_eq!(fired.iter().collect::<Vec<_>>(), [(1, 1)]);
    (rx, child)
}

/// Kills the child after a moment, from another thread; returns when it was killed.
fn kill_later(pid: u32) -> std::thread::JoinHandle<Instant> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        kill9_pid(pid)
    })
}

fn killed_notifier_reported_to_a_blocked_listener(strategy: WaitStrategy) {
    let _w = watchdog("killed notifier, blocked listener", LIMIT);
    let ring = RingGuard::new("event-kill");
    let (mut rx, child) = listener_after_first_fire(&ring, strategy, "fire-and-stay");
    let killer = kill_later(child.pid());
    let d = only_departure(rx.wait_timeout(LIMIT).expect("the departure"));
    let seen = Instant::now();
    let killed = killer.join().expect("killer");
    assert_eq!((d.role, d.slot), (Party::Notifier, 0));
    let late = seen - killed;
    assert!(late < LATE, "a crash reported {late:?} after the kill");
    println!("{strategy:?}: a crash reported {late:?} after the kill");
    // Reported once.
    assert_eq!(
        rx.wait_timeout(Duration::from_millis(100)).err(),
        Some(RecvError::Timeout)
    );
    drop(child);
}

#[test]
fn a_killed_notifier_is_reported_to_a_parked_listener() {
    killed_notifier_reported_to_a_blocked_listener(WaitStrategy::Park);
}

#[test]
fn a_killed_notifier_is_reported_to_a_spinning_then_parked_listener() {
    killed_notifier_reported_to_a_blocked_listener(WaitStrategy::default());
}

#[test]
fn a_killed_notifier_is_reported_to_a_polling_listener() {
    let _w = watchdog("killed notifier, polling listener", LIMIT);
    let ring = RingGuard::new("event-kill-poll");
    let (mut rx, child) =
        listener_after_first_fire(&ring, WaitStrategy::default(), "fire-and-stay");
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    let killer = kill_later(child.pid());
    let d = loop {
        match rx.try_wait() {
            Ok(fired) => break only_departure(fired),
            Err(RecvError::Empty) => std::thread::sleep(Duration::from_micros(200)),
            Err(e) => panic!("{e}"),
        }
    };
    let seen = Instant::now();
    let late = seen - killer.join().expect("killer");
    assert_eq!((d.role, d.slot), (Party::Notifier, 0));
    assert!(late < LATE, "a crash reported {late:?} after the kill");
    println!("polling: a crash reported {late:?} after the kill");
    assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
}

#[test]
fn a_notifier_that_drops_its_handle_is_reported_to_a_parked_listener() {
    let _w = watchdog("dropped notifier", LIMIT);
    let ring = RingGuard::new("event-drop");
    let (mut rx, mut child) = listener_after_first_fire(&ring, WaitStrategy::Park, "fire-and-drop");
    let teller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        child.tell("drop");
        (Instant::now(), child)
    });
    let d = only_departure(rx.wait_timeout(LIMIT).expect("the departure"));
    let seen = Instant::now();
    let (told, child) = teller.join().expect("teller");
    assert_eq!((d.role, d.slot), (Party::Notifier, 0));
    assert!(seen - told < LATE);
    // The process lives on: the departure came from the detach, not from its death.
    drop(child);
}

#[test]
fn a_listener_that_leaves_is_reported_to_the_others() {
    let ring = RingGuard::new("event-listeners");
    let mut a = Builder::new(ring.name())
        .listeners(3)
        .create_listener()
        .expect("create");
    let b = Listener::open(ring.name()).expect("open");
    let mut c = Listener::open(ring.name()).expect("open");
    drop(b);
    for rx in [&mut a, &mut c] {
        let d = only_departure(rx.try_wait().expect("the departure"));
        assert_eq!((d.role, d.slot), (Party::Listener, 1));
        assert_eq!(rx.try_wait().err(), Some(RecvError::Empty));
    }
}

#[test]
fn a_notifier_that_came_and_went_between_two_waits_is_reported_with_its_notifications() {
    let ring = RingGuard::new("event-came-went");
    let mut rx = Listener::create(ring.name(), 8).expect("create");
    let mut tx = Notifier::open(ring.name()).expect("open");
    tx.notify(5).expect("notify");
    tx.notify(5).expect("notify");
    drop(tx);
    let fired = rx.wait_timeout(LIMIT).expect("a report");
    assert_eq!(fired.iter().collect::<Vec<_>>(), [(5, 2)]);
    let mut left = fired.departures().to_vec();
    if left.is_empty() {
        left.push(only_departure(
            rx.wait_timeout(LIMIT).expect("the departure"),
        ));
    }
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].role, left[0].slot), (Party::Notifier, 0));
}

#[test]
fn a_slot_taken_again_after_a_departure_is_reported_when_its_new_holder_leaves() {
    let ring = RingGuard::new("event-slot-again");
    let mut rx = Builder::new(ring.name())
        .notifiers(1)
        .create_listener()
        .expect("create");
    for round in 0..3 {
        let mut tx = Notifier::open(ring.name()).expect("the one notifier slot is free");
        tx.notify(0).expect("notify");
        assert_eq!(rx.try_wait().expect("fired").count(0), 1, "round {round}");
        drop(tx);
        let d = only_departure(rx.try_wait().expect("the departure"));
        assert_eq!((d.role, d.slot), (Party::Notifier, 0));
    }
}
