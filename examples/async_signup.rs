//! Background jobs after a sign-up: a web process registers 10 000 users and, for each,
//! queues a "mail" job and an "sms" job in an MPMC work queue; two worker processes do the
//! jobs (about 50 µs of work each). The request path never waits for the workers.
//!
//! ```text
//! cargo run --release --example async_signup
//! ```
//!
//! It first registers the users doing both jobs inline, then with the jobs queued, and
//! prints the web process's per-registration latency (p50/p99) both ways. Invariant,
//! checked: every job is done exactly once (each worker reports the jobs it did; their
//! counts and digests must add up to every job of every user, with no job twice).
//! Exit status 0, or 1 if the invariant does not hold; nothing is left in /dev/shm, also
//! after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::mpmc::{Builder, Consumer};
use ipcring::RecvError;
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::{busy, mix, percentile, Run};

const USERS: u64 = 10_000;
const WORKERS: usize = 2;
/// The work of one job (sending a mail, an SMS).
const JOB: Duration = Duration::from_micros(50);
/// The web process's own work for one registration (validate, store).
const REGISTER: Duration = Duration::from_micros(2);

/// A job: the user, and what to do (0: mail, 1: SMS). A plain-old-data value.
type Job = [u64; 2];

/// A number for each job of each user.
fn id([user, kind]: Job) -> u64 {
    user * 2 + kind
}

/// Registers every user with `jobs` doing (or queueing) the two jobs; returns the
/// latency of each registration in nanoseconds.
fn register_all(mut jobs: impl FnMut(u64)) -> Vec<u64> {
    (0..USERS)
        .map(|user| {
            let start = Instant::now();
            busy(REGISTER);
            jobs(user);
            start.elapsed().as_nanos() as u64
        })
        .collect()
}

/// A worker: does jobs until the web process is gone; says how many, their digest, and
/// how many it got twice.
fn worker(queue: &str) -> ExitCode {
    let mut rx = Consumer::open(queue).expect("open the job queue");
    println!("ready");
    let mut seen = HashSet::new();
    let (mut digest, mut twice) = (0u64, 0u64);
    loop {
        let job: Job = match rx.recv_value() {
            Ok(job) => job,
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("worker: {e}"),
        };
        busy(JOB);
        if !seen.insert(id(job)) {
            twice += 1;
        }
        digest = digest.wrapping_add(mix(id(job)));
    }
    println!("done {} {digest} {twice}", seen.len());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        assert_eq!(role, "worker");
        return worker(&args[0]);
    }
    let run = Run::start("async_signup");
    let mut inline = register_all(|_| {
        busy(JOB); // mail
        busy(JOB); // sms
    });

    let queue = run.queue("jobs");
    let mut web = Builder::new(&queue)
        .capacity(1 << 15)
        .slot_size(std::mem::size_of::<Job>())
        .producers(1)
        .consumers(WORKERS)
        .create_producer()
        .expect("create the job queue");
    let mut workers: Vec<_> = (0..WORKERS)
        .map(|_| run.spawn("worker", [&queue]))
        .collect();
    for w in &mut workers {
        w.expect("ready");
    }
    let started = Instant::now();
    let mut queued = register_all(|user| {
        for kind in 0..2 {
            web.send_value(&[user, kind]).expect("queue a job");
        }
    });
    let web_done = started.elapsed();
    let stats = web.stats();
    drop(web); // the workers finish the queue, then see the web process gone
    let (mut done, mut digest, mut twice) = (0u64, 0u64, 0u64);
    for w in workers {
        let (lines, status) = w.finish();
        run.check(status.success(), "a worker failed");
        let line = lines.iter().find_map(|l| l.strip_prefix("done "));
        let nums: Vec<u64> = line
            .unwrap_or_else(|| run.fail("a worker did not report"))
            .split(' ')
            .map(|n| n.parse().expect("a number"))
            .collect();
        done += nums[0];
        digest = digest.wrapping_add(nums[1]);
        twice += nums[2];
    }
    let all_done = started.elapsed();
    let want = (0..2 * USERS).map(mix).fold(0, u64::wrapping_add);
    run.check(
        done == 2 * USERS,
        &format!("{done} jobs done of {}", 2 * USERS),
    );
    run.check(twice == 0, &format!("{twice} jobs done twice"));
    run.check(digest == want, "the jobs done are not the jobs queued");

    let us = |ns: u64| ns as f64 / 1000.0;
    println!(
        "async_signup: {USERS} users, 2 jobs each (~50 µs of work per job), {WORKERS} workers"
    );
    println!("registration latency    p50        p99");
    for (how, lat) in [("jobs inline", &mut inline), ("jobs queued", &mut queued)] {
        let (p50, p99) = (percentile(lat, 0.5), percentile(lat, 0.99));
        println!("  {how:<18} {:>7.1} µs {:>7.1} µs", us(p50), us(p99));
    }
    println!(
        "web done after {web_done:.2?}; workers done after {all_done:.2?}; queue high-water \
         {} of {} slots",
        stats.high_water,
        1 << 15
    );
    println!("every one of the {done} jobs done exactly once");
    ExitCode::SUCCESS
}
