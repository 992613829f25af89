//! Choosing two CPUs and pinning a thread to one (shared by the `ipcring bench` tool and the criterion benches
//! through `#[path]` includes).

use std::io;

/// Pins the calling thread to `cpu` (below `CPU_SETSIZE`).
pub fn pin(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::other(format!("no CPU {cpu}")));
    }
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size we pass; 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc != 0 {
        return Err(io::Error::other(format!(
            "cannot pin to CPU {cpu}: {}",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// The CPUs this process may run on, in order.
pub fn allowed() -> io::Result<Vec<usize>> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable cpu_set_t of the size we pass.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((0..libc::CPU_SETSIZE as usize)
        // SAFETY: `i` is below CPU_SETSIZE.
        .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
        .collect())
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
