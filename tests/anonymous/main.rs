//! Integration tests of anonymous rings (`RingFd`, `Builder::fd`): every kind in a memfd,
//! handed to other processes by inheritance and over unix sockets; the seals that keep a
//! peer from truncating it; what a receiver refuses; huge pages.
//!
//! Multi-process tests run this test binary again as a child (see `common`), under a
//! watchdog; the ring's "name" passed to a child is the path of a unix socket to take the
//! descriptor from, or the number of an inherited descriptor.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod huge;
mod passing;
mod refused;
mod seals;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        "every-kind" => passing::every_kind,
        "inherited-producer" => passing::inherited_producer,
        "truncator" => seals::truncator,
        other => panic!("unknown child role {other:?}"),
    });
}
