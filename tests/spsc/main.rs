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
    let Ok(role) = std::env::var(common::ROLE_VAR) else {
        return;
    };
    let _watchdog = common::child_setup();
    if std::env::var_os(common::NO_MEMBARRIER_VAR).is_some() {
        common::forbid_membarrier();
    }
    let ring = std::env::var(common::RING_VAR).expect("ring name");
    let arg = std::env::var(common::ARG_VAR).unwrap_or_default();
    let play: fn(&str, &str) = match role.as_str() {
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
    };
    play(&ring, &arg);
}
