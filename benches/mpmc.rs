//! Criterion benches of the MPMC queue (placeholder until the bench lands).
fn main() {}
