//! `WaitSet`: one thread waiting on many rings of every kind at once, fed by real
//! processes; deadlines; peers that die or leave while the set sleeps.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the ring and an argument in environment variables;
//! the entry point does nothing in a normal run. Every test runs under a watchdog, and its
//! objects in `/dev/shm` are removed by guards, also when it fails.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod edges;
// The descriptor and its helper thread are not in loom builds.
#[cfg(not(ipcring_loom))]
mod fd;
mod kinds;
mod many;

#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var(common::ROLE_VAR) else {
        return;
    };
    let _watchdog = common::child_setup();
    let ring = std::env::var(common::RING_VAR).expect("ring name");
    let arg = std::env::var(common::ARG_VAR).unwrap_or_default();
    let play: fn(&str, &str) = match role.as_str() {
        "feeder" => many::feeder,
        "idle" => edges::idle,
        "kind-feeder" => kinds::kind_feeder,
        "slow-reader" => kinds::slow_reader,
        other => panic!("unknown child role {other:?}"),
    };
    play(&ring, &arg);
}
