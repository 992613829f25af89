//! Choosing two CPUs and pinning a thread to one.

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
use std::io;

/// CPU numbers are below this (`CPU_SETSIZE`).
pub const MAX_CPU: usize = CpuSet::MAX_CPU;

/// Pins the calling thread to `cpu` (below [`MAX_CPU`]).
pub fn pin(cpu: usize) -> io::Result<()> {
    if cpu >= MAX_CPU {
        return Err(io::Error::other(format!("no CPU {cpu}")));
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    // `None`: the calling thread.
    sched_setaffinity(None, &set)
        .map_err(|e| io::Error::other(format!("cannot pin to CPU {cpu}: {}", io::Error::from(e))))
}

/// The CPUs this process may run on, in order.
pub fn allowed() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(None)?;
    Ok((0..MAX_CPU).filter(|&i| set.is_set(i)).collect())
}

/// The pair to use: the one asked for, else the first two allowed CPUs; `None` when this
/// process may run on one CPU only (the benchmark then runs unpinned, and says so).
/// Call it before pinning: a pinned process (and its children) may run on one CPU only.
pub fn choose(asked: Option<(usize, usize)>) -> io::Result<Option<(usize, usize)>> {
    if asked.is_some() {
        return Ok(asked);
    }
    let cpus = allowed()?;
    Ok((cpus.len() >= 2).then(|| (cpus[0], cpus[1])))
}
