//! Everything a benchmark creates is registered here, so that it is removed on every way
//! out: normal drops, a failed child, and SIGINT/SIGTERM (handled by a thread that waits
//! for them with `sigwait`, so the clean-up runs as ordinary code, not in a handler).

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

/// SIGINT and SIGTERM.
fn signals() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set it is given; the signals are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    }
}

/// Blocks SIGINT/SIGTERM in this thread and every thread started after it, and starts
/// the thread that cleans up and exits when one arrives. Call first, from `main`'s thread.
pub fn install() -> io::Result<()> {
    let set = signals();
    // SAFETY: a valid set; we do not need the old mask.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new()
        .name("cleanup".into())
        .spawn(move || {
            let mut sig = 0;
            // SAFETY: a valid set (blocked in this thread too) and a writable int.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                // Exit with the registry locked: nothing new can be created meanwhile.
                let mut r = registry();
                clean_all(&mut r);
                eprintln!("\nipcring bench: interrupted; children stopped, segments removed");
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// For a child between fork and exec: unblocks the two signals again (the mask is
/// inherited across exec). Async-signal-safe.
pub fn unblock_signals() -> io::Result<()> {
    let set = signals();
    // SAFETY: a valid set; sigprocmask is async-signal-safe.
    if unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Stops every child, removes every ring and queue, and exits with status 1.
pub fn abort(why: &str) -> ! {
    let mut r = registry();
    clean_all(&mut r);
    eprintln!("\nipcring bench: {why}; children stopped, segments removed");
    std::process::exit(1);
}

fn clean_all(r: &mut Registry) {
    for pid in r.children.drain(..) {
        // SAFETY: plain syscall; the pid is a child we have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
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
