//! An event segment on the heap shared by threads of one process (what ThreadSanitizer
//! can watch): four notifiers fire while two listeners count.

use crate::common::watchdog;
use ipcring::event::HeapEvents;
use ipcring::WaitStrategy;
use std::time::Duration;

const IDS: usize = 8;
const PER_NOTIFIER: u64 = 10_000;

#[test]
fn on_threads_four_notifiers_and_two_listeners_count_every_notification() {
    let _w = watchdog("events on threads", Duration::from_secs(120));
    let events = HeapEvents::new(IDS, 4, 2, 0);
    let strategies = [WaitStrategy::Park, WaitStrategy::default()];
    let listeners: Vec<_> = strategies
        .into_iter()
        .map(|s| {
            let mut rx = events.listener(s).expect("a listener");
            std::thread::spawn(move || {
                let mut counts = [0u64; IDS];
                while counts.iter().sum::<u64>() < 4 * PER_NOTIFIER {
                    let fired = rx.wait().expect("wait");
                    for (id, n) in fired.iter() {
                        counts[id as usize] += n;
                    }
                }
                counts
            })
        })
        .collect();
    let notifiers: Vec<_> = (0..4u64)
        .map(|k| {
            let mut tx = events.notifier().expect("a notifier");
            std::thread::spawn(move || {
                for n in 0..PER_NOTIFIER {
                    tx.notify(((k + n) % IDS as u64) as u32).expect("notify");
                }
            })
        })
        .collect();
    for n in notifiers {
        n.join().expect("a notifier");
    }
    let want = [4 * PER_NOTIFIER / IDS as u64; IDS];
    for l in listeners {
        assert_eq!(l.join().expect("a listener"), want);
    }
}
