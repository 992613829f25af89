//! The cross-process measurements: the parent runs one end on the first CPU, its children
//! run the others on the second (see [`crate::child`]).

use crate::cleanup;
use crate::cpus;
use crate::job::{Job, Lib};
use crate::measure::{self, Msg, Sender, BLOCK};
use crate::spawn::Child;
use crate::{iceoryx, ipc, ringfire};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// A name for the rings of the next measurement, unique in the run.
fn next_name() -> String {
    // Relaxed: only this process's main thread counts, and only uniqueness matters.
    static COUNT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        cleanup::tag(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The children of one measurement.
struct Children<'a> {
    job: &'a Job,
    name: &'a str,
    list: Vec<Child>,
}

impl Children<'_> {
    /// Starts the job's children on the second CPU; returns once each is attached.
    fn start(&mut self) {
        let cpu = cpus().map(|c| c.1);
        for _ in 0..self.job.subscribers {
            self.list.push(Child::spawn(self.job, self.name, cpu));
        }
        for c in &mut self.list {
            c.expect("ready");
        }
    }

    fn finish(self) {
        for c in self.list {
            c.finish();
        }
    }
}

/// `warmup + n` 8-byte round trips of `job`; the histogram of the last `n`, in ns.
pub fn round_trip(job: &Job, warmup: u64, n: u64) -> Histogram<u64> {
    let name = next_name();
    let mut kids = Children {
        job,
        name: &name,
        list: Vec::new(),
    };
    let mut end = match job.lib {
        Lib::Ipcring => ipc::parent_end(job, &name, &mut || kids.start()),
        Lib::Ringfire => ringfire::parent_end(job, &name, &mut || kids.start()),
        Lib::Iceoryx2 => iceoryx::parent_end(&name, &mut || kids.start()),
    };
    let h = measure::round_trips(end.as_mut(), warmup, n);
    kids.finish();
    h
}

/// Streams the `job.n` messages of `job`; messages per second, from the first message
/// sent until every child has received the last one.
pub fn stream(job: &Job) -> f64 {
    if job.size == BLOCK {
        stream_of::<[u8; BLOCK]>(job)
    } else {
        stream_of::<u64>(job)
    }
}

fn stream_of<M: Msg>(job: &Job) -> f64 {
    let name = next_name();
    let mut kids = Children {
        job,
        name: &name,
        list: Vec::new(),
    };
    let mut tx: Box<dyn Sender<M>> = match job.lib {
        Lib::Ipcring => ipc::stream_tx(job, &name, &mut || kids.start()),
        Lib::Ringfire => ringfire::stream_tx(job, &name, &mut || kids.start()),
        Lib::Iceoryx2 => panic!("no iceoryx2 streams"),
    };
    let mut m = M::zeroed();
    let t0 = Instant::now();
    for i in 0..job.n {
        m.set_seq(i);
        tx.put(&m);
    }
    for c in &mut kids.list {
        c.expect("done");
    }
    let rate = job.n as f64 / t0.elapsed().as_secs_f64();
    kids.finish();
    rate
}
