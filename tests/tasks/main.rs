//! Async receives and sends (feature `tokio`) across real processes: 100 000 messages
//! each way with futures cancelled at random mid-wait, every message received once and
//! in order; streams, sinks, and many tasks on one helper thread; event listeners that
//! await notifications.
//!
//! Multi-process tests run this test binary again as a child (`--exact
//! child_process_entry`) with the role, the ring and an argument in environment variables;
//! the entry point does nothing in a normal run. Every test runs under a watchdog, and its
//! objects in `/dev/shm` are removed by guards, also when it fails.

mod cancel;
#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod events;
mod fork;
mod streams;

#[test]
fn child_process_entry() {
    common::play_child(|role| match role {
        "paced-producer" => cancel::paced_producer,
        "checking-consumer" => cancel::checking_consumer,
        "subscriber" => streams::subscriber,
        "forker" => fork::forker,
        "event-notifier" => events::event_notifier,
        other => panic!("unknown child role {other:?}"),
    });
}
