//! Integration tests of file-backed rings (`Builder::at`): every kind at a path, the same
//! checks and errors as for a named ring, and messages that outlive every process killed
//! and restarted.
//!
//! Every test works in a directory of its own under the system's temporary directory,
//! removed at the end; multi-process tests run this test binary again as a child (see
//! `common`) with the ring's path in place of its name, under a watchdog.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod errors;
mod huge;
mod kinds;
mod mounts;
mod restart;
mod survey;
mod sync;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        "spsc-producer" => restart::spsc_producer,
        "spsc-consumer" => restart::spsc_consumer,
        "mpmc-producer" => restart::mpmc_producer,
        "mpmc-consumer" => restart::mpmc_consumer,
        other => panic!("unknown child role {other:?}"),
    });
}
