//! Everything a run creates is named after its tag, `peers-<pid of the parent>`: ipcring
//! segments (`/dev/shm/ipcring.<tag>-…`), ringfire rings (`/dev/shm/<tag>-…`) and
//! iceoryx2's private domain (its prefix `<tag>-iox2_` in /dev/shm, its root directory
//! `/tmp/<tag>-iceoryx2/`). So the run can remove all of it on every way out — the end of
//! `main`, a panic, a failed child, SIGINT and SIGTERM — also what a library leaves behind
//! on purpose (iceoryx2's global management segment) or when its process was killed.
//!
//! Children are spawned with the registry locked and forgotten before their watchdog reaps
//! them, so the clean-up kills and reaps every live child and never signals a reused pid.

use rustix::process::{kill_process, waitid, Pid, Signal, WaitId, WaitIdOptions};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Where POSIX shared memory objects live.
const SHM: &str = "/dev/shm";

static TAG: OnceLock<String> = OnceLock::new();
static CHILDREN: Mutex<Vec<Pid>> = Mutex::new(Vec::new());
/// Set once the run stops its children on its way out.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The tag of a run started by this process.
pub fn new_tag() -> String {
    format!("peers-{}", std::process::id())
}

/// Sets the run's tag (once, first thing in `main`: the parent's own, or the one a child
/// was given).
pub fn set_tag(tag: String) {
    TAG.set(tag).expect("the tag is set once");
}

pub fn tag() -> &'static str {
    TAG.get().expect("the tag is set first")
}

/// The pid of the process that started the run.
pub fn parent_pid() -> Option<Pid> {
    let pid = tag().strip_prefix("peers-")?.parse().ok()?;
    Pid::from_raw(pid)
}

/// A path in /dev/shm.
pub fn shm_path(name: &str) -> PathBuf {
    Path::new(SHM).join(name)
}

/// iceoryx2's root directory for this run.
pub fn iceoryx_root() -> String {
    format!("/tmp/{}-iceoryx2/", tag())
}

/// The prefix of every file iceoryx2 creates for this run.
pub fn iceoryx_prefix() -> String {
    format!("{}-iox2_", tag())
}

/// Whether the /dev/shm entry `name` belongs to this run.
fn ours(name: &str) -> bool {
    let bare = name.strip_prefix("ipcring.").unwrap_or(name);
    bare.strip_prefix(tag())
        .is_some_and(|rest| rest.starts_with('-'))
}

/// The names of this run's entries in /dev/shm.
pub fn leftovers() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(SHM) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| ours(n))
        .collect()
}

/// Removes this run's entries in /dev/shm and iceoryx2's root directory.
fn remove_files() {
    for name in leftovers() {
        let path = shm_path(&name);
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
    let _ = std::fs::remove_dir_all(iceoryx_root());
}

fn children() -> MutexGuard<'static, Vec<Pid>> {
    // A panic elsewhere must not stop the clean-up.
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills every registered child and reaps it, then removes the run's files. Returns with
/// the registry locked, so no child can be started meanwhile (nor its watchdog go on: it
/// waits for the registry to forget its child).
fn stop_all() -> MutexGuard<'static, Vec<Pid>> {
    let mut kids = children();
    // Relaxed: a flag for the panic hook and the watchdogs, which stay quiet about what
    // this causes (a parent's end whose peer vanished, a killed child); nothing is
    // published with it.
    STOPPING.store(true, Ordering::Relaxed);
    for &pid in kids.iter() {
        let _ = kill_process(pid, Signal::KILL);
    }
    for pid in kids.drain(..) {
        // Gone for sure before its files go: a dead child creates nothing more.
        let _ = waitid(WaitId::Pid(pid), WaitIdOptions::EXITED);
    }
    remove_files();
    kids
}

/// Whether the run is stopping its children on its way out (they then fail, expectedly).
pub fn stopping() -> bool {
    STOPPING.load(Ordering::Relaxed)
}

/// Stops every child, removes the run's files, and exits with status 1.
pub fn abort(why: &str) -> ! {
    let _kids = stop_all();
    eprintln!("\npeers: {why}; children stopped, shared memory removed");
    std::process::exit(1);
}

/// Removes the run's files when dropped: at the end of `main`, and when it unwinds.
#[derive(Debug)]
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        drop(stop_all());
        let left = leftovers();
        if !left.is_empty() {
            eprintln!("peers: could not remove from {SHM}: {left:?}");
        }
    }
}

/// Starts the thread that cleans up and exits on SIGINT or SIGTERM; the returned guard
/// cleans up when dropped. Call once the tag is set, before any child exists.
pub fn install() -> io::Result<Guard> {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !stopping() {
            report(info);
        }
    }));
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("cleanup".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Exits with the registry locked: no child can be started meanwhile.
                let _kids = stop_all();
                eprintln!("\npeers: interrupted; children stopped, shared memory removed");
                std::process::exit(128 + sig);
            }
        })?;
    Ok(Guard(()))
}

/// Spawns `cmd` and registers the child, with the registry locked: a signal cannot come
/// between the two.
pub fn spawn(cmd: &mut Command) -> io::Result<std::process::Child> {
    let mut kids = children();
    let child = cmd.spawn()?;
    kids.push(Pid::from_child(&child));
    Ok(child)
}

/// Called once the child has exited and before it is reaped.
pub fn forget(pid: Pid) {
    children().retain(|&p| p != pid);
}
