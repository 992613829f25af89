//! loom models of ipcring (see README.md): helpers shared by the models in `tests/`.
//!
//! Everything here, and every model, exists only under `--cfg ipcring_loom`; without it
//! the crate is empty, so `cargo test --workspace` does not pay for loom.
#![cfg(ipcring_loom)]
#![deny(unsafe_code, missing_docs, missing_debug_implementations)]

/// Data area of the modelled rings: the smallest one (messages up to 16 bytes), so that a
/// handful of messages wraps it and needs padding records.
pub const CAPACITY: usize = ipcring::spsc::MIN_CAPACITY;

/// First position of the modelled rings: 32 bytes before both the end of the data area
/// and the end of the `u64` range, so that every model crosses both.
pub const START: u64 = u64::MAX - 31;

/// Preemption bound when `LOOM_MAX_PREEMPTIONS` is not set: what CI runs.
const DEFAULT_PREEMPTIONS: usize = 2;

/// Message number `seq` (below 8) of `len` bytes (up to 32): no two messages of a model
/// have the same bytes, so a reordered, repeated or torn message is noticed.
pub fn message(seq: usize, len: usize) -> Vec<u8> {
    assert!(seq < 8 && len <= 32);
    (0..len).map(|i| (seq << 5 | i) as u8).collect()
}

/// Runs `f` under every interleaving loom explores.
///
/// The loom environment variables apply (`LOOM_MAX_PREEMPTIONS`, `LOOM_LOG`,
/// `LOOM_LOCATION`, `LOOM_CHECKPOINT_FILE`, ...); without `LOOM_MAX_PREEMPTIONS` the bound
/// is 2, not unbounded, so that a bare `cargo test` finishes.
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_some() {
        // `loom::model` also installs the LOOM_LOG subscriber.
        loom::model(f);
    } else {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(DEFAULT_PREEMPTIONS);
        builder.check(f);
    }
}

/// Receives from an MPMC queue with blocking calls until `Disconnected`.
pub fn drain(rx: &mut ipcring::mpmc::Consumer) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => got.push(buf.clone()),
            Err(ipcring::RecvError::Disconnected) => return got,
            Err(e) => panic!("{e}"),
        }
    }
}
