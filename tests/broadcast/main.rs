//! Integration tests of broadcast topics: in one process, across real processes, and
//! under crashes.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the topic and an argument in environment
//! variables; the entry point does nothing in a normal run. Every test that can block runs
//! under a watchdog that kills the children, removes the topics and aborts after a limit,
//! so that a hang fails; topics are removed by guards, also when a test fails.

mod basic;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
#[cfg(feature = "crash-points")]
mod crash_points;
mod hostile;
mod kills;
mod modes;
mod polling;
mod process;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        #[cfg(feature = "crash-points")]
        "crashing-publisher" => crash_points::crashing_publisher,
        #[cfg(feature = "crash-points")]
        "crashing-subscriber" => crash_points::crashing_subscriber,
        "publisher" => process::publisher,
        "subscriber" => process::subscriber,
        "slow-subscriber" => process::slow_subscriber,
        "stuck-subscriber" => process::stuck_subscriber,
        "holder" => process::holder,
        "idle" => polling::idle,
        "kill-publisher" => kills::victim_publisher,
        "kill-subscriber" => kills::victim_subscriber,
        #[cfg(feature = "crash-points")]
        "crasher" => process::crasher,
        other => panic!("unknown child role {other:?}"),
    });
}
