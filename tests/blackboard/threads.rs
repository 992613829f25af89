//! A board on the heap shared by threads of one process (what ThreadSanitizer can watch):
//! two writers set every entry with self-checking values while three readers read them.

use crate::common::watchdog;
use ipcring::blackboard::{GetError, HeapBoard};
use ipcring::WaitStrategy;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ENTRIES: usize = 4;
const SETS: u64 = 20_000;

/// The value of set `n` by writer `w`: one to eight words, each `w << 56 | n`.
fn value(w: u64, n: u64) -> Vec<u8> {
    let word = (w << 56 | n).to_le_bytes();
    word.repeat(1 + (n % 8) as usize)
}

/// Panics unless `got` is a whole value of [`value`]'s form.
fn check(got: &[u8]) {
    assert!(!got.is_empty() && got.len() % 8 == 0, "{} bytes", got.len());
    let first = &got[..8];
    let n = u64::from_le_bytes(first.try_into().unwrap()) & ((1 << 56) - 1);
    assert_eq!(got.len(), 8 * (1 + (n % 8) as usize), "length of set {n}");
    assert!(got.chunks(8).all(|w| w == first), "torn value: {got:?}");
}

#[test]
fn on_threads_two_writers_and_three_readers_never_tear_a_value() {
    let _w = watchdog("board on threads", Duration::from_secs(120));
    let board = HeapBoard::new(ENTRIES, 64, 2);
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let mut writer = board.writer(WaitStrategy::default()).expect("a writer");
            std::thread::spawn(move || {
                for n in 0..SETS {
                    writer
                        .set((n as usize) % ENTRIES, &value(w, n))
                        .expect("set");
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let mut r = board.reader(WaitStrategy::default()).expect("a reader");
            let done = done.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut last = [0u64; ENTRIES];
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    for (key, last) in last.iter_mut().enumerate() {
                        let got = if i == 0 {
                            r.try_get_into(key, &mut buf)
                        } else {
                            r.get_into(key, &mut buf)
                        };
                        match got {
                            Ok(v) => {
                                check(&buf);
                                assert!(v >= *last, "entry {key}: version {v} after {last}");
                                *last = v;
                                reads += 1;
                            }
                            Err(GetError::NotSet { .. } | GetError::Busy { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
                reads
            })
        })
        .collect();
    for w in writers {
        w.join().expect("a writer");
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("a reader") > 0);
    }
    let r = board.reader(WaitStrategy::default()).expect("a reader");
    let total: u64 = (0..ENTRIES).map(|k| r.version(k).expect("a version")).sum();
    assert_eq!(total, 2 * SETS, "every set counted once");
}
