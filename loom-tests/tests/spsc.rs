//! The SPSC data path: records of every shape through a ring that wraps, checked for
//! order, content and data races on the payload bytes.
#![cfg(ipcring_loom)]

use ipcring::spsc::heap_pair;
use ipcring::{RecvError, SendError, WaitStrategy};
use ipcring_loom_tests::{message, model, CAPACITY, START};
use loom::thread;

/// Busy-spinning handles: a spin is a loom yield, and the parking protocol stays out of
/// these models (see `wait.rs` for it).
const SPIN: WaitStrategy = WaitStrategy::BusySpin;

/// 5, 16, 0 and 11 bytes from 32 bytes before the wrap: the 16-byte message needs a
/// padding record and, while the first is unread, fills the ring exactly; the producer
/// then waits for room.
#[test]
fn messages_of_different_lengths_cross_the_wrap_in_order() {
    const LENS: [usize; 4] = [5, 16, 0, 11];
    model(|| {
        let (mut tx, mut rx) = heap_pair(CAPACITY, SPIN, START);
        let producer = thread::spawn(move || {
            for (seq, len) in LENS.into_iter().enumerate() {
                tx.send(&message(seq, len)).unwrap();
            }
        });
        let mut buf = Vec::new();
        for (seq, len) in LENS.into_iter().enumerate() {
            assert_eq!(rx.recv_into(&mut buf), Ok(len));
            assert_eq!(buf, message(seq, len));
        }
        producer.join().unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
    });
}

/// A grant committed shorter than reserved, an abandoned grant (its scribbles must stay
/// invisible), and a batch with one publication whose second message needs a padding
/// record; the consumer reads two of them in place.
#[test]
fn grants_batches_and_aborts_publish_exactly_the_committed_messages() {
    model(|| {
        let (mut tx, mut rx) = heap_pair(CAPACITY, SPIN, START);
        let producer = thread::spawn(move || {
            let mut g = tx.reserve(16).unwrap();
            g.write_at(0, &message(0, 7));
            g.commit(7);
            let mut g = tx.reserve(12).unwrap();
            g.copy_from_slice(&[0xee; 12]);
            drop(g);
            let batch = [message(1, 0), message(2, 16), message(3, 2)];
            let mut sent = 0;
            while sent < batch.len() {
                sent += tx
                    .try_send_batch(batch[sent..].iter().map(Vec::as_slice))
                    .unwrap();
                thread::yield_now();
            }
        });
        assert_eq!(*rx.read().unwrap(), message(0, 7));
        let mut buf = Vec::new();
        assert_eq!(rx.recv_into(&mut buf), Ok(0));
        assert_eq!(*rx.read().unwrap(), message(2, 16));
        assert_eq!(rx.recv_into(&mut buf), Ok(2));
        assert_eq!(buf, message(3, 2));
        producer.join().unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
    });
}

/// The records of `messages_of_different_lengths_cross_the_wrap_in_order` read in batches
/// of up to three: a batch goes on behind its first message as far as messages are
/// committed, across the padding record, and releases them all at its end, which is the
/// room the waiting producer needs.
#[test]
fn batch_reads_cross_the_wrap_and_free_their_room() {
    const LENS: [usize; 4] = [5, 16, 0, 11];
    model(|| {
        let (mut tx, mut rx) = heap_pair(CAPACITY, SPIN, START);
        let producer = thread::spawn(move || {
            for (seq, len) in LENS.into_iter().enumerate() {
                tx.send(&message(seq, len)).unwrap();
            }
        });
        let mut got = Vec::new();
        while got.len() < LENS.len() {
            let n = rx.read_batch(3, |m| got.push(m.to_vec())).unwrap();
            assert!((1..=3).contains(&n));
        }
        let want: Vec<Vec<u8>> = LENS
            .iter()
            .enumerate()
            .map(|(s, l)| message(s, *l))
            .collect();
        assert_eq!(got, want);
        producer.join().unwrap();
        assert_eq!(rx.try_read_batch(3, |_| {}), Err(RecvError::Disconnected));
    });
}

/// `Full` is exact. A ring of 256 bytes is filled to 8 bytes short of full: a 24-byte
/// message (a 32-byte record) first, then twelve 8-byte and one 16-byte messages, from a
/// position 8 bytes into the area and 248 before the end of the `u64` range. The consumer
/// reads the first message in place and the others by copy, and publishes its position
/// only every 64 bytes; the producer retries `try_send` of one more 24-byte message. It
/// fits once the first message is released, which is known only from the consumer's
/// released position, and its bytes go over the first message's: the write must come
/// after the consumer's read of them, with no other synchronisation in between.
#[test]
fn a_try_send_takes_the_room_the_consumer_released_and_not_more() {
    const LENS: [usize; 15] = [24, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 16, 24];
    model(|| {
        let (mut tx, mut rx) = heap_pair(256, SPIN, u64::MAX - 247);
        for (seq, len) in LENS[..14].iter().enumerate() {
            tx.try_send(&numbered(seq, *len)).unwrap();
        }
        let last = numbered(14, LENS[14]);
        assert_eq!(tx.try_send(&last), Err(SendError::Full));
        let producer = thread::spawn(move || {
            while tx.try_send(&last) == Err(SendError::Full) {
                thread::yield_now();
            }
        });
        assert_eq!(*rx.read().unwrap(), numbered(0, LENS[0]));
        let mut buf = Vec::new();
        for (seq, len) in LENS.iter().enumerate().skip(1) {
            assert_eq!(rx.recv_into(&mut buf), Ok(*len));
            assert_eq!(buf, numbered(seq, *len));
        }
        producer.join().unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
    });
}

/// Message `seq` of `len` bytes (at least one) of the model above: its number, then a
/// count.
fn numbered(seq: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| if i == 0 { seq as u8 } else { 100 + i as u8 })
        .collect()
}
