//! ipcring next to its peers, in one run on the same two CPUs:
//!
//! - two processes, 8-byte round trips (busy-poll, each library's default wait, a futex
//!   sleep at once; the MPMC work queues; broadcast) and streams (8 B and 4 KiB; broadcast
//!   to two subscriber processes): ipcring against ringfire 0.5 and, busy-poll, iceoryx2
//!   0.10 publish/subscribe;
//! - two threads, 8-byte round trip and streaming: ipcring (in-process heap ring), rtrb
//!   and crossbeam's `ArrayQueue`.
//!
//! `cargo run --release` in this directory (its own workspace); `-- --quick` for a short
//! run. A child process is this binary again (`child TAG NAME CPU JOB…`, see `spawn`).
//! The run leaves nothing in /dev/shm or /tmp, also when interrupted (see `cleanup`).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod child;
mod cleanup;
mod iceoryx;
mod ipc;
mod job;
mod measure;
mod ringfire;
mod rows;
mod spawn;
mod table;
mod threads;

use ipcring_bench_support::pin;
use job::{Job, Kind, Lib, Wait};
use measure::BLOCK;

/// The two CPUs (parent, peer), chosen in `main` before the parent pins itself.
static CPUS: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();

fn cpus() -> Option<(usize, usize)> {
    *CPUS.get().expect("chosen in main")
}

/// How many round trips and messages.
struct Counts {
    warmup: u64,
    n: u64,
    stream: u64,
    /// Rounds of the streams between threads, each of which runs every kind once: a busy
    /// stream settles for the whole run with its consumer either behind the producer
    /// (each line crosses once, full) or caught up with it (both on the line being
    /// written, which then moves with every message), at rates that differ several times;
    /// which one is chance, so a single run per row says little.
    stream_rounds: usize,
}

/// A table of cross-process round trips, the first row ipcring's.
fn round_trips(what: &str, jobs: &[Job], warmup: u64, n: u64) {
    table::latency_header(what);
    let mut base = None;
    for job in jobs {
        let h = rows::round_trip(job, warmup, n);
        table::latency_row(&job.label(), &h, base);
        base = base.or(Some(h.value_at_quantile(0.5)));
    }
}

/// A table of cross-process streams: pairs of ipcring's row and a peer's.
fn streams(what: &str, pairs: &[(Job, Job)]) {
    table::rate_header(what);
    for (ours, peer) in pairs {
        let base = rows::stream(ours);
        table::rate_row(&ours.label(), ours.size, base, None);
        table::rate_row(&peer.label(), peer.size, rows::stream(peer), Some(base));
    }
}

fn across_processes(c: &Counts) {
    use Kind::{Broadcast, Mpmc, Spsc};
    use Lib::{Iceoryx2, Ipcring, Ringfire};
    use Wait::{Default, Park, Spin};
    let rt = Job::round_trip;
    round_trips(
        "8-byte round trip between two processes, busy-poll",
        &[
            rt(Ipcring, Spsc, Spin),
            rt(Ringfire, Spsc, Spin),
            rt(Iceoryx2, Spsc, Spin),
        ],
        c.warmup,
        c.n,
    );
    round_trips(
        "8-byte round trip between two processes, each library's default wait (spin, then futex)",
        &[rt(Ipcring, Spsc, Default), rt(Ringfire, Spsc, Default)],
        c.warmup,
        c.n,
    );
    round_trips(
        "8-byte round trip between two processes, sleeping on a futex at once",
        &[rt(Ipcring, Spsc, Park), rt(Ringfire, Spsc, Park)],
        c.warmup,
        c.n,
    );
    round_trips(
        "8-byte round trip between two processes, MPMC work queue, busy-poll",
        &[rt(Ipcring, Mpmc, Spin), rt(Ringfire, Mpmc, Spin)],
        c.warmup,
        c.n,
    );
    round_trips(
        "8-byte round trip between two processes, broadcast (lossless), busy-poll",
        &[rt(Ipcring, Broadcast, Spin), rt(Ringfire, Broadcast, Spin)],
        c.warmup,
        c.n,
    );

    let st = |lib, kind, wait, size, n, subs| Job::stream(lib, kind, wait, size, n, subs);
    let (n8, n4k) = (c.stream, c.stream / 50);
    streams(
        &format!(
            "Streaming between two processes, lossless, busy-poll ({n8} x 8 B, {n4k} x 4 KiB)"
        ),
        &[
            (
                st(Ipcring, Spsc, Spin, 8, n8, 1),
                st(Ringfire, Spsc, Spin, 8, n8, 1),
            ),
            (
                st(Ipcring, Spsc, Spin, BLOCK, n4k, 1),
                st(Ringfire, Spsc, Spin, BLOCK, n4k, 1),
            ),
        ],
    );
    let nb = c.stream / 5;
    streams(
        &format!(
            "Broadcast streaming to two subscriber processes on one CPU, lossless ({nb} x 8 B, each subscriber gets all)"
        ),
        &[
            (
                st(Ipcring, Broadcast, Spin, 8, nb, 2),
                st(Ringfire, Broadcast, Spin, 8, nb, 2),
            ),
            (
                st(Ipcring, Broadcast, Default, 8, nb, 2),
                st(Ringfire, Broadcast, Default, 8, nb, 2),
            ),
        ],
    );
}

fn across_threads(c: &Counts) {
    let kinds = [
        (
            "ipcring spsc (heap ring)",
            threads::ipcring_ends as fn() -> threads::Ends,
        ),
        ("rtrb 0.4", threads::rtrb_ends),
        ("crossbeam ArrayQueue", threads::crossbeam_ends),
    ];
    table::latency_header("8-byte round trip between two threads, busy-poll");
    let mut base = None;
    for (name, make) in kinds {
        let h = threads::round_trips(make(), c.warmup, c.n);
        table::latency_row(name, &h, base);
        base = base.or(Some(h.value_at_quantile(0.5)));
    }

    let (rounds, n) = (c.stream_rounds, c.stream / 5);
    table::rate_header(&format!(
        "8-byte streaming between two threads ({rounds} rounds of {n} values, median and range)"
    ));
    let mut rates = vec![Vec::new(); kinds.len()];
    for _ in 0..rounds {
        for ((_, make), rates) in kinds.iter().zip(&mut rates) {
            rates.push(threads::stream(make(), n));
        }
    }
    let mut base = None;
    for ((name, _), rates) in kinds.iter().zip(&mut rates) {
        let median = table::rates_row(name, 8, rates, base);
        base = base.or(Some(median));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child::main(&args[2..]);
        return;
    }
    cleanup::set_tag(cleanup::new_tag());
    let _guard = cleanup::install().expect("SIGINT/SIGTERM handler");
    let counts = if args.iter().any(|a| a == "--quick") {
        Counts {
            warmup: 10_000,
            n: 100_000,
            stream: 5_000_000,
            stream_rounds: 5,
        }
    } else {
        Counts {
            warmup: 100_000,
            n: 1_000_000,
            stream: 50_000_000,
            stream_rounds: 9,
        }
    };
    let pair = pin::choose(None).expect("sched_getaffinity");
    CPUS.set(pair).expect("set once");
    match pair {
        Some((a, _)) => pin::pin(a).expect("pin"),
        None => println!("one CPU only: running unpinned"),
    }
    across_processes(&counts);
    across_threads(&counts);
}
