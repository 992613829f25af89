//! Events across real processes: four notifier processes fire every id many times while
//! two listener processes (one parked at once, one spinning first) wait; each listener
//! counts every notification exactly once, and sees each notifier leave.

use crate::common::{hear, say, spawn, watchdog, RingGuard, XorShift};
use ipcring::event::{Builder, Notifier, Party};
use ipcring::WaitStrategy;
use std::time::Duration;

/// Event ids of the segment.
const IDS: u32 = 16;
/// Notifier processes.
const NOTIFIERS: usize = 4;
/// Rounds of each notifier: each fires every id once per round.
const ROUNDS: u64 = 2000;

/// Child: opens a notifier (argument: its number), says `ready`, waits for `go`, fires
/// every id `ROUNDS` times (in an order of its own, pausing now and then), says `done`
/// and leaves.
pub fn notifier(name: &str, arg: &str) {
    let me: u32 = arg.parse().expect("a number");
    let mut tx = Notifier::open(name).expect("open a notifier");
    say("ready", "");
    assert_eq!(hear().as_deref(), Some("go"));
    let mut rng = XorShift::new(u64::from(me) + 1);
    for _ in 0..ROUNDS {
        for k in 0..IDS {
            tx.notify((k + me) % IDS).expect("notify");
        }
        if rng.below(64) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(500)));
        }
    }
    say("done", "");
    drop(tx);
}

/// Child: opens a listener (argument: `park` or `spin-then-park`), says `ready`, and
/// waits until it has counted every notification of every notifier and seen every
/// notifier leave; checks each id's count, that nothing more comes, and says `got`.
pub fn listener(name: &str, arg: &str) {
    let strategy = match arg {
        "park" => WaitStrategy::Park,
        _ => WaitStrategy::default(),
    };
    let mut rx = Builder::new(name)
        .wait_strategy(strategy)
        .open_listener()
        .expect("open a listener");
    say("ready", "");
    let per_id = ROUNDS * NOTIFIERS as u64;
    let mut counts = vec![0u64; IDS as usize];
    let (mut total, mut left, mut waits) = (0u64, 0usize, 0u64);
    while total < per_id * u64::from(IDS) || left < NOTIFIERS {
        let fired = rx.wait().expect("wait");
        waits += 1;
        assert!(!fired.is_empty(), "a wait returned an empty report");
        for (id, n) in fired.iter() {
            counts[id as usize] += n;
            total += n;
        }
        for d in fired.departures() {
            assert_eq!(d.role, Party::Notifier, "{d:?}");
            left += 1;
        }
    }
    assert_eq!(
        counts,
        vec![per_id; IDS as usize],
        "every notification once"
    );
    assert_eq!(left, NOTIFIERS, "each notifier left once");
    // Nothing more: at most the other listener leaving.
    loop {
        match rx.wait_timeout(Duration::from_millis(50)) {
            Err(ipcring::RecvError::Timeout) => break,
            Ok(f)
                if f.iter().len() == 0
                    && f.departures().iter().all(|d| d.role == Party::Listener) => {}
            other => panic!("more than was sent: {other:?}"),
        }
    }
    say("got", format!("{total} {waits}"));
}

#[test]
fn four_notifiers_two_listeners_every_notification_counted_once() {
    let _w = watchdog("four notifiers, two listeners", Duration::from_secs(180));
    let ring = RingGuard::new("event-4x2");
    // Counters and epoch start just below u64::MAX: every count wraps on the way.
    let start = (u64::MAX - 3 * ROUNDS) & !7;
    Builder::new(ring.name())
        .ids(IDS as usize)
        .notifiers(NOTIFIERS)
        .listeners(2)
        .start_position(start)
        .create_detached()
        .expect("create the segment");
    let listeners: Vec<_> = ["park", "spin-then-park"]
        .iter()
        .map(|s| spawn("listener", ring.name(), s))
        .collect();
    for l in &listeners {
        l.expect("ready", Duration::from_secs(30));
    }
    // Every notifier attaches before any fires: each holds its own slot to the end.
    let mut notifiers: Vec<_> = (0..NOTIFIERS)
        .map(|i| spawn("notifier", ring.name(), &i.to_string()))
        .collect();
    for n in &notifiers {
        n.expect("ready", Duration::from_secs(30));
    }
    for n in &mut notifiers {
        n.tell("go");
    }
    for n in notifiers {
        n.expect("done", Duration::from_secs(120));
        n.wait_success(Duration::from_secs(30));
    }
    let total = ROUNDS * NOTIFIERS as u64 * u64::from(IDS);
    for l in listeners {
        let got = l.expect("got", Duration::from_secs(60));
        let mut it = got.split(' ').map(|w| w.parse::<u64>().expect("number"));
        assert_eq!(it.next(), Some(total));
        println!(
            "a listener counted {total} notifications in {:?} waits",
            it.next()
        );
        l.wait_success(Duration::from_secs(30));
    }
    let stats = Notifier::open(ring.name()).expect("open").stats();
    assert_eq!(stats.sent, total);
    assert_eq!(stats.received, 2 * total);
    assert_eq!(stats.epoch, start.wrapping_add(total));
    println!("{stats:?}");
}
