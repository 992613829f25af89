//! Integration tests of the blackboard: in one process, across real processes (readers
//! that must never see a torn value, several writers, waits for a change), and under
//! crashes (a writer killed in the middle of a write, or while readers wait).
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the board and an argument in environment
//! variables; the entry point does nothing in a normal run. Every test that can block runs
//! under a watchdog that kills the children, removes the boards and aborts after a limit,
//! so that a hang fails; boards are removed by guards, also when a test fails.

mod bad_input;
mod basic;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
#[cfg(feature = "crash-points")]
mod crash_points;
mod kills;
mod stamps;
#[cfg(feature = "tokio")]
mod tasks;
mod threads;
mod torn;
mod unwind;
mod waits;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        #[cfg(feature = "crash-points")]
        "crashing-writer" => crash_points::crashing_writer,
        "writer" => torn::writer,
        "reader" => torn::reader,
        "idle-writer" => kills::idle_writer,
        "waiter" => waits::waiter,
        other => panic!("unknown child role {other:?}"),
    });
}
