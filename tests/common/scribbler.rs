//! A writer that scribbles over a live ring's segment while the handles of a test work on
//! it: the bytes that do damage, and the outcomes of the handles' calls.

use super::{RingGuard, Tally, XorShift};
use std::fmt::Debug;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Outcomes of calls, by variant name, from every thread.
pub type Counts = Arc<Mutex<Tally>>;

pub fn count<T, E: Debug>(counts: &Counts, r: &Result<T, E>) {
    counts.lock().unwrap().add(r);
}

/// Bytes that do damage: random, zeros, ones, a plausible cell state word (a lap near the
/// ring's, any tag, any length) or a length up to twice `slot`.
fn scribble(rng: &mut XorShift, slot: usize) -> Vec<u8> {
    match rng.below(5) {
        0 => (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect(),
        1 => vec![0; 8],
        2 => vec![0xff; 8],
        3 => {
            let lap = rng.below(64);
            let tag = rng.below(8);
            let len = rng.below(1 << 29);
            (lap << 32 | tag << 29 | len).to_le_bytes().to_vec()
        }
        _ => rng.below(2 * slot as u64).to_le_bytes().to_vec(),
    }
}

/// Scribbles over the bytes `range` of `ring`'s segment (a range of the segment: its
/// whole size if it reaches past it) until `until`, then joins `threads` (which must end
/// by then: a panic in one fails the test). Returns the number of writes.
pub fn scribble_over(
    ring: &RingGuard,
    range: Range<u64>,
    slot: usize,
    until: Instant,
    threads: Vec<JoinHandle<()>>,
) -> u64 {
    let size = ring.path().metadata().expect("stat").len();
    let range = range.start..range.end.min(size);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    let mut rng = XorShift::new(99);
    let mut writes = 0u64;
    while Instant::now() < until {
        let bytes = scribble(&mut rng, slot);
        let off = range.start + rng.below(range.end - range.start);
        let off = if bytes.len() == 8 { off & !7 } else { off };
        let end = (off + bytes.len() as u64).min(size);
        file.write_all_at(&bytes[..(end - off) as usize], off)
            .expect("scribble");
        writes += 1;
        std::thread::sleep(Duration::from_micros(100));
    }
    for t in threads {
        t.join().expect("no panic in a handle under fire");
    }
    writes
}

/// The body of a test that handles of a kind of cells (MPMC, broadcast) that found a cell
/// corrupted say so on every later call, even once the cell was put right. `tx` and `rx`
/// are a producer and a consumer of a 4-cell ring `ring` of 8-byte slots, whose first
/// cell's state word is at `cell`.
#[allow(unused_macros)]
macro_rules! corrupted_stays {
    ($ring:expr, $tx:expr, $rx:expr, $cell:expr) => {{
        use crate::common::{segment_word, set_segment_word};
        use ipcring::{RecvError, SendError};
        let (ring, mut tx, mut rx, cell) = ($ring, $tx, $rx, $cell);
        tx.send(b"a").expect("send");
        let good = segment_word(ring, cell);
        set_segment_word(ring, cell, u64::MAX);
        let mut buf = Vec::new();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
        set_segment_word(ring, cell, good);
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Corrupted));
        assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
        // The producer meets the bad word a lap later, or (a lone broadcast publisher,
        // which claims without a look at the cell) the subscriber's verdict.
        for m in [b"b", b"c", b"d"] {
            tx.send(m).expect("send");
        }
        set_segment_word(ring, cell, u64::MAX);
        assert_eq!(tx.try_send(b"e"), Err(SendError::Corrupted));
        set_segment_word(ring, cell, good);
        assert_eq!(tx.try_send(b"e"), Err(SendError::Corrupted));
    }};
}
#[allow(unused_imports)]
pub(crate) use corrupted_stays;

/// What a grant's commit returns, as a `Result`: SPSC commits cannot fail.
pub trait Committed {
    fn committed(self) -> Result<(), ipcring::SendError>;
}

impl Committed for () {
    fn committed(self) -> Result<(), ipcring::SendError> {
        Ok(())
    }
}

impl Committed for Result<(), ipcring::SendError> {
    fn committed(self) -> Result<(), ipcring::SendError> {
        self
    }
}

