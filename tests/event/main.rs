//! Integration tests of event segments: in one process, across real processes, under
//! crashes and scribblers, and in a `WaitSet`.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the segment and an argument in environment
//! variables; the entry point does nothing in a normal run. Every test that can block runs
//! under a watchdog that kills the children, removes the segments and aborts after a
//! limit, so that a hang fails; segments are removed by guards, also when a test fails.

mod basic;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod departures;
mod hostile;
mod process;
mod sets;
mod threads;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        "notifier" => process::notifier,
        "listener" => process::listener,
        "fire-and-stay" => departures::fire_and_stay,
        "fire-and-drop" => departures::fire_and_drop,
        other => panic!("unknown child role {other:?}"),
    });
}
