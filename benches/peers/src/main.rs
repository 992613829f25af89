//! ipcring next to its peers, in one run on the same two CPUs:
//!
//! - two processes, 8-byte busy-poll ping-pong: ipcring SPSC (busy-spin) and iceoryx2
//!   publish/subscribe (`ipc::Service`, one publisher and one subscriber per direction);
//! - two threads, 8-byte round trip and streaming: ipcring (in-process heap ring), rtrb and
//!   crossbeam's `ArrayQueue`.
//!
//! `cargo run --release` in this directory (its own workspace); `-- --quick` for a short
//! run. The child process is this binary again (`child <mechanism> <name>`).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[path = "../../support/pin.rs"]
mod pin;

use crossbeam_queue::ArrayQueue;
use hdrhistogram::Histogram;
use iceoryx2::prelude::*;
use ipcring::spsc::{heap_pair, Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The final value of a run.
const STOP: u64 = u64::MAX;
/// The child's first message: its ports exist.
const READY: u64 = u64::MAX - 1;

/// One side of a duplex channel of `u64`s; both calls busy-wait.
trait End {
    fn put(&mut self, v: u64);
    fn get(&mut self) -> u64;
}

struct Ipc {
    tx: Producer,
    rx: Consumer,
}

impl End for Ipc {
    fn put(&mut self, v: u64) {
        self.tx.send_value(&v).expect("ipcring send");
    }
    fn get(&mut self) -> u64 {
        self.rx.recv_value().expect("ipcring receive")
    }
}

struct Rtrb {
    tx: rtrb::Producer<u64>,
    rx: rtrb::Consumer<u64>,
}

impl End for Rtrb {
    fn put(&mut self, v: u64) {
        while self.tx.push(v).is_err() {
            std::hint::spin_loop();
        }
    }
    fn get(&mut self) -> u64 {
        loop {
            if let Ok(v) = self.rx.pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}

struct Crossbeam {
    tx: Arc<ArrayQueue<u64>>,
    rx: Arc<ArrayQueue<u64>>,
}

impl End for Crossbeam {
    fn put(&mut self, v: u64) {
        while self.tx.push(v).is_err() {
            std::hint::spin_loop();
        }
    }
    fn get(&mut self) -> u64 {
        loop {
            if let Some(v) = self.rx.pop() {
                return v;
            }
            std::hint::spin_loop();
        }
    }
}

struct Ice {
    // Ports before the node: they are dropped first.
    tx: iceoryx2::port::publisher::Publisher<ipc::Service, u64, ()>,
    rx: iceoryx2::port::subscriber::Subscriber<ipc::Service, u64, ()>,
    _node: Node<ipc::Service>,
}

impl End for Ice {
    fn put(&mut self, v: u64) {
        let sample = self.tx.loan_uninit().expect("iceoryx2 loan");
        sample.write_payload(v).send().expect("iceoryx2 send");
    }
    fn get(&mut self) -> u64 {
        loop {
            if let Some(s) = self.rx.receive().expect("iceoryx2 receive") {
                return *s;
            }
            std::hint::spin_loop();
        }
    }
}

/// iceoryx2 ports for `name`: publishing on `<name>/<tx>`, subscribed to `<name>/<rx>`.
fn ice(name: &str, tx: &str, rx: &str) -> Ice {
    let node = NodeBuilder::new()
        .create::<ipc::Service>()
        .expect("iceoryx2 node");
    let service = |dir: &str| {
        let sn: ServiceName = format!("{name}/{dir}").as_str().try_into().expect("name");
        node.service_builder(&sn)
            .publish_subscribe::<u64>()
            .max_publishers(1)
            .max_subscribers(1)
            .history_size(0)
            .subscriber_max_buffer_size(1)
            .enable_safe_overflow(true)
            .open_or_create()
            .expect("iceoryx2 service")
    };
    let (out, inp) = (service(tx), service(rx));
    Ice {
        tx: out.publisher_builder().create().expect("publisher"),
        rx: inp.subscriber_builder().create().expect("subscriber"),
        _node: node,
    }
}

/// Answers every value until STOP (and answers STOP too).
fn echo(end: &mut dyn End) {
    loop {
        let v = end.get();
        end.put(v);
        if v == STOP {
            return;
        }
    }
}

/// `warmup + n` round trips; the histogram of the last `n`, in ns.
fn round_trips(end: &mut dyn End, warmup: u64, n: u64) -> Histogram<u64> {
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

/// The two CPUs (parent, peer), chosen in `main` before the parent pins itself.
static CPUS: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();

fn cpus() -> Option<(usize, usize)> {
    *CPUS.get().expect("chosen in main")
}

/// The child process: `child ipcring|iceoryx2 <name> <cpu or ->`.
fn child(mech: &str, name: &str, cpu: &str) {
    if let Ok(cpu) = cpu.parse() {
        pin::pin(cpu).expect("pin");
    }
    let mut end: Box<dyn End> = match mech {
        "ipcring" => {
            let opts = |s: &str| {
                Builder::new(&format!("{name}-{s}")).wait_strategy(WaitStrategy::BusySpin)
            };
            Box::new(Ipc {
                rx: opts("a").open_consumer().expect("open"),
                tx: opts("b").open_producer().expect("open"),
            })
        }
        _ => {
            let mut e = ice(name, "b2a", "a2b");
            // The parent's subscriber exists: it sees this once our publisher connects.
            e.put(READY);
            Box::new(e)
        }
    };
    echo(end.as_mut());
}

/// Runs `mech` across two processes; the histogram of its round trips.
fn across_processes(mech: &str, warmup: u64, n: u64) -> Histogram<u64> {
    let name = format!("peers-{}-{mech}", std::process::id());
    let spawn = || {
        Command::new(std::env::current_exe().expect("own path"))
            .args(["child", mech, &name])
            .arg(cpus().map_or("-".to_owned(), |c| c.1.to_string()))
            .spawn()
            .expect("spawn")
    };
    let (h, mut child) = if mech == "ipcring" {
        let opts = |s: &str| {
            Builder::new(&format!("{name}-{s}"))
                .populate(true)
                .wait_strategy(WaitStrategy::BusySpin)
        };
        let mut end = Ipc {
            tx: opts("a").create_producer().expect("create"),
            rx: opts("b").create_consumer().expect("create"),
        };
        let child = spawn();
        end.put(0);
        assert_eq!(end.get(), 0);
        // Both sides are attached: the names can go.
        ipcring::unlink(&format!("{name}-a")).expect("unlink");
        ipcring::unlink(&format!("{name}-b")).expect("unlink");
        (round_trips(&mut end, warmup, n), child)
    } else {
        let mut end = ice(&name, "a2b", "b2a");
        let child = spawn();
        assert_eq!(end.get(), READY);
        // The child's subscriber may connect a moment after its publisher: retry the
        // first message until it is answered.
        loop {
            end.put(0);
            let t0 = Instant::now();
            let mut answered = false;
            while t0.elapsed() < Duration::from_millis(50) {
                if let Some(s) = end.rx.receive().expect("receive") {
                    assert_eq!(*s, 0);
                    answered = true;
                    break;
                }
            }
            if answered {
                break;
            }
        }
        (round_trips(&mut end, warmup, n), child)
    };
    assert!(child.wait().expect("wait").success(), "{mech} child failed");
    h
}

/// Runs a pair of ends across two threads: the round-trip histogram.
fn across_threads(
    parent: &mut dyn End,
    child: Box<dyn End + Send>,
    warmup: u64,
    n: u64,
) -> Histogram<u64> {
    let mut child = child;
    let t = std::thread::spawn(move || {
        if let Some((_, b)) = cpus() {
            pin::pin(b).expect("pin");
        }
        echo(child.as_mut());
    });
    let h = round_trips(parent, warmup, n);
    t.join().expect("echo thread");
    h
}

/// Streams `n` values from `tx` to `rx` on another thread; messages per second.
fn stream(tx: &mut dyn End, rx: Box<dyn End + Send>, n: u64) -> f64 {
    let mut rx = rx;
    let t0 = Instant::now();
    let t = std::thread::spawn(move || {
        if let Some((_, b)) = cpus() {
            pin::pin(b).expect("pin");
        }
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

type Ends = (Box<dyn End>, Box<dyn End + Send>);

fn ipcring_ends() -> Ends {
    let (a_tx, a_rx) = heap_pair(1 << 20, WaitStrategy::BusySpin, 0);
    let (b_tx, b_rx) = heap_pair(1 << 20, WaitStrategy::BusySpin, 0);
    (
        Box::new(Ipc { tx: a_tx, rx: b_rx }),
        Box::new(Ipc { tx: b_tx, rx: a_rx }),
    )
}

fn rtrb_ends() -> Ends {
    // 1 MiB of u64 slots, as the ipcring rings.
    let (a_tx, a_rx) = rtrb::RingBuffer::new(1 << 17);
    let (b_tx, b_rx) = rtrb::RingBuffer::new(1 << 17);
    (
        Box::new(Rtrb { tx: a_tx, rx: b_rx }),
        Box::new(Rtrb { tx: b_tx, rx: a_rx }),
    )
}

fn crossbeam_ends() -> Ends {
    let (a, b) = (
        Arc::new(ArrayQueue::new(1 << 17)),
        Arc::new(ArrayQueue::new(1 << 17)),
    );
    (
        Box::new(Crossbeam {
            tx: a.clone(),
            rx: b.clone(),
        }),
        Box::new(Crossbeam { tx: b, rx: a }),
    )
}

fn row(name: &str, h: &Histogram<u64>, base: Option<u64>) {
    let p50 = h.value_at_quantile(0.5);
    let ratio = base.map_or(String::new(), |b| format!("{:.2}x", p50 as f64 / b as f64));
    println!(
        "{name:<34} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {ratio:>7}",
        h.len(),
        h.min(),
        p50,
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(&args[2], &args[3], &args[4]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (warmup, n, stream_n) = if quick {
        (10_000, 100_000, 5_000_000)
    } else {
        (100_000, 1_000_000, 50_000_000)
    };
    let pair = pin::choose(None).expect("sched_getaffinity");
    CPUS.set(pair).expect("set once");
    if let Some((a, _)) = pair {
        pin::pin(a).expect("pin");
    }
    let header = |what: &str| {
        println!("\n{what}  (ns; ratio: p50 / p50 of the first row)");
        println!(
            "{:<34} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
            "mechanism", "samples", "min", "p50", "p99", "p99.9", "max", "ratio"
        );
    };
    header("8-byte round trip between two processes, busy-poll");
    let ipc = across_processes("ipcring", warmup, n);
    row("ipcring spsc, busy-spin", &ipc, None);
    let base = Some(ipc.value_at_quantile(0.5));
    row(
        "iceoryx2 0.10 pub/sub, busy-poll",
        &across_processes("iceoryx2", warmup, n),
        base,
    );

    header("8-byte round trip between two threads, busy-poll");
    let mut base = None;
    for (name, make) in [
        ("ipcring spsc (heap ring)", ipcring_ends as fn() -> Ends),
        ("rtrb 0.4", rtrb_ends),
        ("crossbeam ArrayQueue", crossbeam_ends),
    ] {
        let (mut p, c) = make();
        let h = across_threads(p.as_mut(), c, warmup, n);
        row(name, &h, base);
        base = base.or(Some(h.value_at_quantile(0.5)));
    }

    println!("\n8-byte streaming between two threads ({stream_n} values)");
    let mut base = None;
    for (name, make) in [
        ("ipcring spsc (heap ring)", ipcring_ends as fn() -> Ends),
        ("rtrb 0.4", rtrb_ends),
        ("crossbeam ArrayQueue", crossbeam_ends),
    ] {
        let (mut p, c) = make();
        let rate = stream(p.as_mut(), c, stream_n);
        let b = *base.get_or_insert(rate);
        println!("{name:<34} {:>8.2} Mmsg/s {:>6.2}x", rate / 1e6, rate / b);
    }
}
