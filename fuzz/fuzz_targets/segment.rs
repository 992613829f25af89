//! Segment validation: the input is the whole content of a segment, put at a name of its
//! own with the mode of a published ring (0600). A survey reads it from outside (as
//! `ipcring inspect` does), every kind opens it in both roles, a handle that opens runs the
//! non-blocking and short-deadline calls of its kind, a second receiver attaches over what
//! the first left, a blackboard reader and writer read and set its entries, an event
//! listener and notifier fire and wait, a survey reads what they left, and the file is
//! removed.
//!
//! Nothing may panic, touch memory out of bounds (AddressSanitizer), or return later than
//! its deadline plus `SLACK`; every error is fine.
//!
//! Seeds: at start-up, valid segments of every kind made by this build are written into
//! the corpus directory (the first argument that is not an option), so that the fuzzer
//! starts past the identity checks.

#![no_main]

use ipcring::blackboard::{GetError, Reader, Writer};
use ipcring::event::{Listener, Notifier};
use ipcring::{broadcast, mpmc, spsc};
use ipcring_fuzz::handles::{Receiver, Sender};
use ipcring_fuzz::shm::SegmentFile;
use ipcring_fuzz::{seeds, timed, unique_name, MAX_WAIT};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::time::Duration;

/// How long a blocking board call may wait for a write in progress (`Busy` after it).
const WRITE_WAIT: Duration = Duration::from_secs(1);

fuzz_target!(
    init: {
        let corpus = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        if let Some(dir) = corpus.as_deref().map(Path::new).filter(|d| d.is_dir()) {
            seeds::write_into(dir).expect("write the seed segments");
        }
    },
    |bytes: &[u8]| {
        let seg = SegmentFile::new(unique_name("segment"), bytes).expect("make the segment file");
        let _ = ipcring::survey::inspect(seg.name());
        open_both::<spsc::Producer, spsc::Consumer>(seg.name());
        open_both::<mpmc::Producer, mpmc::Consumer>(seg.name());
        open_both::<broadcast::Publisher, broadcast::Subscriber>(seg.name());
        board(seg.name());
        events(seg.name());
        let _ = ipcring::survey::inspect(seg.name());
    }
);

/// Opens ring `name` as a sender and a receiver of one kind, and runs what opened.
fn open_both<S: Sender, R: Receiver>(name: &str) {
    let mut tx = S::open(name).ok();
    let mut rx = R::open(name, false).ok();
    if let Some(tx) = &mut tx {
        send(tx);
    }
    if let Some(rx) = &mut rx {
        receive(rx);
    }
    // A receiver that attaches over what the first one left, from the oldest message
    // where the kind has that choice.
    drop(rx);
    if let Ok(mut rx) = R::open(name, true) {
        receive(&mut rx);
    }
}

fn send<S: Sender>(tx: &mut S) {
    let max = tx.max_message();
    let msg = vec![0x5a; max.min(24)];
    let _ = tx.try_send(&msg);
    let _ = tx.try_send_value(7);
    let _ = tx.try_reserve(&msg, 8, Some(msg.len() / 2));
    let _ = tx.try_reserve(&msg, 0, None);
    let _ = tx.try_send_batch(&[msg.clone(), Vec::new()]);
    let _ = tx.send_timeout(&msg, MAX_WAIT);
    // One byte too many.
    let _ = tx.try_send(&vec![0; max + 1]);
}

fn receive<R: Receiver>(rx: &mut R) {
    let max = rx.max_message();
    let mut buf = Vec::new();
    let check = |n: Option<usize>| {
        if let Some(n) = n {
            assert!(
                n <= max,
                "received {n} bytes from a ring of messages up to {max}"
            );
        }
    };
    check(rx.try_recv_into(&mut buf).ok());
    check(rx.read(None, true).ok().map(|m| m.len()));
    check(rx.read(None, false).ok().map(|m| m.len()));
    check(rx.try_recv_value().ok().map(|_| 8));
    if let Some(Ok(batch)) = rx.try_read_batch(4) {
        batch.iter().for_each(|m| check(Some(m.len())));
    }
    check(rx.recv_timeout_into(&mut buf, MAX_WAIT).ok());
    check(rx.read(Some(MAX_WAIT), false).ok().map(|m| m.len()));
}

/// Opens board `name` as a reader and a writer, reads its first entries (no value longer
/// than its entry), sets them, and waits briefly for a change. The blocking reads, which
/// wait up to a second for a write in progress, run only on an entry that a non-blocking
/// read did not find busy.
fn board(name: &str) {
    let mut w = Writer::open(name).ok();
    let Ok(mut r) = Reader::open(name) else {
        return;
    };
    let mut buf = Vec::new();
    for key in 0..r.entries().min(4) + 1 {
        let max = r.max_size(key).unwrap_or(0);
        let got = timed("try_get_into", Duration::ZERO, || {
            r.try_get_into(key, &mut buf)
        });
        if got.is_ok() {
            assert!(
                buf.len() <= max,
                "a value of {} bytes in an entry of {max}",
                buf.len()
            );
        }
        let busy = got == Err(GetError::Busy { key });
        if !busy {
            let _ = timed("get::<u64>", WRITE_WAIT, || r.get::<u64>(key));
        }
        if let Some(w) = &mut w {
            let _ = timed("set", WRITE_WAIT, || w.set(key, &[0x5a; 9][..max.min(9)]));
            let _ = w.set(key, &vec![0; max + 1]);
        }
        let since = r.version(key).unwrap_or(0);
        let _ = timed("wait_changed", MAX_WAIT, || {
            r.wait_changed(key, since, Some(MAX_WAIT))
        });
        if !busy && timed("get_into", WRITE_WAIT, || r.get_into(key, &mut buf)).is_ok() {
            assert!(
                buf.len() <= max,
                "a value of {} bytes in an entry of {max}",
                buf.len()
            );
        }
    }
}

/// Opens event segment `name` as a listener and a notifier, fires a few ids (one past the
/// last too) and waits briefly: no report names an id the segment does not have.
fn events(name: &str) {
    let mut tx = Notifier::open(name).ok();
    let Ok(mut rx) = Listener::open(name) else {
        return;
    };
    let ids = rx.ids();
    if let Some(tx) = &mut tx {
        for id in [0, 1, ids as u32 - 1, ids as u32] {
            let _ = timed("notify", Duration::ZERO, || tx.notify(id));
        }
    }
    let check = |fired: &ipcring::event::Fired| {
        assert!(
            fired.iter().all(|(id, _)| (id as usize) < ids),
            "an id past {ids}"
        );
    };
    if let Ok(fired) = timed("try_wait", Duration::ZERO, || rx.try_wait()) {
        check(fired);
    }
    drop(tx);
    if let Ok(fired) = timed("wait_timeout", MAX_WAIT, || rx.wait_timeout(MAX_WAIT)) {
        check(fired);
    }
}
