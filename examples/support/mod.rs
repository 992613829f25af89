//! What the scenario programs share: running roles as child processes of the same
//! program, removing every queue on every way out (Ctrl-C included), percentiles, and
//! failing loudly when an invariant does not hold.
//!
//! A scenario's `main` calls [`role`] first: in a child it returns the role to play. The
//! parent makes a [`Run`], which names the queues, starts the children, and on drop — or on
//! SIGINT/SIGTERM, or past its deadline, from a thread of its own — kills the children and
//! removes the queues and files of the run.

#![allow(dead_code)] // each scenario uses the part it needs

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The first argument that makes a run of the program a child role.
const ROLE_FLAG: &str = "--role";

/// Queues, files and children to clean up.
struct Registry {
    queues: Vec<String>,
    file_rings: Vec<PathBuf>,
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    children: Vec<u32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    queues: Vec::new(),
    file_rings: Vec::new(),
    files: Vec::new(),
    dirs: Vec::new(),
    children: Vec::new(),
});

/// Set by the signal or the deadline thread before it kills the children: a child's
/// output that ends then is the interruption, not a failure to report.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn registry() -> MutexGuard<'static, Registry> {
    // A panic elsewhere must not stop the clean-up.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn kill(pid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

fn clean_all(r: &mut Registry) {
    r.children.drain(..).for_each(kill);
    for q in r.queues.drain(..) {
        let _ = ipcring::unlink(&q);
    }
    for f in r.file_rings.drain(..) {
        let _ = ipcring::remove_file_ring(f);
    }
    for f in r.files.drain(..) {
        let _ = std::fs::remove_file(f);
    }
    for d in r.dirs.drain(..) {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// In a child run: the role and its arguments (`PROGRAM --role ROLE ARGS...`). A child
/// also dies with its parent, so that a killed scenario leaves no orphans behind.
pub fn role() -> Option<(String, Vec<String>)> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(ROLE_FLAG) {
        return None;
    }
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .expect("prctl(PR_SET_PDEATHSIG)");
    let role = args.next().expect("a role after --role");
    Some((role, args.collect()))
}

/// A scenario run, in the parent.
pub struct Run {
    program: &'static str,
}

impl Run {
    /// Starts a run: from now on, Ctrl-C kills the children, removes the queues and exits
    /// with status 130.
    pub fn start(program: &'static str) -> Run {
        let mut signals = Signals::new([SIGINT, SIGTERM]).expect("signal handlers");
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                STOPPING.store(true, Ordering::SeqCst);
                clean_all(&mut registry());
                eprintln!("{program}: interrupted; children stopped, queues removed");
                std::process::exit(128 + sig);
            }
        });
        Run { program }
    }

    /// A queue name of this run (`PROGRAM-PID-TAG`), removed at the end of the run.
    pub fn queue(&self, tag: &str) -> String {
        let name = format!("{}-{}-{tag}", self.program, std::process::id());
        registry().queues.push(name.clone());
        name
    }

    /// A file of this run in the temporary directory (`PROGRAM-PID-TAG`), removed at the
    /// end of the run.
    pub fn file(&self, tag: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("{}-{}-{tag}", self.program, std::process::id()));
        registry().files.push(path.clone());
        path
    }

    /// Removes the file-backed ring at `path` at the end of the run, if it is there then.
    pub fn remove_file_ring_at_end(&self, path: PathBuf) {
        registry().file_rings.push(path);
    }

    /// Removes the file at `path` at the end of the run, if it is there then.
    pub fn remove_file_at_end(&self, path: PathBuf) {
        registry().files.push(path);
    }

    /// Removes the directory at `path` and all in it at the end of the run.
    pub fn remove_dir_at_end(&self, path: PathBuf) {
        registry().dirs.push(path);
    }

    /// Kills the process `pid` (one the run started other than by [`Run::spawn`]) at
    /// the end of the run, if it still runs then.
    pub fn kill_at_end(&self, pid: u32) {
        registry().children.push(pid);
    }

    /// Fails the run if it has not ended after `limit`: a hung child or a wait that
    /// never ends fails it rather than hanging it.
    pub fn deadline(&self, limit: Duration) {
        let program = self.program;
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            STOPPING.store(true, Ordering::SeqCst);
            clean_all(&mut registry());
            eprintln!("{program}: FAILED: still running after {limit:?}; children stopped");
            std::process::exit(1);
        });
    }

    /// Starts this program again as the child `role` with `args`; its stdout is piped to
    /// us (see [`Worker::lines`]).
    pub fn spawn<S: AsRef<OsStr>>(&self, role: &str, args: impl IntoIterator<Item = S>) -> Worker {
        let exe = std::env::current_exe().expect("path of this program");
        let mut r = registry();
        let child = Command::new(exe)
            .arg(ROLE_FLAG)
            .arg(role)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a child");
        r.children.push(child.id());
        let mut child = child;
        let out = BufReader::new(child.stdout.take().expect("piped stdout"));
        Worker {
            role: role.to_owned(),
            child,
            out,
        }
    }

    /// Ends the run with a violated invariant: cleans up and exits with status 1.
    pub fn fail(&self, what: &str) -> ! {
        clean_all(&mut registry());
        eprintln!("{}: INVARIANT VIOLATED: {what}", self.program);
        std::process::exit(1);
    }

    /// Fails the run unless `ok`.
    pub fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        clean_all(&mut registry());
    }
}

/// A child process of the run.
pub struct Worker {
    role: String,
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Worker {
    /// The next line of the child's stdout that starts with `key`, without it.
    pub fn expect(&mut self, key: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            if self
                .out
                .read_line(&mut line)
                .expect("read a child's output")
                == 0
            {
                // A Ctrl-C at the terminal reaches the children too, and may end one
                // before our signal thread runs: give it a moment, then let it end the
                // process.
                for _ in 0..50 {
                    while STOPPING.load(Ordering::SeqCst) {
                        std::thread::park();
                    }
                    std::thread::sleep(Duration::from_millis(4));
                }
                panic!("child {} ended before saying {key:?}", self.role);
            }
            if let Some(rest) = line.trim_end().strip_prefix(key) {
                return rest.trim().to_owned();
            }
        }
    }

    /// Reads the child's `key N` lines until N reaches `at_least`; returns that N.
    pub fn wait_for(&mut self, key: &str, at_least: u64) -> u64 {
        loop {
            let n = self.expect(key).parse().expect("a count");
            if n >= at_least {
                return n;
            }
        }
    }

    /// `kill -9`, then reap.
    pub fn kill9(mut self) {
        kill(self.child.id());
        registry().children.retain(|&p| p != self.child.id());
        let _ = self.child.wait();
    }

    /// Waits for the child and returns its output lines and exit status.
    pub fn finish(mut self) -> (Vec<String>, ExitStatus) {
        let lines = (&mut self.out).lines().map_while(Result::ok).collect();
        let status = self.child.wait().expect("wait for a child");
        registry().children.retain(|&p| p != self.child.id());
        (lines, status)
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The value at quantile `q` (0..=1) of `samples`, which it sorts.
pub fn percentile(samples: &mut [u64], q: f64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    samples.sort_unstable();
    let i = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[i]
}

/// Keeps the CPU busy for `d`: simulated work that does not sleep.
pub fn busy(d: Duration) {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Scrambles a number (the splitmix64 finaliser): digests of sets of ids, so that a lost
/// and a duplicated id do not cancel out.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
