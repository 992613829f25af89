//! Benches of broadcast topics between threads, next to the SPSC ring in the same run:
//!
//! - `broadcast-throughput/8B` and `/4KiB`: one publisher streams to its subscribers; in
//!   messages published per second (criterion's elem/s). Rows: the SPSC ring (one
//!   consumer), a lossless topic with one subscriber, and a lossless topic with two
//!   subscribers (each receives every message). ipcring runs in-process (`heap_pair`,
//!   `HeapTopic`: the algorithms and layouts of named rings, on the heap), busy-spinning.
//! - `broadcast-round-trip`: 8-byte ping-pong over two topics (one publisher and one
//!   subscriber each) between two threads, next to two SPSC rings.
//!
//! Pinning: the publisher on the first of the two CPUs this process may use, subscribers on
//! the second. Two subscribers share it: at any moment one of them runs, so on a two-CPU
//! machine the 1→2 row is bound by that CPU reading every message twice.
//!
//! `cargo bench --bench broadcast` runs criterion; `cargo bench --bench broadcast -- pairs
//! [ROUNDS [MESSAGES]]` runs paired rounds instead (each round streams through every row,
//! and pings through both round-trip rows, one right after the other, and the figure that
//! counts is the median of each round's ratio to the SPSC ring: this machine's speed
//! drifts more between criterion's groups than between two runs a second apart).

use criterion::{Criterion, Throughput};
use ipcring::broadcast::{HeapTopic, Publisher, Subscriber};
use ipcring::{spsc, WaitStrategy};
use ipcring_bench_support::pin;
use ipcring_bench_support::pingpong::PingPong;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const SPIN: WaitStrategy = WaitStrategy::BusySpin;
/// Data of every ring and topic, in bytes of payload: 512 KiB.
const AREA: usize = 1 << 19;
/// The stamp of the message that ends a stream.
const END: u64 = u64::MAX;

/// A sending end under test.
trait Pub: Send + 'static {
    fn publish(&mut self, msg: &[u8]);
}

/// A receiving end under test: replaces `buf` with the next message.
trait Sub: Send + 'static {
    fn receive(&mut self, buf: &mut Vec<u8>);
}

impl Pub for spsc::Producer {
    fn publish(&mut self, msg: &[u8]) {
        self.send(msg).expect("spsc send");
    }
}

impl Sub for spsc::Consumer {
    fn receive(&mut self, buf: &mut Vec<u8>) {
        self.recv_into(buf).expect("spsc receive");
    }
}

impl Pub for Publisher {
    fn publish(&mut self, msg: &[u8]) {
        self.send(msg).expect("broadcast send");
    }
}

impl Sub for Subscriber {
    fn receive(&mut self, buf: &mut Vec<u8>) {
        self.recv_into(buf).expect("broadcast receive");
    }
}

/// An SPSC ring of [`AREA`] bytes.
fn spsc_ends() -> (spsc::Producer, spsc::Consumer) {
    spsc::heap_pair(AREA, SPIN, 0)
}

/// A lossless topic of [`AREA`] bytes of `size`-byte slots, its publisher and `subs`
/// subscribers, all busy-spinning (subscribers that share a CPU yield it when they have
/// nothing to read while the publisher waits: the library's own `waiting` hint).
fn topic_ends(size: usize, subs: usize) -> (Publisher, Vec<Subscriber>) {
    let t = HeapTopic::new(AREA / size, size, (1, subs), false, None, 0);
    let tx = t.publisher(SPIN).expect("a publisher");
    let rxs = (0..subs)
        .map(|_| t.subscriber(SPIN, false).expect("a subscriber"))
        .collect();
    (tx, rxs)
}

/// One publisher thread and its subscriber threads, pinned, that stream on command.
struct FanOut {
    go: Sender<u64>,
    subs: Vec<Sender<()>>,
    done: Receiver<(Instant, u64)>,
    threads: Vec<JoinHandle<()>>,
}

