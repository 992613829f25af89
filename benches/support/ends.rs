//! The ends of the queues that the MPMC benches stream through, as [`Tx`]/[`Rx`] of the
//! thread team: ipcring's MPMC queue (an in-process `HeapQueue`) and SPSC ring, and
//! crossbeam's `ArrayQueue`, all busy-polling. Also the ends of the broadcast benches'
//! round trips: ipcring's SPSC ends and a topic's publisher and subscriber themselves.

use crate::team::{Rx, Tx};
use crossbeam_queue::ArrayQueue;
use ipcring::broadcast::{Publisher, Subscriber};
use ipcring::mpmc::HeapQueue;
use ipcring::{spsc, WaitStrategy};
use std::sync::Arc;

/// Slots of every queue: 16 bytes each for 8-byte values in both (ipcring: the state word
/// and the payload; `ArrayQueue`: a stamp and the value).
pub const CAPACITY: usize = 1 << 15;
/// Data area of the SPSC rings, in bytes: 32 768 records of 8 bytes.
pub const SPSC_BYTES: usize = 1 << 19;

/// A producer of an ipcring MPMC queue.
pub struct MpmcTx(ipcring::mpmc::Producer);
/// A consumer of an ipcring MPMC queue.
pub struct MpmcRx(ipcring::mpmc::Consumer);
/// The producer of an ipcring SPSC ring.
pub struct SpscTx(spsc::Producer);
/// The consumer of an ipcring SPSC ring.
pub struct SpscRx(spsc::Consumer);
/// A pushing end of a crossbeam `ArrayQueue`.
pub struct CbTx(Arc<ArrayQueue<u64>>);
/// A popping end of a crossbeam `ArrayQueue`.
pub struct CbRx(Arc<ArrayQueue<u64>>);

impl Tx for MpmcTx {
    #[inline]
    fn put(&mut self, v: u64) {
        self.0.send_value(&v).expect("mpmc send");
    }
}

impl Rx for MpmcRx {
    #[inline]
    fn take(&mut self) -> u64 {
        self.0.recv_value().expect("mpmc receive")
    }
}

impl Tx for SpscTx {
    #[inline]
    fn put(&mut self, v: u64) {
        self.0.send_value(&v).expect("spsc send");
    }
}

impl Rx for SpscRx {
    #[inline]
    fn take(&mut self) -> u64 {
        self.0.recv_value().expect("spsc receive")
    }
}

impl Tx for CbTx {
    #[inline]
    fn put(&mut self, v: u64) {
        while self.0.push(v).is_err() {
            std::hint::spin_loop();
        }
    }
}

impl Rx for CbRx {
    #[inline]
    fn take(&mut self) -> u64 {
        loop {
            if let Some(v) = self.0.pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}

impl Tx for spsc::Producer {
    #[inline]
    fn put(&mut self, v: u64) {
        self.send_value(&v).expect("spsc send");
    }
}

impl Rx for spsc::Consumer {
    #[inline]
    fn take(&mut self) -> u64 {
        self.recv_value().expect("spsc receive")
    }
}

impl Tx for Publisher {
    #[inline]
    fn put(&mut self, v: u64) {
        self.send_value(&v).expect("broadcast send");
    }
}

impl Rx for Subscriber {
    #[inline]
    fn take(&mut self) -> u64 {
        self.recv_value().expect("broadcast receive")
    }
}

/// `p` producers and `c` consumers of one fresh ipcring MPMC queue (role slots: exactly
/// the larger of the two), busy-spinning.
pub fn mpmc_ends(p: usize, c: usize) -> (Vec<MpmcTx>, Vec<MpmcRx>) {
    let q = HeapQueue::new(CAPACITY, 8, p.max(c), 0);
    let s = WaitStrategy::BusySpin;
    (
        (0..p)
            .map(|_| MpmcTx(q.producer(s).expect("a slot")))
            .collect(),
        (0..c)
            .map(|_| MpmcRx(q.consumer(s).expect("a slot")))
            .collect(),
    )
}

/// `p` producers and `c` consumers of one fresh `ArrayQueue`.
pub fn cb_ends(p: usize, c: usize) -> (Vec<CbTx>, Vec<CbRx>) {
    let q = Arc::new(ArrayQueue::new(CAPACITY));
    (
        (0..p).map(|_| CbTx(q.clone())).collect(),
        (0..c).map(|_| CbRx(q.clone())).collect(),
    )
}

/// The two ends of a fresh SPSC ring, busy-spinning.
pub fn spsc_ends() -> (SpscTx, SpscRx) {
    let (tx, rx) = spsc::heap_pair(SPSC_BYTES, WaitStrategy::BusySpin, 0);
    (SpscTx(tx), SpscRx(rx))
}
