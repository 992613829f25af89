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
    let Ok(role) = std::env::var(common::ROLE_VAR) else {
        return;
    };
    let _watchdog = common::child_setup();
    let ring = std::env::var(common::RING_VAR).expect("ring name");
    let arg = std::env::var(common::ARG_VAR).unwrap_or_default();
    let play: fn(&str, &str) = match role.as_str() {
        "paced-producer" => cancel::paced_producer,
        "checking-consumer" => cancel::checking_consumer,
        "subscriber" => streams::subscriber,
        "forker" => fork::forker,
        "event-notifier" => events::event_notifier,
        other => panic!("unknown child role {other:?}"),
    };
    play(&ring, &arg);
}
