//! Role release, takeover and the disconnect paths.
#![cfg(ipcring_loom)]

use ipcring::spsc::{heap_pair, HeapRing, Producer};
use ipcring::{OpenError, RecvError, SendError, WaitStrategy};
use ipcring_loom_tests::{message, model, CAPACITY, START};
use loom::thread;

const PARK: WaitStrategy = WaitStrategy::Park;

/// Messages of the producer in the disconnect models: one before the wrap, one after the
/// padding record.
const LAST_WORDS: [usize; 2] = [3, 16];

/// A producer that sends [`LAST_WORDS`] and leaves.
fn send_last_words(mut tx: Producer) {
    for (seq, len) in LAST_WORDS.into_iter().enumerate() {
        tx.send(&message(seq, len)).unwrap();
    }
}

/// Receives with `recv` until it fails; returns the messages and the error.
fn drain(
    mut recv: impl FnMut(&mut Vec<u8>) -> Result<usize, RecvError>,
) -> (Vec<Vec<u8>>, RecvError) {
    let mut got = Vec::new();
    let mut buf = Vec::new();
    loop {
        match recv(&mut buf) {
            Ok(_) => got.push(buf.clone()),
            Err(e) => return (got, e),
        }
    }
}

fn last_words() -> Vec<Vec<u8>> {
    LAST_WORDS
        .into_iter()
        .enumerate()
        .map(|(seq, len)| message(seq, len))
        .collect()
}

/// A polling consumer receives every committed message, then `Disconnected`: seeing the
/// producer gone never hides a message it committed before leaving.
#[test]
fn polling_consumer_drains_then_sees_the_producer_gone() {
    model(|| {
        let (tx, mut rx) = heap_pair(CAPACITY, PARK, START);
        let producer = thread::spawn(move || send_last_words(tx));
        let (got, end) = drain(|buf| loop {
            match rx.try_recv_into(buf) {
                Err(RecvError::Empty) => thread::yield_now(),
                other => return other,
            }
        });
        assert_eq!((got, end), (last_words(), RecvError::Disconnected));
        producer.join().unwrap();
    });
}

/// A consumer parked on the empty ring is woken when the producer leaves, and also
/// receives everything first.
#[test]
fn parked_consumer_drains_then_sees_the_producer_gone() {
    model(|| {
        let (tx, mut rx) = heap_pair(CAPACITY, PARK, START);
        let producer = thread::spawn(move || send_last_words(tx));
        let (got, end) = drain(|buf| rx.recv_into(buf));
        assert_eq!((got, end), (last_words(), RecvError::Disconnected));
        producer.join().unwrap();
    });
}

/// A consumer that takes one message and leaves frees its room; the producer fills it,
/// then its blocked send returns `Disconnected` instead of waiting for ever.
#[test]
fn blocked_send_returns_disconnected_once_the_consumer_is_gone() {
    model(|| {
        let (mut tx, mut rx) = heap_pair(CAPACITY, PARK, START);
        let consumer = thread::spawn(move || {
            let mut buf = Vec::new();
            assert_eq!(rx.recv_into(&mut buf), Ok(16));
            assert_eq!(buf, message(0, 16));
        });
        // Two 16-byte messages fill the ring; the one the consumer took makes room for one
        // more.
        for seq in 0..3 {
            tx.send(&message(seq, 16)).unwrap();
        }
        assert_eq!(tx.send(&message(3, 16)), Err(SendError::Disconnected));
        consumer.join().unwrap();
    });
}

/// A second producer waits for the first one's role and continues after its last record;
/// a second consumer resumes after the first one's last released record. Nothing is lost
/// or repeated.
#[test]
fn new_handles_continue_where_the_old_ones_stopped() {
    model(|| {
        let ring = HeapRing::new(CAPACITY, START);
        let mut tx = ring.producer(PARK).unwrap();
        let mut rx = ring.consumer(PARK).unwrap();
        let first = thread::spawn(move || {
            tx.send(&message(0, 16)).unwrap();
            tx.send(&message(1, 5)).unwrap();
        });
        let second = {
            let ring = ring.clone();
            thread::spawn(move || {
                let mut tx = loop {
                    match ring.producer(PARK) {
                        Ok(tx) => break tx,
                        Err(OpenError::RoleTaken { .. }) => thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                };
                tx.send(&message(2, 9)).unwrap();
            })
        };
        let mut buf = Vec::new();
        assert_eq!(rx.recv_into(&mut buf), Ok(16));
        assert_eq!(buf, message(0, 16));
        assert!(matches!(
            ring.consumer(PARK),
            Err(OpenError::RoleTaken { .. })
        ));
        drop(rx);
        let mut rx = ring.consumer(PARK).unwrap();
        // Between the two producers the ring may look abandoned: wait for the second one.
        for (seq, len) in [(1, 5), (2, 9)] {
            let n = loop {
                match rx.recv_into(&mut buf) {
                    Err(RecvError::Disconnected) => thread::yield_now(),
                    other => break other,
                }
            };
            assert_eq!(n, Ok(len));
            assert_eq!(buf, message(seq, len));
        }
        first.join().unwrap();
        second.join().unwrap();
    });
}
