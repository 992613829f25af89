//! What every row measures, whatever carries the messages: the messages, the two sides of
//! a channel, the echo and the round trips, and the sink of a stream.

use hdrhistogram::Histogram;
use std::time::Instant;

/// The final value of a round trip run.
pub const STOP: u64 = u64::MAX;
/// A child's first message where its ports exist before its peer's (iceoryx2).
pub const READY: u64 = u64::MAX - 1;
/// The size of the big messages of the streaming rows.
pub const BLOCK: usize = 4096;
/// Bytes of each ring of a streaming row (and of an SPSC ring of a round trip).
pub const RING_BYTES: usize = 1 << 20;

/// A message of a fixed size whose first 8 bytes carry a sequence number.
pub trait Msg: bytemuck::Pod + Send {
    fn seq(&self) -> u64;
    fn set_seq(&mut self, seq: u64);
}

impl Msg for u64 {
    fn seq(&self) -> u64 {
        *self
    }
    fn set_seq(&mut self, seq: u64) {
        *self = seq;
    }
}

impl Msg for [u8; BLOCK] {
    fn seq(&self) -> u64 {
        u64::from_le_bytes(self[..8].try_into().expect("8 bytes"))
    }
    fn set_seq(&mut self, seq: u64) {
        self[..8].copy_from_slice(&seq.to_le_bytes());
    }
}

/// The sending end of a channel; `put` waits while it is full.
pub trait Sender<M> {
    fn put(&mut self, m: &M);
}

/// The receiving end of a channel; `get` waits while it is empty.
pub trait Receiver<M> {
    fn get(&mut self) -> M;
}

/// One side of a duplex channel of `u64`s.
pub trait End {
    fn put(&mut self, v: u64);
    fn get(&mut self) -> u64;
}

/// A duplex channel made of one channel per direction.
pub struct Duplex<T, R> {
    pub tx: T,
    pub rx: R,
}

impl<T: Sender<u64>, R: Receiver<u64>> End for Duplex<T, R> {
    #[inline]
    fn put(&mut self, v: u64) {
        self.tx.put(&v);
    }
    #[inline]
    fn get(&mut self) -> u64 {
        self.rx.get()
    }
}

/// Answers every value until STOP (and answers STOP too).
pub fn echo(end: &mut dyn End) {
    loop {
        let v = end.get();
        end.put(v);
        if v == STOP {
            return;
        }
    }
}

/// `warmup + n` round trips; the histogram of the last `n`, in ns.
pub fn round_trips(end: &mut dyn End, warmup: u64, n: u64) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    for i in 0..warmup + n {
        let t0 = Instant::now();
        end.put(i);
        let back = end.get();
        let ns = t0.elapsed().as_nanos() as u64;
        assert_eq!(back, i, "round trip {i} answered with {back}");
        if i >= warmup {
            h.record(ns.max(1)).expect("in bounds");
        }
    }
    end.put(STOP);
    assert_eq!(end.get(), STOP);
    h
}

/// Receives the `n` messages of a stream, checking that each is the next one.
pub fn sink<M: Msg>(rx: &mut dyn Receiver<M>, n: u64) {
    for i in 0..n {
        let got = rx.get().seq();
        assert_eq!(got, i, "message {i} of the stream arrived as {got}");
    }
}
