//! The blackboard's sequence lock and its waits: a writer sets an entry while readers read
//! it with every kind of read. A value's words all hold the number of the write that set
//! it, so a copy that mixes two writes (torn) is noticed; versions never go back; a reader
//! parked for a change is always woken.
#![cfg(ipcring_loom)]

use ipcring::blackboard::{GetError, HeapBoard, Reader};
use ipcring::WaitStrategy;
use ipcring_loom_tests::model;
use loom::thread;

/// Words of a value: three, so that a copy can tear between any two of them.
const WORDS: usize = 3;

/// Busy-spinning handles: a spin is a loom yield (see `spsc.rs`).
const SPIN: WaitStrategy = WaitStrategy::BusySpin;

/// The value that write `n` sets: `WORDS` words of `n`.
fn value(n: u64) -> Vec<u8> {
    (0..WORDS).flat_map(|_| n.to_ne_bytes()).collect()
}

/// Checks a value read at version `version`: whole (all its words equal), and the value of
/// that write (one writer: write `n` makes version `n`); returns its number.
fn check(buf: &[u8], version: u64) -> u64 {
    assert_eq!(buf.len(), 8 * WORDS, "length of version {version}");
    let words: Vec<u64> = buf
        .chunks(8)
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
        .collect();
    assert!(words.iter().all(|&w| w == words[0]), "torn: {words:?}");
    assert_eq!(words[0], version, "value of version {version}: {words:?}");
    words[0]
}

/// Reads entry 0 `reads` times (blocking reads if `block`, else non-blocking ones); each
/// value is whole and versions never go back. Returns the last version seen.
fn read_some(r: &mut Reader, reads: usize, block: bool) -> u64 {
    let mut buf = Vec::new();
    let mut last = 0;
    for _ in 0..reads {
        let got = if block {
            r.get_into(0, &mut buf)
        } else {
            r.try_get_into(0, &mut buf)
        };
        match got {
            Ok(v) => {
                check(&buf, v);
                assert!(v >= last, "version {v} after {last}");
                last = v;
            }
            Err(GetError::NotSet { .. }) => assert_eq!(last, 0, "unset after {last}"),
            Err(GetError::Busy { .. }) => assert!(!block, "a blocking read said Busy"),
            Err(e) => panic!("{e}"),
        }
    }
    last
}

/// The main thread sets the entry twice; another reads it twice with non-blocking reads,
/// which retry a copy that a write overlapped (or say `Busy`).
#[test]
fn a_non_blocking_read_never_returns_a_torn_value() {
    model(|| {
        let board = HeapBoard::new(1, 8 * WORDS, 1);
        let mut w = board.writer(SPIN).unwrap();
        let mut r = board.reader(SPIN).unwrap();
        let reader = thread::spawn(move || {
            read_some(&mut r, 2, false);
            r
        });
        for n in 1..=2 {
            assert_eq!(w.set(0, &value(n)), Ok(n));
        }
        let mut r = reader.join().unwrap();
        assert_eq!(read_some(&mut r, 1, false), 2);
    });
}

/// A reader with blocking reads (`get_into`, then `get::<T>`), which waits out a write in
/// progress parked (`WaitStrategy::Park`: the writer's wake-up must reach it), while the
/// main thread sets the entry twice.
#[test]
fn blocking_reads_never_see_a_torn_value_and_versions_never_go_back() {
    model(|| {
        let board = HeapBoard::new(1, 8 * WORDS, 1);
        let mut w = board.writer(SPIN).unwrap();
        let mut r = board.reader(WaitStrategy::Park).unwrap();
        let reader = thread::spawn(move || {
            let last = read_some(&mut r, 1, true);
            match r.get::<[u64; WORDS]>(0) {
                Ok((words, v)) => {
                    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
                    check(&bytes, v);
                    assert!(v >= last, "version {v} after {last}");
                }
                Err(GetError::NotSet { .. }) => assert_eq!(last, 0),
                Err(e) => panic!("{e}"),
            }
        });
        for n in 1..=2 {
            assert_eq!(w.set(0, &value(n)), Ok(n));
        }
        reader.join().unwrap();
    });
}

/// A reader parks (`WaitStrategy::Park`) until the entry changes; the writer sets it once
/// and stays attached until the reader is done, so only the set's wake-up can end the
/// wait (a lost one is a loom deadlock); the value read after the wake-up is the new one.
#[test]
fn a_parked_reader_is_woken_by_the_set() {
    model(|| {
        let board = HeapBoard::new(1, 8 * WORDS, 1);
        let mut w = board.writer(SPIN).unwrap();
        let mut r = board.reader(WaitStrategy::Park).unwrap();
        let writer = thread::spawn(move || {
            assert_eq!(w.set(0, &value(1)), Ok(1));
            w
        });
        assert_eq!(r.wait_changed(0, 0, None), Ok(1));
        let mut buf = Vec::new();
        assert_eq!(r.get_into(0, &mut buf), Ok(1));
        check(&buf, 1);
        drop(writer.join().unwrap());
    });
}

/// As above, through spin → yield → park, with a second set: the reader waits for a change
/// since version 1, whichever set it sees first.
#[test]
fn a_spinning_then_parked_reader_is_woken_by_a_later_set() {
    model(|| {
        let board = HeapBoard::new(1, 8 * WORDS, 1);
        let mut w = board.writer(SPIN).unwrap();
        let strategy = WaitStrategy::SpinThenPark {
            spins: 1,
            yields: 1,
        };
        let mut r = board.reader(strategy).unwrap();
        assert_eq!(w.set(0, &value(1)), Ok(1));
        let writer = thread::spawn(move || {
            assert_eq!(w.set(0, &value(2)), Ok(2));
            w
        });
        assert_eq!(r.wait_changed(0, 1, None), Ok(2));
        let mut buf = Vec::new();
        assert_eq!(r.try_get_into(0, &mut buf), Ok(2));
        check(&buf, 2);
        drop(writer.join().unwrap());
    });
}

/// A reader parks for a change that never comes; the writer leaves: its detach must wake
/// the reader, which then reports `NoWriter`.
#[test]
fn a_parked_reader_learns_that_the_writer_left() {
    model(|| {
        let board = HeapBoard::new(1, 8 * WORDS, 1);
        let mut w = board.writer(SPIN).unwrap();
        let mut r = board.reader(WaitStrategy::Park).unwrap();
        assert_eq!(w.set(0, &value(1)), Ok(1));
        let writer = thread::spawn(move || drop(w));
        assert_eq!(r.wait_changed(0, 1, None), Err(GetError::NoWriter));
        writer.join().unwrap();
    });
}
