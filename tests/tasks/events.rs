//! `Listener::wait_async`: woken by a notifier process, and cancel-safe (what a dropped
//! future found is reported by the next wait, never lost).

use crate::common::{say, spawn, watchdog, RingGuard, XorShift};
use ipcring::event::{Builder, Notifier, Party};
use std::time::Duration;

const FIRES: u64 = 3000;

/// Child: opens a notifier, fires ids 0..4 in turn `FIRES` times, pausing now and then,
/// then leaves.
pub fn event_notifier(name: &str, _arg: &str) {
    let mut tx = Notifier::open(name).expect("open a notifier");
    let mut rng = XorShift::new(7);
    for n in 0..FIRES {
        tx.notify((n % 4) as u32).expect("notify");
        if rng.below(32) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
        }
    }
    say("done", "");
}

#[tokio::test(flavor = "current_thread")]
async fn a_listener_awaits_a_notifier_process_and_its_departure() {
    let _w = watchdog("wait_async", Duration::from_secs(120));
    let ring = RingGuard::new("task-event");
    let mut rx = Builder::new(ring.name())
        .ids(4)
        .create_listener()
        .expect("create");
    let child = spawn("event-notifier", ring.name(), "");
    let (mut counts, mut left) = ([0u64; 4], Vec::new());
    while counts.iter().sum::<u64>() < FIRES || left.is_empty() {
        let fired = rx.wait_async().await.expect("a report");
        for (id, n) in fired.iter() {
            counts[id as usize] += n;
        }
        left.extend(fired.departures().iter().map(|d| (d.role, d.slot)));
    }
    assert_eq!(counts, [FIRES / 4; 4]);
    assert_eq!(left, [(Party::Notifier, 0)]);
    child.expect("done", Duration::from_secs(30));
    child.wait_success(Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_cancelled_at_any_moment_loses_nothing() {
    let _w = watchdog("wait_async cancelled", Duration::from_secs(120));
    let ring = RingGuard::new("task-event-cancel");
    let mut rx = Builder::new(ring.name())
        .ids(4)
        .create_listener()
        .expect("create");
    let child = spawn("event-notifier", ring.name(), "");
    let mut rng = XorShift::new(3);
    let (mut total, mut cancelled, mut left) = (0u64, 0u64, false);
    while total < FIRES || !left {
        let limit = Duration::from_micros(rng.below(2000));
        match tokio::time::timeout(limit, rx.wait_async()).await {
            Ok(fired) => {
                let fired = fired.expect("a report");
                total += fired.total();
                left |= !fired.departures().is_empty();
            }
            Err(_) => cancelled += 1,
        }
    }
    assert_eq!(
        total, FIRES,
        "every notification once, {cancelled} waits cancelled"
    );
    assert!(
        cancelled > 0,
        "no wait was cancelled: the test tested nothing"
    );
    child.expect("done", Duration::from_secs(30));
    child.wait_success(Duration::from_secs(30));
}
