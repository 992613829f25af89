//! A supervisor and workers that share rings no other process can reach: anonymous rings
//! in sealed memfds, named nowhere, handed over by inheritance and over a unix socket.
//!
//! ```text
//! cargo run --release --example sandboxed_workers
//! ```
//!
//! The supervisor makes three anonymous rings: an MPMC job queue, an MPMC queue of
//! results, and a lossy broadcast topic of progress. It starts three workers, which
//! inherit the two queues' descriptors (their numbers on the command line) and nothing
//! else: they need no access to `/dev/shm` or any file. An auditor, started without any
//! descriptor, connects to the supervisor's unix socket and receives the progress topic's
//! descriptor there (`SCM_RIGHTS`). The supervisor sends 30 000 jobs; each worker squares
//! the number and sends it back. A third of the way in, one worker is killed with
//! `kill -9`: the job it held is delivered again to another worker, and the supervisor,
//! which keeps the first answer of each job, sees the duplicate at most once.
//!
//! Checks: every job answered, with the right value; every surviving worker left when
//! the queue closed; the auditor saw the final progress. Exit status 0, or 1 if one does
//! not hold. The rings vanish with the last process that holds them, also after Ctrl-C:
//! nothing is ever in `/dev/shm`.

#[path = "support/mod.rs"]
mod support;

use ipcring::{broadcast, mpmc, RecvError, RingFd};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::time::Duration;
use support::Run;

const JOBS: u64 = 30_000;
const WORKERS: usize = 3;
/// Progress published when every job is answered.
const DONE: u64 = u64::MAX;

