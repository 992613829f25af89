//! Integration tests of the MPMC work queue: in one process, across real processes, and
//! under crashes.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the queue and an argument in environment
//! variables; the entry point does nothing in a normal run. Every test that can block runs
//! under a watchdog that kills the children, removes the queues and aborts after a limit,
//! so that a hang fails; queues are removed by guards, also when a test fails.

mod basic;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod crash;
#[cfg(feature = "crash-points")]
mod crash_points;
mod hostile;
mod kills;
mod polling;
mod process;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        #[cfg(feature = "crash-points")]
        "crashing-producer" => crash_points::crashing_producer,
        #[cfg(feature = "crash-points")]
        "crashing-consumer" => crash_points::crashing_consumer,
        "producer" => process::producer,
        "consumer" => process::consumer,
        "claimer" => crash::claimer,
        "idle" => polling::idle,
        "kill-producer" => kills::victim_producer,
        "kill-consumer" => kills::victim_consumer,
        other => panic!("unknown child role {other:?}"),
    });
}