/// Producer threads and consumer threads of one ring work only through **blocking calls
/// without a deadline** (`send`, `reserve` + commit, `recv_into`, `read`) while a writer
/// scribbles over the bytes `$range` of the segment for `$scribble`; a handle that gets an
/// error is dropped and opened anew. Each producer makes `$ops` calls and leaves; the
/// consumers leave once every producer has left and they see `Disconnected`. Nothing may
/// crash, panic or hang: every call must come back (the caller's watchdog turns a hang
/// into a failure). `$open_tx` / `$open_rx` open a handle of each side by name.
#[allow(unused_macros)]
macro_rules! blocking_calls_under_fire {
    ($ring:expr, $range:expr, $slot:expr, $scribble:expr, $ops:expr, $open_tx:expr, $open_rx:expr) => {{
        use crate::common::scribbler::{count, scribble_over, Counts};
        use crate::common::{message, XorShift};
        use ipcring::RecvError;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::time::{Duration, Instant};
        const SIDES: u64 = 2;
        let ring: &crate::common::RingGuard = $ring;
        let slot: usize = $slot;
        let ops: u64 = $ops;
        let tally: Counts = Arc::default();
        let producing = Arc::new(AtomicUsize::new(SIDES as usize));
        let mut threads = Vec::new();
        for i in 0..SIDES {
            let (name, tally, producing) =
                (ring.name().to_owned(), tally.clone(), producing.clone());
            threads.push(std::thread::spawn(move || {
                let mut rng = XorShift::new(31 + i);
                let mut tx = None;
                let mut made = 0;
                while made < ops {
                    let Some(p) = tx.as_mut() else {
                        let r = $open_tx(&name);
                        count(&tally, &r);
                        if r.is_err() {
                            made += 1; // an unopenable segment ends the run too
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        tx = r.ok();
                        continue;
                    };
                    let len = rng.below(slot as u64 + 1) as usize;
                    let msg = message(rng.next(), len);
                    let r = if rng.below(2) == 0 {
                        p.send(&msg)
                    } else {
                        p.reserve(len).and_then(|mut g| {
                            g.copy_from_slice(&msg);
                            crate::common::scribbler::Committed::committed(g.commit(len))
                        })
                    };
                    count(&tally, &r);
                    made += 1;
                    if r.is_err() {
                        tx = None;
                    }
                }
                producing.fetch_sub(1, Ordering::Release);
            }));
        }
        for i in 0..SIDES {
            let (name, tally, producing) =
                (ring.name().to_owned(), tally.clone(), producing.clone());
            threads.push(std::thread::spawn(move || {
                let mut rng = XorShift::new(57 + i);
                let mut rx = None;
                let mut buf = Vec::new();
                loop {
                    let Some(c) = rx.as_mut() else {
                        if producing.load(Ordering::Acquire) == 0 {
                            break;
                        }
                        let r = $open_rx(&name);
                        count(&tally, &r);
                        if r.is_err() {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        rx = r.ok();
                        continue;
                    };
                    let r = if rng.below(2) == 0 {
                        c.recv_into(&mut buf)
                    } else {
                        c.read().map(|g| g.len())
                    };
                    count(&tally, &r);
                    match r {
                        Ok(_) => {}
                        Err(RecvError::Disconnected) if producing.load(Ordering::Acquire) == 0 => {
                            break
                        }
                        Err(RecvError::Disconnected) => {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        Err(_) => {
                            // Leaves long enough for a producer that waits for room behind
                            // this consumer to see it gone: a consumer that came back at
                            // once to a ring it cannot read would hold such a producer,
                            // as any attached consumer that does not read does.
                            rx = None;
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                }
            }));
        }
        let started = Instant::now();
        let writes = scribble_over(ring, $range, slot, started + $scribble, threads);
        println!(
            "{writes} scribbles, then {:?} in all; {:?}",
            started.elapsed(),
            tally.lock().unwrap().0
        );
    }};
}
#[allow(unused_imports)]
pub(crate) use blocking_calls_under_fire;

/// The body of a test that the verdict of a handle that found a ring of cells corrupted
/// is the ring's: a producer that waits for room is told (`Corrupted`), and no handle opens
/// the ring again. `tx` and `rx` are a producer and a consumer of a 4-cell ring `ring`,
/// whose first cell's state word is at `cell`; `open_rx` opens a consumer by name.
#[allow(unused_macros)]
macro_rules! verdict_is_shared {
    ($ring:expr, $tx:expr, $rx:expr, $cell:expr, $open_rx:expr) => {{
        use crate::common::{segment_word, set_segment_word};
        use ipcring::{OpenError, RecvError, SendError};
        let (ring, mut tx, mut rx, cell) = ($ring, $tx, $rx, $cell);
        tx.send(b"a").expect("send");
        let good = segment_word(ring, cell);
        set_segment_word(ring, cell, u64::MAX);
        let mut buf = Vec::new();
        assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Corrupted));
        set_segment_word(ring, cell, good);
        // The producer fills the room it has (its fast path reads nothing of the verdict),
        // then waits for room that this consumer will never make, and is told.
        let producer = std::thread::spawn(move || loop {
            if let Err(e) = tx.send(b"b") {
                return e;
            }
        });
        assert_eq!(producer.join().expect("producer"), SendError::Corrupted);
        assert!(matches!($open_rx(ring.name()), Err(OpenError::Broken)));
        drop(rx);
    }};
}
#[allow(unused_imports)]
pub(crate) use verdict_is_shared;
