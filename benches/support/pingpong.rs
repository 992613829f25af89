//! An 8-byte ping-pong between the calling thread and an echo thread over two queues of the
//! thread team's ends, for round-trip benches.

use crate::team::{Rx, Tx, END};
use std::time::{Duration, Instant};

/// The main thread's ends of a ping-pong and the echoing thread.
pub struct PingPong<T: Tx, R: Rx> {
    tx: T,
    rx: R,
    echo: Option<std::thread::JoinHandle<()>>,
}

impl<T: Tx, R: Rx> PingPong<T, R> {
    /// `tx`/`rx` are the main thread's ends; the echo thread (on the second CPU of
    /// `cpus`) receives on `echo_rx` and answers on `echo_tx` until it gets [`END`].
    pub fn start<ET: Tx, ER: Rx>(
        tx: T,
        rx: R,
        mut echo_tx: ET,
        mut echo_rx: ER,
        cpus: Option<(usize, usize)>,
    ) -> Self {
        let echo = std::thread::spawn(move || {
            if let Some((_, b)) = cpus {
                crate::pin::pin(b).expect("pin the echo thread");
            }
            loop {
                let v = echo_rx.take();
                if v == END {
                    return;
                }
                echo_tx.put(v);
            }
        });
        PingPong {
            tx,
            rx,
            echo: Some(echo),
        }
    }

    /// `n` round trips; every answer is checked.
    pub fn round_trips(&mut self, n: u64) -> Duration {
        let t0 = Instant::now();
        for i in 0..n {
            self.tx.put(i);
            assert_eq!(self.rx.take(), i);
        }
        t0.elapsed()
    }
}

impl<T: Tx, R: Rx> Drop for PingPong<T, R> {
    fn drop(&mut self) {
        self.tx.put(END);
        if let Some(h) = self.echo.take() {
            h.join().expect("echo thread");
        }
    }
}
