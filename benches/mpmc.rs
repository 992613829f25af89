//! Criterion benches of the MPMC work queue between threads, next to crossbeam's
//! `ArrayQueue<u64>` in the same run:
//!
//! - `mpmc-throughput/1p1c` and `mpmc-throughput/2p2c`: 8-byte messages streamed from
//!   producer threads to consumer threads through one queue of [`CAPACITY`] slots, in
//!   messages per second (criterion's elem/s). ipcring is an in-process
//!   [`HeapQueue`] (the same algorithm and layout as a named queue, on the heap) with
//!   `send_value`/`recv_value` and `WaitStrategy::BusySpin`; `ArrayQueue` runs `push`/`pop`
//!   in a loop with a spin hint while full/empty. Both are busy-polling blocking loops: a
//!   waiting side spins on the queue and never sleeps. The 1P/1C group also shows the SPSC
//!   ring, for what sharing the ends costs.
//! - `mpmc-round-trip`: 8-byte ping-pong over two queues between two threads, busy-spin,
//!   MPMC next to the SPSC ring (`heap_pair`) and `ArrayQueue`.
//!
//! Pinning: the benches run on the first two CPUs this process may use (`pin::choose`).
//! Producers run on the first, consumers on the second; the main thread sits on the first
//! and sleeps while a sample runs. With 2P/2C on a two-CPU machine, the two producers share
//! one CPU and the two consumers the other: at any moment at most one of each runs, and a
//! thread preempted between claiming a slot and committing it holds up the others until it
//! runs again, in both queues. So the 2P/2C rows measure the queues under contention *and*
//! the scheduler's time slices; compare them with each other, not with a machine that has a
//! CPU per thread.
//!
//! Each throughput sample is timed from the first producer's first send to the last
//! consumer's last receive (see `support/team.rs`); the consumers check the count and the
//! sum of the values. Run with `cargo bench --bench mpmc`; the cross-process rows are in
//! `ipcring bench` (BENCHMARKS.md).

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use ipcring_bench_support::ends::{cb_ends, mpmc_ends, spsc_ends};
use ipcring_bench_support::pin;
use ipcring_bench_support::pingpong::PingPong;
use ipcring_bench_support::team::{Rx, Team, Tx};

/// The two CPUs of the benches, chosen in `main` before the main thread pins itself.
static CPUS: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();

fn cpus() -> Option<(usize, usize)> {
    *CPUS.get().expect("chosen in main")
}

/// Streams through `team` in one bench of `g`.
fn bench_team(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut team: Team) {
    g.bench_function(name, |b| b.iter_custom(|n| team.stream(n)));
}

/// Streaming throughput, 1P/1C and 2P/2C, ipcring MPMC next to `ArrayQueue`.
fn throughput(c: &mut Criterion) {
    for (p, n) in [(1, 1), (2, 2)] {
        let mut g = c.benchmark_group(format!("mpmc-throughput/{p}p{n}c"));
        g.throughput(Throughput::Elements(1));
        let (tx, rx) = cb_ends(p, n);
        bench_team(&mut g, "crossbeam-arrayqueue", Team::start(tx, rx, cpus()));
        let (tx, rx) = mpmc_ends(p, n);
        bench_team(&mut g, "ipcring-mpmc", Team::start(tx, rx, cpus()));
        if p == 1 && n == 1 {
            let (tx, rx) = spsc_ends();
            bench_team(
                &mut g,
                "ipcring-spsc",
                Team::start(vec![tx], vec![rx], cpus()),
            );
        }
        g.finish();
    }
}

/// One producer and one consumer of a fresh queue made by `ends`.
fn one_each<T, R>(ends: fn(usize, usize) -> (Vec<T>, Vec<R>)) -> (T, R) {
    let (mut t, mut r) = ends(1, 1);
    (t.pop().expect("a producer"), r.pop().expect("a consumer"))
}

/// Round trips over the queues `there` (main thread to echo thread) and `back`, in one
/// bench of `g`.
fn bench_ping_pong<T: Tx, R: Rx>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    there: (T, R),
    back: (T, R),
) {
    let mut pp = PingPong::start(there.0, back.1, back.0, there.1, cpus());
    g.bench_function(name, |b| b.iter_custom(|n| pp.round_trips(n)));
}

/// 8-byte round trips between two threads, busy-spin: MPMC, SPSC, `ArrayQueue`.
fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpmc-round-trip");
    bench_ping_pong(&mut g, "ipcring-spsc", spsc_ends(), spsc_ends());
    let mpmc = || one_each(mpmc_ends);
    bench_ping_pong(&mut g, "ipcring-mpmc", mpmc(), mpmc());
    let cb = || one_each(cb_ends);
    bench_ping_pong(&mut g, "crossbeam-arrayqueue", cb(), cb());
    g.finish();
}

fn main() {
    let pair = pin::choose(None).expect("sched_getaffinity");
    CPUS.set(pair).expect("set once");
    if let Some((a, _)) = pair {
        pin::pin(a).expect("pin");
    }
    // 20 samples by default (the command line may say otherwise): a throughput sample
    // then lasts long enough to span several scheduler slices with 2P/2C.
    let mut c = Criterion::default().sample_size(20).configure_from_args();
    throughput(&mut c);
    round_trip(&mut c);
    c.final_summary();
}