impl FanOut {
    fn start<P: Pub, S: Sub>(
        mut tx: P,
        rxs: Vec<S>,
        size: usize,
        cpus: Option<(usize, usize)>,
    ) -> FanOut {
        let (done_tx, done) = channel();
        let (go, go_rx) = channel::<u64>();
        let start_tx = done_tx.clone();
        let mut threads = vec![std::thread::spawn(move || {
            if let Some((a, _)) = cpus {
                pin::pin(a).expect("pin the publisher");
            }
            let mut msg = vec![0u8; size];
            while let Ok(n) = go_rx.recv() {
                let _ = start_tx.send((Instant::now(), 0));
                for v in (0..n).chain([END]) {
                    msg[..8].copy_from_slice(&v.to_le_bytes());
                    tx.publish(&msg);
                }
            }
        })];
        let mut subs = Vec::new();
        for mut rx in rxs {
            let (sub, cmd) = channel::<()>();
            subs.push(sub);
            let done = done_tx.clone();
            threads.push(std::thread::spawn(move || {
                if let Some((_, b)) = cpus {
                    pin::pin(b).expect("pin a subscriber");
                }
                let mut buf = Vec::with_capacity(size);
                while cmd.recv().is_ok() {
                    let mut sum = 0u64;
                    loop {
                        rx.receive(&mut buf);
                        let v = u64::from_le_bytes(buf[..8].try_into().expect("a stamp"));
                        if v == END {
                            break;
                        }
                        sum = sum.wrapping_add(v);
                    }
                    done.send((Instant::now(), sum)).expect("the bench");
                }
            }));
        }
        FanOut {
            go,
            subs,
            done,
            threads,
        }
    }

    /// Streams `n` messages; the time from the first send to the last subscriber's end.
    fn stream(&mut self, n: u64) -> Duration {
        for s in &self.subs {
            s.send(()).expect("a subscriber");
        }
        self.go.send(n).expect("the publisher");
        let (first, _) = self.done.recv().expect("the publisher started");
        let want = (u128::from(n) * u128::from(n.saturating_sub(1)) / 2) as u64;
        let mut last = first;
        for _ in 0..self.subs.len() {
            let (end, sum) = self.done.recv().expect("a subscriber ended");
            assert_eq!(sum, want, "every subscriber receives every message");
            last = last.max(end);
        }
        last - first
    }
}

impl Drop for FanOut {
    fn drop(&mut self) {
        self.subs.clear();
        let (go, _) = channel();
        drop(std::mem::replace(&mut self.go, go));
        for t in self.threads.drain(..) {
            t.join().expect("a bench thread");
        }
    }
}

/// The rows of one message size: name and a fresh fan-out.
fn rows(size: usize, cpus: Option<(usize, usize)>) -> Vec<(&'static str, FanOut)> {
    let (tx, rx) = spsc_ends();
    let spsc = FanOut::start(tx, vec![rx], size, cpus);
    let (tx, rxs) = topic_ends(size, 1);
    let one = FanOut::start(tx, rxs, size, cpus);
    let (tx, rxs) = topic_ends(size, 2);
    let two = FanOut::start(tx, rxs, size, cpus);
    vec![
        ("ipcring-spsc", spsc),
        ("ipcring-broadcast-1to1", one),
        ("ipcring-broadcast-1to2", two),
    ]
}

const SIZES: [(usize, &str); 2] = [(8, "8B"), (4096, "4KiB")];

fn throughput(c: &mut Criterion, cpus: Option<(usize, usize)>) {
    for (size, label) in SIZES {
        let mut g = c.benchmark_group(format!("broadcast-throughput/{label}"));
        g.throughput(Throughput::Elements(1));
        for (name, mut f) in rows(size, cpus) {
            g.bench_function(name, |b| b.iter_custom(|n| f.stream(n)));
        }
        g.finish();
    }
}

/// A ping-pong over two SPSC rings.
fn spsc_ping_pong(cpus: Option<(usize, usize)>) -> PingPong<spsc::Producer, spsc::Consumer> {
    let ((tx, echo_rx), (echo_tx, rx)) = (spsc_ends(), spsc_ends());
    PingPong::start(tx, rx, echo_tx, echo_rx, cpus)
}

/// A ping-pong over two topics of one publisher and one subscriber each.
fn topic_ping_pong(cpus: Option<(usize, usize)>) -> PingPong<Publisher, Subscriber> {
    let topic = || {
        let (tx, mut rxs) = topic_ends(8, 1);
        (tx, rxs.pop().expect("a subscriber"))
    };
    let ((tx, echo_rx), (echo_tx, rx)) = (topic(), topic());
    PingPong::start(tx, rx, echo_tx, echo_rx, cpus)
}

