//! Event segments from C, in real processes: the C program of statuses and bad input of
//! events (with a forked notifier killed by SIGKILL), a C notifier to a Rust listener that
//! acknowledges every round through a segment of its own (every count checked on both
//! sides), and examples/events.c.

use super::{leftovers, programs, run_checks, text, Rings, Running, MESSAGE_TIMEOUT};
use ipcring::event::{Builder, Listener, Party};
use ipcring::{OpenError, RecvError};
use std::process::{Child, Command};
use std::time::Instant;

/// Rounds of the interop test: each a few notifications of the C side, counted by the
/// Rust side, and an acknowledgement.
const ROUNDS: u64 = 3_000;
/// `IDS` of tests/c/event_peer.c: the last id ends a round.
const IDS: usize = 16;

#[test]
fn event_input_from_c_gets_status_codes() {
    run_checks(&programs().event_input, "event");
}

/// Opens as a listener the segment `name` that another process is creating.
fn open_when_made(name: &str) -> Listener {
    let deadline = Instant::now() + MESSAGE_TIMEOUT;
    loop {
        match Builder::new(name).open_listener() {
            Ok(l) => return l,
            Err(OpenError::NotFound { .. } | OpenError::StillInitializing { .. })
                if Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) => panic!("open the C notifier's segment: {e}"),
        }
    }
}

#[test]
fn c_notifier_to_rust_listener_every_count_checked() {
    let rings = Rings::new("event");
    let (name, acks) = (rings.name("events"), rings.name("acks"));
    let mut ack_tx = Builder::new(&acks)
        .ids(1)
        .notifiers(1)
        .listeners(1)
        .create_notifier()
        .expect("create the acknowledgement segment");
    let peer = Running::spawn(
        Command::new(&programs().event_peer).args([&name, &acks, &ROUNDS.to_string()]),
        "C notifier",
    );
    let mut rx = open_when_made(&name);
    assert_eq!(rx.ids(), IDS);
    // Acknowledgement 0: attached, the C side may fire.
    ack_tx.notify(0).expect("acknowledge");
    for i in 0..ROUNDS {
        // A round may come in several reports: add them up until its last id. A wait may
        // see the last id before the notifications just before it (it scans the ids in
        // order while they fire); those are visible once the last id is seen, so one
        // more look finds them, and nothing of the next round (which waits for the
        // acknowledgement).
        let mut got = [0u64; IDS];
        let mut add = |fired: &ipcring::event::Fired| {
            assert!(fired.departures().is_empty(), "round {i}: {fired:?}");
            for (id, n) in fired.iter() {
                got[id as usize] += n;
            }
            got[IDS - 1] > 0
        };
        loop {
            let fired = rx
                .wait_timeout(MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("round {i}: {e}"));
            if add(fired) {
                break;
            }
        }
        match rx.try_wait() {
            Ok(fired) => {
                add(fired);
            }
            Err(RecvError::Empty) => {}
            Err(e) => panic!("round {i}: {e}"),
        }
        let mut want = [0u64; IDS];
        want[(i % (IDS as u64 - 1)) as usize] = i % 3 + 1;
        want[IDS - 1] = 1;
        assert_eq!(got, want, "round {i}");
        ack_tx.notify(0).expect("acknowledge");
    }
    // The C notifier closes: a departure, and nothing more fired.
    let fired = rx.wait_timeout(MESSAGE_TIMEOUT).expect("the departure");
    assert_eq!(fired.iter().count(), 0, "{fired:?}");
    let left: Vec<_> = fired
        .departures()
        .iter()
        .map(|d| (d.role, d.slot))
        .collect();
    assert_eq!(left, [(Party::Notifier, 0)]);
    let out = peer.finish();
    assert!(out.status.success(), "C notifier failed:\n{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("event_peer: {ROUNDS} rounds, 0 bad")),
        "{}",
        text(&out)
    );
    drop((rx, ack_tx));
    // The C side removed its segment; the acknowledgements are ours.
    ipcring::unlink(&acks).expect("remove the acknowledgement segment");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn c_events_example_sees_every_worker_leave() {
    let events = Running::spawn(
        Command::new(&programs().events).args(["4", "50"]),
        "C events example",
    );
    // events names its segments after its process id.
    let pid = events.child.as_ref().map_or(0, Child::id);
    let rings = Rings::with_prefix(format!("events-c-{pid}"));
    let out = events.finish();
    assert!(out.status.success(), "events failed:\n{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
    let said = String::from_utf8_lossy(&out.stdout);
    for line in [
        "events: worker 3 left without finishing",
        "events: 3 of 4 workers finished, 4 left, 175 jobs done",
        "events: ok",
    ] {
        assert!(said.contains(line), "no {line:?} in:\n{}", text(&out));
    }
}
