//! A coordinator that waits on a ring and on events in one `WaitSet`: a client's requests
//! come in on an SPSC ring, go out to three worker processes on an MPMC queue, and the
//! workers say "done" by notifying an event id, not by sending a message.
//!
//! ```text
//! cargo run --release --example job_events
//! ```
//!
//! The client sends 6 000 requests, a few microseconds apart. Each worker takes jobs from
//! the queue, works about 20 µs on each, and notifies its own id of the event segment.
//! When a third of the jobs are done, the coordinator kills one worker with `kill -9`:
//! its departure is itself an event, which the coordinator's wait reports (the seed's "a
//! process terminating notifies its parent"), and the job the dead worker held is
//! delivered again to another one. When the client is gone and every job is done, the
//! coordinator closes the queue; the workers leave, and each departure is reported.
//!
//! Checks: every request was forwarded once; the completions that the events counted are
//! at least the jobs and at most the jobs plus one per killed worker (the one it may have
//! finished without releasing); the killed worker and every worker that left are
//! reported. Exit status 0, or 1 if one does not hold; nothing is left in /dev/shm, also
//! after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::event::{self, Notifier, Party};
use ipcring::{mpmc, spsc, RecvError, SendError, WaitSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::Run;

const REQUESTS: u64 = 6_000;
const WORKERS: usize = 3;

/// Child: sends the requests, numbered, a few microseconds apart.
fn client(name: &str) -> ExitCode {
    let mut tx = spsc::Producer::open(name).expect("open the requests");
    for n in 0..REQUESTS {
        tx.send_value(&n).expect("send a request");
        support::busy(Duration::from_micros(3));
    }
    ExitCode::SUCCESS
}

/// Child: worker `id` takes jobs until the queue is closed, and notifies event `id` for
/// each one done. A job is read in place and released only once it is done and notified:
/// if the worker dies before, the queue delivers the job again to another worker.
fn worker(jobs: &str, events: &str, id: u32) -> ExitCode {
    let mut rx = mpmc::Consumer::open(jobs).expect("open the jobs");
    let mut done = Notifier::open(events).expect("open the events");
    println!("ready");
    loop {
        match rx.read() {
            Ok(job) => {
                support::busy(Duration::from_micros(20));
                done.notify(id).expect("notify");
                drop(job);
            }
            Err(RecvError::Disconnected) => return ExitCode::SUCCESS,
            Err(e) => panic!("take a job: {e}"),
        }
    }
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "client" => client(&args[0]),
            "worker" => worker(&args[0], &args[1], args[2].parse().expect("an id")),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("job_events");
    let (requests_name, jobs_name, events_name) =
        (run.queue("requests"), run.queue("jobs"), run.queue("done"));
    let mut requests = spsc::Consumer::create(&requests_name, 1 << 16).expect("create requests");
    let mut jobs = mpmc::Builder::new(&jobs_name)
        .capacity(8192)
        .slot_size(8)
        .create_producer()
        .expect("create the job queue");
    let mut listener = event::Builder::new(&events_name)
        .ids(WORKERS)
        .notifiers(WORKERS)
        .create_listener()
        .expect("create the events");
    let mut workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let id = id.to_string();
            run.spawn("worker", [jobs_name.as_str(), events_name.as_str(), &id])
        })
        .collect();
    for w in &mut workers {
        w.expect("ready");
    }
    let mut victim = Some(workers.remove(0));
    let client = run.spawn("client", [requests_name.as_str()]);

    let mut set = WaitSet::new();
    let (mut forwarded, mut done) = (0u64, [0u64; WORKERS]);
    let mut killed_at: Option<Instant> = None;
    let mut departures: Vec<(Party, usize, Option<Duration>)> = Vec::new();
    let mut client_gone = false;
    loop {
        let total: u64 = done.iter().sum();
        if client_gone && total >= forwarded {
            break;
        }
        let ready: Vec<usize> = if client_gone {
            set.wait(&mut [&mut listener]).iter().map(|_| 1).collect()
        } else {
            set.wait(&mut [&mut requests, &mut listener])
                .iter()
                .collect()
        };
        for i in ready {
            if i == 0 {
                loop {
                    match requests.try_recv_value::<u64>() {
                        Ok(n) => {
                            run.check(n == forwarded, "a request came out of order");
                            match jobs.try_send_value(&n) {
                                Ok(()) => forwarded += 1,
                                Err(SendError::Full) => run.fail("the job queue is full"),
                                Err(e) => run.fail(&format!("forward a job: {e}")),
                            }
                        }
                        Err(RecvError::Empty) => break,
                        Err(RecvError::Disconnected) => {
                            client_gone = true;
                            break;
                        }
                        Err(e) => run.fail(&format!("take a request: {e}")),
                    }
                }
                continue;
            }
            let fired = match listener.try_wait() {
                Ok(f) => f,
                Err(RecvError::Empty) => continue,
                Err(e) => run.fail(&format!("events: {e}")),
            };
            for (id, count) in fired.iter() {
                done[id as usize] += count;
            }
            for d in fired.departures() {
                departures.push((d.role, d.slot, killed_at.map(|t| t.elapsed())));
            }
        }
        let total: u64 = done.iter().sum();
        if total >= REQUESTS / 3 {
            if let Some(v) = victim.take() {
                killed_at = Some(Instant::now());
                v.kill9();
            }
        }
    }
    let (_, status) = client.finish();
    run.check(status.success(), "the client failed");
    let redelivered = jobs.stats().redelivered;
    // Close the queue: the workers drain it, see it closed and leave; each departure is
    // an event.
    drop(jobs);
    let left_before = departures.len();
    while departures.len() < left_before + WORKERS - 1 {
        match listener.wait_timeout(Duration::from_secs(10)) {
            Ok(fired) => {
                for (id, count) in fired.iter() {
                    done[id as usize] += count;
                }
                departures.extend(fired.departures().iter().map(|d| (d.role, d.slot, None)));
            }
            Err(e) => run.fail(&format!("waiting for the workers to leave: {e}")),
        }
    }
    for w in workers {
        let (_, status) = w.finish();
        run.check(status.success(), "a worker failed");
    }
    let total: u64 = done.iter().sum();
    run.check(forwarded == REQUESTS, "not every request was forwarded");
    run.check(
        (REQUESTS..=REQUESTS + 1).contains(&total),
        &format!("{total} completions for {REQUESTS} jobs"),
    );
    run.check(
        departures.len() == WORKERS && departures.iter().all(|d| d.0 == Party::Notifier),
        &format!("departures seen: {departures:?}"),
    );
    println!(
        "job_events: {forwarded} requests forwarded from a ring to {WORKERS} workers; {total} completions counted by events ({done:?} per worker)"
    );
    let (role, slot, after) = departures[0];
    println!(
        "  a worker killed with kill -9 after {} completions: reported as a departure ({role} slot {slot}) {:.1} ms after the kill; {redelivered} job(s) it held delivered again",
        REQUESTS / 3,
        after.map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "  the other {} workers left when the queue closed: reported as departures too",
        WORKERS - 1
    );
    ExitCode::SUCCESS
}
