//! A `WaitSet` on two rings, with the real waiter-announcement protocol over both lines
//! and the emulated futex (one sleep on many futex words, as `futex_waitv`): a wake-up
//! lost on either ring leaves the waiter asleep for ever, which loom reports as a
//! deadlock.
#![cfg(ipcring_loom)]

use ipcring::spsc::heap_pair;
use ipcring::{RecvError, WaitSet, WaitStrategy};
use ipcring_loom_tests::{message, model, CAPACITY, START};
use loom::thread;

/// The main thread waits with a set on two rings, each fed by its own producer thread
/// (`lens[k]` are the lengths sent to ring `k`), and drains whichever is ready until both
/// producers are gone.
fn set_on_two_rings(strategy: WaitStrategy, lens: [&'static [usize]; 2]) {
    model(move || {
        let (tx_a, mut rx_a) = heap_pair(CAPACITY, strategy, START);
        let (tx_b, mut rx_b) = heap_pair(CAPACITY, strategy, START);
        let producers: Vec<_> = [tx_a, tx_b]
            .into_iter()
            .zip(lens)
            .map(|(mut tx, lens)| {
                thread::spawn(move || {
                    for (seq, &len) in lens.iter().enumerate() {
                        tx.send(&message(seq, len)).unwrap();
                    }
                })
            })
            .collect();
        let mut set = WaitSet::new();
        set.set_wait_strategy(strategy);
        let mut got = [0usize; 2];
        let mut ended = [false; 2];
        let mut buf = Vec::new();
        while !(ended[0] && ended[1]) {
            // A ring that ended is ready for good: only the others are waited for.
            let ready: Vec<usize> = match ended {
                [false, false] => set.wait(&mut [&mut rx_a, &mut rx_b]).iter().collect(),
                [true, false] => set.wait(&mut [&mut rx_b]).iter().map(|_| 1).collect(),
                _ => set.wait(&mut [&mut rx_a]).iter().collect(),
            };
            assert!(!ready.is_empty());
            for k in ready {
                let rx = if k == 0 { &mut rx_a } else { &mut rx_b };
                let before = got[k];
                loop {
                    match rx.try_recv_into(&mut buf) {
                        Ok(len) => {
                            assert_eq!(len, lens[k][got[k]]);
                            assert_eq!(buf, message(got[k], len));
                            got[k] += 1;
                        }
                        Err(RecvError::Empty) => break,
                        Err(RecvError::Disconnected) => {
                            ended[k] = true;
                            break;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                assert!(
                    got[k] > before || ended[k],
                    "ring {k} was ready with nothing to take"
                );
            }
        }
        assert_eq!(got, [lens[0].len(), lens[1].len()]);
        for p in producers {
            p.join().unwrap();
        }
    });
}

#[test]
fn a_parked_set_is_woken_by_either_ring() {
    set_on_two_rings(WaitStrategy::Park, [&[8], &[16]]);
}

#[test]
fn a_spinning_then_parked_set_is_woken_by_either_ring() {
    set_on_two_rings(
        WaitStrategy::SpinThenPark {
            spins: 1,
            yields: 1,
        },
        [&[8], &[0]],
    );
}

/// A producer waits through a set for room on a full ring while the consumer frees it:
/// the consumer's publication must find the set's announcement.
#[test]
fn a_set_waiting_for_room_is_woken() {
    model(|| {
        let (mut tx, mut rx) = heap_pair(CAPACITY, WaitStrategy::Park, START);
        // Two 16-byte messages fill the 64-byte ring (the second after a padding record).
        tx.send(&message(0, 16)).unwrap();
        tx.send(&message(1, 16)).unwrap();
        let consumer = thread::spawn(move || {
            let mut buf = Vec::new();
            for seq in 0..3 {
                assert_eq!(rx.recv_into(&mut buf), Ok(16));
                assert_eq!(buf, message(seq, 16));
            }
        });
        let mut set = WaitSet::new();
        set.set_wait_strategy(WaitStrategy::Park);
        loop {
            match tx.try_send(&message(2, 16)) {
                Ok(()) => break,
                Err(ipcring::SendError::Full) => {
                    assert_eq!(set.wait(&mut [&mut tx.room(16)]).count(), 1);
                }
                Err(e) => panic!("{e}"),
            }
        }
        consumer.join().unwrap();
    });
}

/// Ring A is idle (its producer lives to the end); ring B's producer sends more than the
/// ring holds, so it waits for room while alive. A wake-up lost on B (the second line of
/// the set) then leaves both asleep: no detach comes to wake the set by chance.
#[test]
fn a_set_is_woken_by_its_second_ring_while_the_producer_lives() {
    model(|| {
        let (tx_a, mut rx_a) = heap_pair(CAPACITY, WaitStrategy::Park, START);
        let (mut tx_b, mut rx_b) = heap_pair(CAPACITY, WaitStrategy::Park, START);
        let producer = thread::spawn(move || {
            for seq in 0..3 {
                tx_b.send(&message(seq, 16)).unwrap();
            }
        });
        let mut set = WaitSet::new();
        set.set_wait_strategy(WaitStrategy::Park);
        let mut got = 0;
        let mut buf = Vec::new();
        while got < 3 {
            let ready: Vec<usize> = set.wait(&mut [&mut rx_a, &mut rx_b]).iter().collect();
            assert_eq!(ready, [1]);
            loop {
                match rx_b.try_recv_into(&mut buf) {
                    Ok(len) => {
                        assert_eq!(buf[..len], message(got, 16));
                        got += 1;
                    }
                    Err(RecvError::Empty) => break,
                    Err(RecvError::Disconnected) if got == 3 => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        producer.join().unwrap();
        drop(tx_a);
    });
}

/// The hand-over of a WaitSet's descriptor and of async waits: the waiter arms (reads the
/// words of two lines, announces on both, fences, looks again) and hands the words to a
/// helper thread, which sleeps until one changes; a waker adds to the second counter.
/// A lost wake-up leaves the helper asleep for ever.
#[test]
fn an_armed_wait_handed_to_a_helper_is_woken() {
    use ipcring::loom_hooks::WaitCounter;
    use loom::sync::Arc;
    model(|| {
        let a = Arc::new(WaitCounter::new());
        let b = Arc::new(WaitCounter::new());
        let waker = {
            let b = b.clone();
            thread::spawn(move || b.add())
        };
        if let Some(armed) = WaitCounter::arm_any(&[&a, &b], 1) {
            let helper = {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || {
                    armed.sleep_until_changed();
                    drop((a, b));
                })
            };
            helper.join().unwrap();
        }
        waker.join().unwrap();
    });
}
