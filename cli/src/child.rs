//! The second process of a benchmark: `ipcring child ...`, started by the parent with the
//! descriptors it must inherit; and the parent's handle on it.

use crate::cleanup;
use crate::crowd::Crowd;
use crate::mech::{self, seq_of, Mech, STOP};
use rustix::io::{fcntl_setfd, FdFlags};
use rustix::process::{set_parent_process_death_signal, Signal};
use std::io::{self, Read};
use std::os::fd::BorrowedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// What the child runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ChildArgs {
    #[arg(long, value_enum)]
    pub mech: Mech,
    /// Only answer the final message (throughput); otherwise echo every message.
    #[arg(long)]
    pub sink: bool,
    #[arg(long)]
    pub size: usize,
    #[arg(long)]
    pub cpu: Option<usize>,
    #[arg(long, value_delimiter = ',')]
    pub fds: Vec<i32>,
    #[arg(long, default_value = "")]
    pub name: String,
    #[arg(long, default_value_t = 0)]
    pub id: i32,
    /// A producer or consumer of a many-process throughput run (see `crowd`), instead of
    /// the echo or sink of a duplex link.
    #[arg(long, value_parser = Crowd::parse)]
    pub crowd: Option<Crowd>,
}

impl ChildArgs {
    /// The command line that parses back into `self`.
    pub fn to_args(&self) -> Vec<String> {
        let mut v = vec![
            "child".to_owned(),
            "--mech".to_owned(),
            self.mech.id(),
            "--size".to_owned(),
            self.size.to_string(),
            "--id".to_owned(),
            self.id.to_string(),
        ];
        if self.sink {
            v.push("--sink".to_owned());
        }
        if let Some(cpu) = self.cpu {
            v.extend(["--cpu".to_owned(), cpu.to_string()]);
        }
        if !self.fds.is_empty() {
            let fds: Vec<String> = self.fds.iter().map(i32::to_string).collect();
            v.extend(["--fds".to_owned(), fds.join(",")]);
        }
        if !self.name.is_empty() {
            v.extend(["--name".to_owned(), self.name.clone()]);
        }
        if let Some(c) = self.crowd {
            v.extend(["--crowd".to_owned(), c.arg()]);
        }
        v
    }
}

/// The child's main: echo (or sink) until the final message, checking every sequence
/// number; then print its voluntary context switches since the first message. A crowd
/// child plays its part instead (see `crowd::child`).
pub fn run(args: &ChildArgs) -> io::Result<()> {
    if let Some(cpu) = args.cpu {
        crate::cpus::pin(cpu)?;
    }
    if let Some(crowd) = args.crowd {
        return crate::crowd::child(args, crowd);
    }
    let mut link = mech::open_child(args)?;
    let mut buf = Vec::with_capacity(args.size);
    let mut expected = 1;
    let mut switches = 0;
    loop {
        link.recv(&mut buf);
        let seq = seq_of(&buf);
        if seq & STOP != 0 {
            link.send(&buf);
            break;
        }
        if seq != expected || buf.len() != args.size {
            return Err(io::Error::other(format!(
                "{:?}: got message {seq} of {} bytes, expected {expected} of {}",
                args.mech,
                buf.len(),
                args.size
            )));
        }
        expected += 1;
        // The first message is always answered: the parent starts its clock after it.
        if seq == 1 {
            switches = voluntary_switches(libc::RUSAGE_SELF);
        }
        if !args.sink || seq == 1 {
            link.send(&buf);
        }
    }
    println!("{}", voluntary_switches(libc::RUSAGE_SELF) - switches);
    Ok(())
}

/// Voluntary context switches (sleeps) of this process or thread so far.
///
/// Through libc: rustix has no `getrusage`.
pub fn voluntary_switches(who: libc::c_int) -> u64 {
    // SAFETY: an all-zero rusage is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is writable; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    unsafe { libc::getrusage(who, &mut ru) };
    ru.ru_nvcsw as u64
}

/// A running child. Dropping it without [`Running::finish`] kills it.
#[derive(Debug)]
pub struct Running {
    pid: i32,
    /// What the child printed, once it exited.
    done: mpsc::Receiver<String>,
    finished: bool,
}

/// Starts `ipcring child` with `args`; the descriptors in `args.fds` are inherited. A
/// watchdog thread reaps it; a child that fails aborts the whole run, cleanly.
pub fn spawn(args: &ChildArgs) -> io::Result<Running> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(args.to_args()).stdout(Stdio::piped());
    let fds = args.fds.clone();
    // SAFETY: between fork and exec we only make async-signal-safe calls (rustix's
    // fcntl and prctl are plain system calls) and allocate nothing.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                // Inherited across exec: clear FD_CLOEXEC. (`borrow_raw`: the parent keeps
                // these descriptors open until after the spawn.)
                fcntl_setfd(BorrowedFd::borrow_raw(fd), FdFlags::empty())?;
            }
            // Dies with the parent, whatever kills it.
            let _ = set_parent_process_death_signal(Some(Signal::KILL));
            Ok(())
        })
    };
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    cleanup::add_child(pid);
    let mut out = child.stdout.take().expect("piped");
    let (tx, done) = mpsc::channel();
    let what = format!("{:?}", args.mech);
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            cleanup::forget_child(pid);
            let status = child.wait();
            match status {
                Ok(s) if s.success() => {
                    let _ = tx.send(text);
                }
                // Killed by `Running::drop`: nobody waits for it any more.
                _ if tx.send(String::new()).is_err() => {}
                other => cleanup::abort(&format!("the {what} child failed: {other:?}")),
            }
        })?;
    Ok(Running {
        pid,
        done,
        finished: false,
    })
}

impl Running {
    /// Waits for the child to exit after its final message; returns its voluntary context
    /// switches since the first message.
    pub fn finish(self) -> u64 {
        self.finish_words().first().copied().unwrap_or(0)
    }

    /// Waits for the child to exit after its final message; returns the numbers it
    /// printed (a crowd child's report).
    pub fn finish_words(mut self) -> Vec<u64> {
        self.finished = true;
        match self.done.recv_timeout(Duration::from_secs(60)) {
            Ok(text) => text
                .split_whitespace()
                .map(|w| w.parse().unwrap_or(0))
                .collect(),
            Err(_) => cleanup::abort("a child did not exit after its final message"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.finished {
            // The watchdog has not reaped the child (it reaps only after the child closed
            // its stdout, which a live child has not), so the pid is still the child's.
            cleanup::kill(self.pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(subcommand)]
        c: Sub,
    }
    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Child(ChildArgs),
    }

    #[test]
    fn child_arguments_parse_back() {
        let a = ChildArgs {
            mech: Mech::RingDefault,
            sink: true,
            size: 4096,
            cpu: Some(1),
            fds: vec![5, 7],
            name: "bench-1-2".into(),
            id: 3,
            crowd: Some(Crowd {
                producers: 2,
                consumers: 2,
                consumer: false,
                index: 1,
            }),
        };
        let Sub::Child(b) = Wrap::parse_from(std::iter::once("x".to_owned()).chain(a.to_args())).c;
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
}
