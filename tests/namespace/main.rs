//! The namespace of rings in `/dev/shm`: what opening trusts (file type, owner, mode),
//! modes that the umask does not change, and removals that never take somebody else's
//! ring (an unlink after the name was made again, the leftover of a creator that died).
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the ring and an argument in environment variables;
//! the entry point does nothing in a normal run. Every test runs under a watchdog, and its
//! objects in `/dev/shm` are removed by guards, also when it fails.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod removal;
mod survey;
mod trust;
mod umask;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        "squatter" => trust::squatter,
        "holder" => survey::holder,
        "umask-creator" => umask::umask_creator,
        #[cfg(feature = "crash-points")]
        "dying-creator" => umask::dying_creator,
        other => panic!("unknown child role {other:?}"),
    });
}
