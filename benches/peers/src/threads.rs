//! The rows between two threads of this process: ipcring's SPSC ring on the heap, rtrb
//! and crossbeam's `ArrayQueue`, each 1 MiB of `u64`s per direction.

use crate::cpus;
use crate::measure::{self, Duplex, End, Receiver, Sender};
use crate::pin;
use crossbeam_queue::ArrayQueue;
use hdrhistogram::Histogram;
use ipcring::spsc::heap_pair;
use ipcring::WaitStrategy;
use std::sync::Arc;
use std::time::Instant;

impl Sender<u64> for rtrb::Producer<u64> {
    fn put(&mut self, v: &u64) {
        while self.push(*v).is_err() {
            std::hint::spin_loop();
        }
    }
}

impl Receiver<u64> for rtrb::Consumer<u64> {
    fn get(&mut self) -> u64 {
        loop {
            if let Ok(v) = self.pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}

/// One direction of an `ArrayQueue` pair: the queue it pushes to or pops from.
struct Crossbeam(Arc<ArrayQueue<u64>>);

impl Sender<u64> for Crossbeam {
    fn put(&mut self, v: &u64) {
        while self.0.push(*v).is_err() {
            std::hint::spin_loop();
        }
    }
}

impl Receiver<u64> for Crossbeam {
    fn get(&mut self) -> u64 {
        loop {
            if let Some(v) = self.0.pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}

/// The two ends of a pair of channels: the parent's and the other thread's.
pub type Ends = (Box<dyn End>, Box<dyn End + Send>);

pub fn ipcring_ends() -> Ends {
    let (a_tx, a_rx) = heap_pair(1 << 20, WaitStrategy::BusySpin, 0);
    let (b_tx, b_rx) = heap_pair(1 << 20, WaitStrategy::BusySpin, 0);
    (
        Box::new(Duplex { tx: a_tx, rx: b_rx }),
        Box::new(Duplex { tx: b_tx, rx: a_rx }),
    )
}

pub fn rtrb_ends() -> Ends {
    // 1 MiB of u64 slots, as the ipcring rings.
    let (a_tx, a_rx) = rtrb::RingBuffer::new(1 << 17);
    let (b_tx, b_rx) = rtrb::RingBuffer::new(1 << 17);
    (
        Box::new(Duplex { tx: a_tx, rx: b_rx }),
        Box::new(Duplex { tx: b_tx, rx: a_rx }),
    )
}

pub fn crossbeam_ends() -> Ends {
    let (a, b) = (
        Arc::new(ArrayQueue::new(1 << 17)),
        Arc::new(ArrayQueue::new(1 << 17)),
    );
    (
        Box::new(Duplex {
            tx: Crossbeam(a.clone()),
            rx: Crossbeam(b.clone()),
        }),
        Box::new(Duplex {
            tx: Crossbeam(b),
            rx: Crossbeam(a),
        }),
    )
}

/// Runs in a new thread on the second CPU.
fn on_peer_cpu<F: FnOnce() + Send + 'static>(f: F) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if let Some((_, b)) = cpus() {
            pin::pin(b).expect("pin");
        }
        f();
    })
}

/// Runs a pair of ends across two threads: the round-trip histogram.
pub fn round_trips((mut parent, mut child): Ends, warmup: u64, n: u64) -> Histogram<u64> {
    let t = on_peer_cpu(move || measure::echo(child.as_mut()));
    let h = measure::round_trips(parent.as_mut(), warmup, n);
    t.join().expect("echo thread");
    h
}

/// Streams `n` values from the parent's end to the other thread's; messages per second.
pub fn stream((mut tx, mut rx): Ends, n: u64) -> f64 {
    let t0 = Instant::now();
    let t = on_peer_cpu(move || {
        for i in 0..n {
            assert_eq!(rx.get(), i);
        }
    });
    for i in 0..n {
        tx.put(i);
    }
    t.join().expect("sink thread");
    n as f64 / t0.elapsed().as_secs_f64()
}
