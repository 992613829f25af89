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
    common::play_child(|role| match role {
        "feeder" => many::feeder,
        "idle" => edges::idle,
        "kind-feeder" => kinds::kind_feeder,
        "slow-reader" => kinds::slow_reader,
        other => panic!("unknown child role {other:?}"),
    });
}