/// The ring whose inherited descriptor number is `arg`.
fn inherited(arg: &str) -> RingFd {
    let n: i32 = arg.parse().expect("a descriptor number");
    // SAFETY: the supervisor left this descriptor open across exec for us alone.
    RingFd::from(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Child: takes jobs until the queue is closed and drained, answers `[job, job²]`, and
/// releases each job only once it is answered: a job of a worker killed before that is
/// delivered again.
fn worker(jobs: &str, results: &str) -> ExitCode {
    let mut rx = mpmc::Builder::fd(&inherited(jobs))
        .open_consumer()
        .expect("open the jobs");
    let mut tx = mpmc::Builder::fd(&inherited(results))
        .open_producer()
        .expect("open the results");
    println!("ready");
    let mut done = 0u64;
    loop {
        let grant = match rx.read() {
            Ok(grant) => grant,
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("worker: {e}"),
        };
        let job: u64 = grant.value().expect("a job of 8 bytes");
        tx.send_value(&[job, job * job]).expect("answer");
        drop(grant);
        done += 1;
        if done % 1000 == 0 {
            println!("done {done}");
        }
    }
    println!("left {done}");
    ExitCode::SUCCESS
}

/// Child: receives the progress topic over the socket at `socket`, follows it to the end.
fn auditor(socket: &str) -> ExitCode {
    let stream = UnixStream::connect(socket).expect("connect to the supervisor");
    let topic = RingFd::recv(&stream).expect("the progress topic");
    let mut rx = broadcast::Builder::fd(&topic)
        .open_subscriber()
        .expect("subscribe");
    println!("subscribed");
    let mut last = 0;
    loop {
        match rx.recv_value::<u64>() {
            Ok(DONE) => break,
            Ok(n) => last = n,
            // A lossy topic: an auditor that falls behind skips ahead.
            Err(RecvError::Lagged { .. }) => {}
            Err(e) => panic!("auditor: {e}"),
        }
    }
    println!("final {last}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "worker" => worker(&args[0], &args[1]),
            "auditor" => auditor(&args[0]),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("sandboxed_workers");
    let (jobs, results, progress) = (
        RingFd::new("jobs").expect("memfd"),
        RingFd::new("results").expect("memfd"),
        RingFd::new("progress").expect("memfd"),
    );
    let mut job_tx = mpmc::Builder::fd(&jobs)
        .capacity(1024)
        .slot_size(8)
        .consumers(WORKERS + 1)
        .create_producer()
        .expect("create the jobs");
    let mut result_rx = mpmc::Builder::fd(&results)
        .capacity(1024)
        .slot_size(16)
        .producers(WORKERS + 1)
        .create_consumer()
        .expect("create the results");
    let mut progress_tx = broadcast::Builder::fd(&progress)
        .capacity(64)
        .slot_size(8)
        .lossy(true)
        .create_publisher()
        .expect("create the progress topic");

    // The workers inherit the two queues; the descriptors are closed here once they run.
    let (jobs_fd, results_fd) = (
        jobs.inheritable().expect("dup"),
        results.inheritable().expect("dup"),
    );
    let (j, r) = (
        jobs_fd.as_raw_fd().to_string(),
        results_fd.as_raw_fd().to_string(),
    );
    let mut workers: Vec<_> = (0..WORKERS)
        .map(|_| run.spawn("worker", [&j, &r]))
        .collect();
    drop((jobs_fd, results_fd));
    for w in &mut workers {
        w.expect("ready");
    }
    // The auditor gets the topic over a unix socket.
    let socket = run.file("socket");
    let listener = UnixListener::bind(&socket).expect("bind");
    let socket_arg = socket.to_str().expect("a UTF-8 path").to_owned();
    let mut audit = run.spawn("auditor", [&socket_arg]);
    let (stream, _) = listener.accept().expect("the auditor connects");
    progress.send(&stream).expect("send the topic");
    audit.expect("subscribed");

    let mut answers: Vec<Option<u64>> = vec![None; JOBS as usize];
    let (mut answered, mut again, mut sent) = (0u64, 0u64, 0u64);
    let mut victim = Some(workers.remove(0));
    while answered < JOBS {
        // Keep the queue fed without blocking on it while results wait.
        while sent < JOBS && job_tx.try_send_value(&sent).is_ok() {
            sent += 1;
        }
        match result_rx.read_timeout(Duration::from_millis(1)) {
            Ok(grant) => {
                let [job, square] = grant.value::<[u64; 2]>().expect("an answer of 16 bytes");
                drop(grant);
                let slot = &mut answers[job as usize];
                if slot.is_some() {
                    again += 1;
                } else {
                    *slot = Some(square);
                    answered += 1;
                    let _ = progress_tx.send_value(&answered);
                }
            }
            Err(RecvError::Timeout) => {}
            Err(e) => run.fail(&format!("results: {e}")),
        }
        if answered == JOBS / 3 {
            if let Some(w) = victim.take() {
                w.kill9();
            }
        }
    }
    progress_tx.send_value(&DONE).expect("publish the end");
    let redelivered = job_tx.stats().redelivered;
    drop(job_tx); // the workers drain the queue and leave
    let mut left = 0;
    for w in workers {
        let (lines, status) = w.finish();
        run.check(status.success(), "a worker failed");
        left += lines.iter().filter(|l| l.starts_with("left")).count();
    }
    let final_seen = audit.expect("final");
    let (_, status) = audit.finish();
    run.check(status.success(), "the auditor failed");

    let wrong = (0..JOBS)
        .filter(|&n| answers[n as usize] != Some(n * n))
        .count();
    run.check(
        wrong == 0,
        &format!("{wrong} jobs without their right answer"),
    );
    run.check(left == WORKERS - 1, "a surviving worker did not leave");
    run.check(
        final_seen == JOBS.to_string(),
        &format!("the auditor's last progress was {final_seen}"),
    );
    println!("sandboxed_workers: {JOBS} jobs over anonymous rings, {WORKERS} workers, one killed");
    println!(
        "  every job answered right; {redelivered} delivered again after the kill, \
         {again} of them answered twice"
    );
    println!("  auditor, given the topic over a unix socket, saw progress reach {final_seen}");
    ExitCode::SUCCESS
}
