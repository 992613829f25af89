//! Instructions per message of the hot paths, counted by callgrind: a count that does not
//! depend on what else the machine is doing, unlike a time.
//!
//! `cargo bench --bench instructions` runs each loop below in one thread, under
//! `valgrind --tool=callgrind`, with two message counts, and prints the difference of the
//! two totals divided by the difference of the counts: set-up, tear-down and the start of
//! valgrind cancel out. Needs valgrind (`apt-get install -y valgrind`). A count depends on
//! what the compiler inlines into the loop: compare rows of one run.
//!
//! `cargo bench --bench instructions -- child LOOP N` runs one loop `N` times, without
//! valgrind.

use crossbeam_queue::ArrayQueue;
use ipcring::{broadcast, mpmc, spsc, WaitStrategy};
use ipcring_bench_support::refring;
use std::hint::black_box;
use std::process::Command;

/// Bytes of every ring, and slots of the fixed-slot ones.
const RING: usize = 1 << 16;
const SLOTS: usize = 1024;
/// Messages a burst sends before it receives them.
const BURST: u64 = 64;
/// The two message counts (multiples of `BURST`).
const COUNTS: [u64; 2] = [64_000, 128_000];
const SPIN: WaitStrategy = WaitStrategy::BusySpin;

/// A loop: its name, what it does, and the loop itself over `n` 8-byte messages.
type Loop = (&'static str, &'static str, fn(u64));

const LOOPS: &[Loop] = &[
    ("spsc-value", "SPSC send_value + recv_value", spsc_value),
    ("spsc-try", "SPSC try_send_value + try_recv_value", spsc_try),
    ("spsc-bytes", "SPSC send + recv_into", spsc_bytes),
    (
        "spsc-burst",
        "SPSC send_value x64, then recv_value x64",
        spsc_burst,
    ),
    (
        "spsc-batch",
        "SPSC send_value x64, then read_batch(64)",
        spsc_batch,
    ),
    ("mpmc-value", "MPMC send_value + recv_value", mpmc_value),
    (
        "broadcast-value",
        "broadcast send_value + recv_value",
        topic_value,
    ),
    (
        "reference",
        "fixed-slot reference ring push + pop",
        reference,
    ),
    ("arrayqueue", "crossbeam ArrayQueue push + pop", array_queue),
];

/// Sends and receives `n` values one by one, summing what comes back.
#[inline(always)]
fn one_by_one(n: u64, mut send: impl FnMut(u64), mut recv: impl FnMut() -> u64) {
    let mut sum = 0u64;
    for i in 0..n {
        send(black_box(i));
        sum = sum.wrapping_add(recv());
    }
    black_box(sum);
}

/// Sends `BURST` values, then receives them with `drain`, until `n` have gone through.
#[inline(always)]
fn bursts(n: u64, mut send: impl FnMut(u64), mut drain: impl FnMut()) {
    for b in 0..n / BURST {
        for i in 0..BURST {
            send(black_box(b * BURST + i));
        }
        drain();
    }
}

fn spsc_value(n: u64) {
    let (mut tx, mut rx) = spsc::heap_pair(RING, SPIN, 0);
    one_by_one(
        n,
        |v| tx.send_value(&v).expect("send"),
        || rx.recv_value().expect("recv"),
    );
}

fn spsc_try(n: u64) {
    let (mut tx, mut rx) = spsc::heap_pair(RING, SPIN, 0);
    one_by_one(
        n,
        |v| tx.try_send_value(&v).expect("send"),
        || rx.try_recv_value().expect("recv"),
    );
}

fn spsc_bytes(n: u64) {
    let (mut tx, mut rx) = spsc::heap_pair(RING, SPIN, 0);
    let mut buf = Vec::with_capacity(64);
    one_by_one(
        n,
        |v| tx.send(&v.to_le_bytes()).expect("send"),
        || rx.recv_into(&mut buf).expect("recv") as u64,
    );
}

fn spsc_burst(n: u64) {
    let (mut tx, mut rx) = spsc::heap_pair(RING, SPIN, 0);
    let mut sum = 0u64;
    bursts(
        n,
        |v| tx.send_value(&v).expect("send"),
        || {
            for _ in 0..BURST {
                sum = sum.wrapping_add(rx.recv_value::<u64>().expect("recv"));
            }
        },
    );
    black_box(sum);
}

fn spsc_batch(n: u64) {
    let (mut tx, mut rx) = spsc::heap_pair(RING, SPIN, 0);
    let mut sum = 0usize;
    bursts(
        n,
        |v| tx.send_value(&v).expect("send"),
        || {
            let mut got = 0;
            while got < BURST as usize {
                got += rx
                    .read_batch(BURST as usize, |m| sum = sum.wrapping_add(m.len()))
                    .expect("read");
            }
        },
    );
    black_box(sum);
}

fn mpmc_value(n: u64) {
    let q = mpmc::HeapQueue::new(SLOTS, 8, 1, 0);
    let mut tx = q.producer(SPIN).expect("producer");
    let mut rx = q.consumer(SPIN).expect("consumer");
    one_by_one(
        n,
        |v| tx.send_value(&v).expect("send"),
        || rx.recv_value().expect("recv"),
    );
}

fn topic_value(n: u64) {
    let t = broadcast::HeapTopic::new(SLOTS, 8, (1, 1), false, None, 0);
    let mut tx = t.publisher(SPIN).expect("publisher");
    let mut rx = t.subscriber(SPIN, false).expect("subscriber");
    one_by_one(
        n,
        |v| tx.send_value(&v).expect("send"),
        || rx.recv_value().expect("recv"),
    );
}

fn reference(n: u64) {
    let mut mem = vec![0u64; refring::ref_ring_bytes(SLOTS) / 8];
    let p = mem.as_mut_ptr().cast::<u8>();
    // SAFETY: `mem` is zeroed, 8-byte aligned, of the ring's size, and outlives both ends.
    let (mut tx, mut rx) = unsafe {
        (
            refring::ref_producer(p, SLOTS),
            refring::ref_consumer(p, SLOTS),
        )
    };
    one_by_one(n, |v| tx.push(v), || rx.pop());
}

fn array_queue(n: u64) {
    let q = ArrayQueue::new(SLOTS);
    one_by_one(
        n,
        |v| q.push(v).expect("room"),
        || q.pop().expect("a value"),
    );
}

/// Instructions that callgrind counts for `LOOP n` in a child process.
fn count(exe: &str, name: &str, n: u64) -> u64 {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", exe])
        .args(["child", name, &n.to_string()])
        .output()
        .expect("valgrind (apt-get install -y valgrind)");
    assert!(out.status.success(), "{name} {n}: {out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("Collected :"))
        .unwrap_or_else(|| panic!("no count from callgrind: {err}"));
    let n = line.rsplit(':').next().expect("a count").trim();
    n.parse().expect("a number")
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("child") {
        let (name, n) = (&args[1], args[2].parse().expect("a count"));
        let (_, _, f) = LOOPS.iter().find(|(l, _, _)| l == name).expect("a loop");
        f(n);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let exe = exe.to_str().expect("a UTF-8 path");
    println!("instructions per 8-byte message, send + receive, one thread (callgrind)");
    for (name, what, _) in LOOPS {
        if !args.is_empty() && !args.iter().any(|a| name.contains(a.as_str())) {
            continue;
        }
        let [a, b] = COUNTS.map(|n| count(exe, name, n));
        let per = (b - a) as f64 / (COUNTS[1] - COUNTS[0]) as f64;
        println!("{what:<48} {per:>6.1}");
    }
}
