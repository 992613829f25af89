//! A team of pinned worker threads that stream `u64`s through one queue, many producers
//! to many consumers, for throughput benches: each sample hands every producer its share
//! of the messages, and times from the first producer's first send to the last consumer's
//! last receive. Generic over the queue, so that the hot loops are monomorphised for each.
//!
//! End of a sample: every producer, after its share, sends one [`END`] per consumer; every
//! consumer stops after one [`END`] per producer. Both queues under test hand out
//! positions in order, and each producer's `END`s come after its data, so no message is
//! left behind when the last consumer stops. Consumers count and sum what they receive,
//! and the team checks both against what was sent.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The marker that ends a producer's share (never a message of the stream).
pub const END: u64 = u64::MAX;

/// The sending end of a queue under test; waits while the queue is full.
pub trait Tx: Send + 'static {
    /// Sends `v`.
    fn put(&mut self, v: u64);
}

/// The receiving end; waits while the queue is empty.
pub trait Rx: Send + 'static {
    /// Receives the next value.
    fn take(&mut self) -> u64;
}

enum Cmd {
    /// Send the values `from..from + count` (producers), or receive until every producer
    /// has ended (consumers).
    Run {
        from: u64,
        count: u64,
    },
    Quit,
}

enum Done {
    Producer { start: Instant },
    Consumer { end: Instant, count: u64, sum: u64 },
}

/// The worker threads and their command lines.
pub struct Team {
    producers: Vec<Sender<Cmd>>,
    consumers: Vec<Sender<Cmd>>,
    done: Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
}

impl Team {
    /// Starts one thread per end: producers pinned to `cpus.0`, consumers to `cpus.1`
    /// (unpinned when `cpus` is `None`).
    pub fn start<T: Tx, R: Rx>(txs: Vec<T>, rxs: Vec<R>, cpus: Option<(usize, usize)>) -> Team {
        let (done_tx, done) = channel();
        let ends = (txs.len() as u64, rxs.len() as u64);
        let mut team = Team {
            producers: Vec::new(),
            consumers: Vec::new(),
            done,
            threads: Vec::new(),
        };
        for mut tx in txs {
            let (cmd_tx, cmd) = channel();
            let done = done_tx.clone();
            team.producers.push(cmd_tx);
            team.threads.push(std::thread::spawn(move || {
                if let Some((a, _)) = cpus {
                    crate::pin::pin(a).expect("pin a producer");
                }
                while let Ok(Cmd::Run { from, count }) = cmd.recv() {
                    let start = Instant::now();
                    for v in from..from + count {
                        tx.put(v);
                    }
                    for _ in 0..ends.1 {
                        tx.put(END);
                    }
                    done.send(Done::Producer { start }).expect("team lead");
                }
            }));
        }
        for mut rx in rxs {
            let (cmd_tx, cmd) = channel();
            let done = done_tx.clone();
            team.consumers.push(cmd_tx);
            team.threads.push(std::thread::spawn(move || {
                if let Some((_, b)) = cpus {
                    crate::pin::pin(b).expect("pin a consumer");
                }
                while let Ok(Cmd::Run { .. }) = cmd.recv() {
                    let (mut ended, mut count, mut sum) = (0, 0u64, 0u64);
                    while ended < ends.0 {
                        let v = rx.take();
                        if v == END {
                            ended += 1;
                        } else {
                            count += 1;
                            sum = sum.wrapping_add(v);
                        }
                    }
                    let end = Instant::now();
                    done.send(Done::Consumer { end, count, sum })
                        .expect("team lead");
                }
            }));
        }
        team
    }

    /// Streams `n` messages (split evenly over the producers) and returns the time from
    /// the first send to the last receive.
    ///
    /// # Panics
    /// If the consumers did not receive exactly the values sent.
    pub fn stream(&mut self, n: u64) -> Duration {
        // Consumers first, so that they wait for the data rather than the reverse.
        for c in &self.consumers {
            c.send(Cmd::Run { from: 0, count: 0 }).expect("consumer");
        }
        let p = self.producers.len() as u64;
        let mut from = 0;
        for (i, tx) in self.producers.iter().enumerate() {
            let count = n / p + u64::from((i as u64) < n % p);
            tx.send(Cmd::Run { from, count }).expect("producer");
            from += count;
        }
        let (mut first, mut last) = (None::<Instant>, None::<Instant>);
        let (mut count, mut sum) = (0u64, 0u64);
        for _ in 0..self.producers.len() + self.consumers.len() {
            match self.done.recv().expect("a worker died") {
                Done::Producer { start } => {
                    first = Some(first.map_or(start, |f| f.min(start)));
                }
                Done::Consumer {
                    end,
                    count: c,
                    sum: s,
                } => {
                    last = Some(last.map_or(end, |l| l.max(end)));
                    count += c;
                    sum = sum.wrapping_add(s);
                }
            }
        }
        assert_eq!(count, n, "messages received");
        let expected = (u128::from(n) * u128::from(n.saturating_sub(1)) / 2) as u64;
        assert_eq!(sum, expected, "sum of the values received");
        last.expect("a consumer")
            .saturating_duration_since(first.expect("a producer"))
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        for c in self.producers.iter().chain(&self.consumers) {
            let _ = c.send(Cmd::Quit);
        }
        for t in self.threads.drain(..) {
            t.join().expect("a worker panicked");
        }
    }
}
