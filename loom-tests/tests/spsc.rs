//! The SPSC data path: records of every shape through a ring that wraps, checked for
//! order, content and data races on the payload bytes.
#![cfg(ipcring_loom)]

use ipcring::spsc::heap_pair;
use ipcring::{RecvError, WaitStrategy};
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
            g[..7].copy_from_slice(&message(0, 7));
            g.commit(7);
            let mut g = tx.reserve(12).unwrap();
            g.fill(0xee);
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
        assert_eq!(&*rx.read().unwrap(), message(0, 7));
        let mut buf = Vec::new();
        assert_eq!(rx.recv_into(&mut buf), Ok(0));
        assert_eq!(&*rx.read().unwrap(), message(2, 16));
        assert_eq!(rx.recv_into(&mut buf), Ok(2));
        assert_eq!(buf, message(3, 2));
        producer.join().unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Disconnected));
    });
}
