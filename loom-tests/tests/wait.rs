//! Full/empty waiting with the real waiter-announcement protocol and the emulated futex:
//! a lost wake-up leaves a thread asleep for ever, which loom reports as a deadlock.
#![cfg(ipcring_loom)]

use ipcring::loom_hooks::WaitCounter;
use ipcring::spsc::heap_pair;
use ipcring::WaitStrategy;
use ipcring_loom_tests::{message, model, CAPACITY, START};
use loom::sync::Arc;
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

/// Two threads wait on one line for different things; one waker publishes twice. The
/// first publication wakes both; the one whose wait is over leaves while the other goes
/// back to sleep. Its leaving must not erase the other's announcement: the second
/// publication must still wake it.
fn two_waiters_one_waker(strategy: WaitStrategy) {
    model(move || {
        let counter = Arc::new(WaitCounter::new());
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let counter = counter.clone();
                thread::spawn(move || counter.wait_for(n, strategy))
            })
            .collect();
        counter.add();
        counter.add();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

#[test]
fn two_parked_waiters_on_one_line_are_both_woken() {
    two_waiters_one_waker(WaitStrategy::Park);
}
