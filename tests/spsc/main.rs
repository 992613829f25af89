//! Integration tests of the SPSC ring: real processes, faults, bad input and edges.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the ring and an argument in environment variables;
//! the entry point does nothing in a normal run. Every test that can block runs under a
//! watchdog that kills the children, removes the rings and aborts after a limit, so that a
//! hang fails; rings are removed by guards, also when a test fails.

mod bad_input;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
#[cfg(feature = "crash-points")]
mod crash_points;
mod edges;
mod faults;
mod hostile;
mod kills;
mod process;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        #[cfg(feature = "crash-points")]
        "crashing-producer" => crash_points::crashing_producer,
        #[cfg(feature = "crash-points")]
        "crashing-consumer" => crash_points::crashing_consumer,
        "stream-producer" => process::stream_producer,
        "blocking-producer" => process::blocking_producer,
        "holding-producer" => faults::holding_producer,
        "erasing-producer" => faults::erasing_producer,
        "forking-producer" => faults::forking_producer,
        "polling-consumer" => faults::polling_consumer,
        "stream-consumer" => faults::stream_consumer,
        "idle-consumer" => faults::idle_consumer,
        "holding-consumer" => faults::holding_consumer,
        "hostile-pair" => hostile::hostile_pair,
        "foreign-opener" => hostile::foreign_opener,
        "kill-producer" => kills::victim_producer,
        "kill-consumer" => kills::victim_consumer,
        other => panic!("unknown child role {other:?}"),
    });
}
