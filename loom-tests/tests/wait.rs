//! Full/empty waiting with the real waiter-announcement protocol and the emulated futex:
//! a lost wake-up leaves a thread asleep for ever, which loom reports as a deadlock.
#![cfg(ipcring_loom)]

use ipcring::spsc::heap_pair;
use ipcring::WaitStrategy;
use ipcring_loom_tests::{message, model, CAPACITY, START};
use loom::thread;

/// Sends messages of `lens` bytes with blocking calls on both sides, so that the consumer
/// waits on the empty ring and the producer on the full one.
fn both_sides_block(strategy: WaitStrategy, lens: &'static [usize]) {
    model(move || {
        let (mut tx, mut rx) = heap_pair(CAPACITY, strategy, START);
        let producer = thread::spawn(move || {
            for (seq, &len) in lens.iter().enumerate() {
                tx.send(&message(seq, len)).unwrap();
            }
        });
        let mut buf = Vec::new();
        for (seq, &len) in lens.iter().enumerate() {
            assert_eq!(rx.recv_into(&mut buf), Ok(len));
            assert_eq!(buf, message(seq, len));
        }
        producer.join().unwrap();
    });
}

/// Three 16-byte messages: two fill the ring (the second after a padding record), so the
/// producer waits for the third until the consumer publishes.
const THREE_FULL: &[usize] = &[16, 16, 16];

#[test]
fn parked_sides_are_always_woken() {
    both_sides_block(WaitStrategy::Park, THREE_FULL);
}

#[test]
fn spinning_then_parked_sides_are_always_woken() {
    both_sides_block(
        WaitStrategy::SpinThenPark {
            spins: 1,
            yields: 1,
        },
        THREE_FULL,
    );
}

/// The producer waits for room for the last message while the consumer frees it in two
/// steps: 8 bytes (too few), then 24. The wake-up for the first step must not use up the
/// announcement that the second one needs.
#[test]
fn producer_is_woken_when_room_comes_in_small_steps() {
    both_sides_block(WaitStrategy::Park, &[0, 16, 16, 16]);
}
