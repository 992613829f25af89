//! A writer process killed with `SIGKILL` (no crash point: between two writes, or idle):
//! readers that wait for a change learn that no writer is left, the values it set stay,
//! and a new writer takes its slot.

use crate::common::{say, spawn, watchdog, RingGuard};
use ipcring::blackboard::{Builder, GetError, Reader, Writer};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const SAID: Duration = Duration::from_secs(30);
/// Far longer than a reader takes to notice (a park slice and a look at the slots).
const NOTICE: Duration = Duration::from_secs(10);

/// Child: opens a writer, sets entry 0 to `v1` (and, with argument `both`, entry 1), says
/// `attached`, and waits to be killed.
pub fn idle_writer(ring: &str, arg: &str) {
    let mut w = Writer::open(ring).expect("open a writer");
    w.set(0, b"v1").expect("set");
    if arg == "both" {
        w.set(1, b"v1").expect("set");
    }
    say("attached", "");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn readers_waiting_for_a_change_learn_that_the_killed_writer_is_gone() {
    let _w = watchdog("board writer killed", LIMIT);
    let ring = RingGuard::new("bb-kill-wait");
    Builder::new(ring.name())
        .entries(2, 8)
        .create_detached()
        .expect("create");
    let mut child = spawn("idle-writer", ring.name(), "both");
    child.expect("attached", SAID);
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let name = ring.name().to_owned();
            std::thread::spawn(move || {
                let mut r = Reader::open(&name).expect("open");
                r.wait_changed(i % 2, 1, None)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        waiters.iter().all(|w| !w.is_finished()),
        "a wait ended early"
    );
    let killed = child.kill9();
    for w in waiters {
        assert_eq!(w.join().expect("waiter"), Err(GetError::NoWriter));
    }
    assert!(killed.elapsed() < NOTICE, "took {:?}", killed.elapsed());
    // The values stay; a new writer takes the slot and the versions go on.
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(r.get::<[u8; 2]>(0), Ok((*b"v1", 1)));
    let mut w = Writer::open(ring.name()).expect("the slot is free");
    assert_eq!(w.set(0, b"v2"), Ok(2));
    assert_eq!(r.wait_changed(0, 1, None), Ok(2));
}