fn round_trip(c: &mut Criterion, cpus: Option<(usize, usize)>) {
    let mut g = c.benchmark_group("broadcast-round-trip");
    let mut pp = spsc_ping_pong(cpus);
    g.bench_function("ipcring-spsc", |b| b.iter_custom(|n| pp.round_trips(n)));
    drop(pp);
    let mut pp = topic_ping_pong(cpus);
    g.bench_function("ipcring-broadcast", |b| {
        b.iter_custom(|n| pp.round_trips(n))
    });
    g.finish();
}

/// Median and quartiles of `v` (sorted here).
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: usize| v[(v.len() - 1) * q / 4];
    (at(2), at(1), at(3))
}

/// Paired rounds: every row streams `n` messages in each round, in an order that turns
/// from round to round; prints each row's rate and its ratio to the SPSC ring's.
fn pairs(rounds: usize, n: u64, cpus: Option<(usize, usize)>) {
    println!("broadcast streaming, paired rounds: {rounds} rounds of {n} messages");
    println!("(M msg/s published: median [quartiles]; ratio to SPSC: median [quartiles])");
    for (size, label) in SIZES {
        let n = if size > 8 { n / 64 } else { n };
        let mut rows = rows(size, cpus);
        let mut rates = vec![Vec::new(); rows.len()];
        for round in 0..rounds {
            let k = rows.len();
            for i in 0..k {
                let r = (i + round) % k;
                let t = rows[r].1.stream(n);
                rates[r].push(n as f64 / t.as_secs_f64() / 1e6);
            }
        }
        for (r, (name, _)) in rows.iter().enumerate() {
            let mut ratio: Vec<f64> = (0..rounds).map(|i| rates[r][i] / rates[0][i]).collect();
            let (m, q1, q3) = quartiles(&mut rates[r].clone());
            let (rm, r1, r3) = quartiles(&mut ratio);
            println!(
                "{label:>5} {name:<24} {m:7.2} [{q1:.2} {q3:.2}]  ratio {rm:.2} [{r1:.2} {r3:.2}]"
            );
        }
    }
    let trips = (n / 20).max(1000);
    println!("8-byte round trips between two threads, {rounds} paired rounds of {trips}");
    println!("(ns: median [quartiles]; ratio to SPSC: median [quartiles])");
    // A ping-pong per round and kind: two echo threads alive at once would spin on the
    // same CPU and take turns with each other's time slices.
    let spsc = || {
        let mut pp = spsc_ping_pong(cpus);
        pp.round_trips(trips / 10);
        pp.round_trips(trips).as_nanos() as f64 / trips as f64
    };
    let topic = || {
        let mut pp = topic_ping_pong(cpus);
        pp.round_trips(trips / 10);
        pp.round_trips(trips).as_nanos() as f64 / trips as f64
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            a.push(spsc());
            b.push(topic());
        } else {
            b.push(topic());
            a.push(spsc());
        }
    }
    let mut ratio: Vec<f64> = b.iter().zip(&a).map(|(b, a)| b / a).collect();
    let ((am, a1, a3), (bm, b1, b3), (rm, r1, r3)) =
        (quartiles(&mut a), quartiles(&mut b), quartiles(&mut ratio));
    println!("   ipcring-spsc             {am:7.1} [{a1:.1} {a3:.1}]");
    println!(
        "   ipcring-broadcast        {bm:7.1} [{b1:.1} {b3:.1}]  ratio {rm:.2} [{r1:.2} {r3:.2}]"
    );
}

fn main() {
    let cpus = pin::choose(None).expect("sched_getaffinity");
    if let Some((a, _)) = cpus {
        pin::pin(a).expect("pin the main thread");
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("pairs") {
        let mut nums = args[1..]
            .iter()
            .map(|a| a.parse::<u64>().expect("a number"));
        let rounds = nums.next().unwrap_or(10).max(1) as usize;
        let n = nums.next().unwrap_or(5_000_000).max(64);
        pairs(rounds, n, cpus);
        return;
    }
    let mut c = Criterion::default().sample_size(20).configure_from_args();
    throughput(&mut c, cpus);
    round_trip(&mut c, cpus);
    c.final_summary();
}
