//! Everything a benchmark creates is registered here, so that it is removed on every way
//! out: normal drops, a failed child, and SIGINT/SIGTERM (caught with signal-hook, whose
//! handler only records the signal; a thread that waits for it runs the clean-up as
//! ordinary code, not in a handler).
//!
//! System V message queues go through libc: rustix has no `msgget`/`msgctl`.

use rustix::process::{kill_process, Pid, Signal};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug)]
struct Registry {
    rings: Vec<String>,
    sysv: Vec<i32>,
    children: Vec<i32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    rings: Vec::new(),
    sysv: Vec::new(),
    children: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic elsewhere must not stop the clean-up.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Catches SIGINT/SIGTERM from now on, and starts the thread that cleans up and exits
/// (status 128 + the signal: 130, 143) when one arrives. Call before creating anything.
///
/// A child process gets the default actions back at `exec`.
pub fn install() -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("cleanup".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Exit with the registry locked: nothing new can be created meanwhile.
                let mut r = registry();
                clean_all(&mut r);
                eprintln!("\nipcring bench: interrupted; children stopped, segments removed");
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// Sends SIGKILL to the child `pid`.
pub fn kill(pid: i32) {
    if let Some(pid) = Pid::from_raw(pid) {
        // A child that is gone already only makes this fail.
        let _ = kill_process(pid, Signal::KILL);
    }
}

/// Stops every child, removes every ring and queue, and exits with status 1.
pub fn abort(why: &str) -> ! {
    let mut r = registry();
    clean_all(&mut r);
    eprintln!("\nipcring bench: {why}; children stopped, segments removed");
    std::process::exit(1);
}

fn clean_all(r: &mut Registry) {
    // Children we have not reaped yet: the pids are still theirs.
    for pid in r.children.drain(..) {
        kill(pid);
    }
    for name in r.rings.drain(..) {
        let _ = ipcring::unlink(&name);
    }
    for id in r.sysv.drain(..) {
        // SAFETY: plain syscall on a queue id; a stale id only fails.
        unsafe { libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

/// A child process, killed on Ctrl-C until it is [`forget_child`]-ed.
pub fn add_child(pid: i32) {
    registry().children.push(pid);
}

/// Called before reaping a child, so that its pid is never signalled after reuse.
pub fn forget_child(pid: i32) {
    registry().children.retain(|&p| p != pid);
}

/// An ipcring ring name, unlinked when dropped (and on Ctrl-C).
#[derive(Debug)]
pub struct RingName(pub String);

impl RingName {
    /// Creates a ring with `create(name)`, registered so that it is unlinked on every way
    /// out. The registry stays locked meanwhile, so a Ctrl-C cannot slip in between.
    pub fn create<T>(
        name: String,
        create: impl FnOnce(&str) -> io::Result<T>,
    ) -> io::Result<(RingName, T)> {
        let mut r = registry();
        let made = create(&name)?;
        r.rings.push(name.clone());
        Ok((RingName(name), made))
    }
}

impl Drop for RingName {
    fn drop(&mut self) {
        registry().rings.retain(|n| *n != self.0);
        let _ = ipcring::unlink(&self.0);
    }
}

/// A System V message queue, removed when dropped (and on Ctrl-C).
#[derive(Debug)]
pub struct SysvQueue(pub i32);

impl SysvQueue {
    pub fn create() -> io::Result<SysvQueue> {
        // Locked before the queue exists: a Ctrl-C cannot slip in between.
        let mut r = registry();
        // SAFETY: plain syscall creating a private queue.
        let id = unsafe { libc::msgget(libc::IPC_PRIVATE, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return Err(io::Error::last_os_error());
        }
        r.sysv.push(id);
        Ok(SysvQueue(id))
    }
}

impl Drop for SysvQueue {
    fn drop(&mut self) {
        registry().sysv.retain(|&i| i != self.0);
        // SAFETY: plain syscall on our own queue id.
        unsafe { libc::msgctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}
