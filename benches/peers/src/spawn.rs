//! The parent's handle on a child process: this binary again, as `child TAG NAME CPU JOB…`.
//! The child says `ready` on its stdout once its ends are attached and `done` after the
//! last message of a stream; a watchdog thread reaps it and aborts the whole run, cleanly,
//! if it fails (the parent could otherwise spin forever for an answer).

use crate::cleanup;
use crate::job::Job;
use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
use std::io::{BufRead, BufReader};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a child may take to exit after its last message.
const EXIT_PATIENCE: Duration = Duration::from_secs(60);

/// A running child.
#[derive(Debug)]
pub struct Child {
    out: BufReader<ChildStdout>,
    exited: mpsc::Receiver<()>,
    what: String,
}

impl Child {
    /// Starts a child that runs `job` on the rings called `name`, pinned to `cpu`.
    pub fn spawn(job: &Job, name: &str, cpu: Option<usize>) -> Child {
        let what = job.label();
        let exe = std::env::current_exe().unwrap_or_else(|e| cleanup::abort(&format!("{e}")));
        let mut cmd = Command::new(exe);
        cmd.arg("child")
            .args([cleanup::tag(), name])
            .arg(cpu.map_or("-".to_owned(), |c| c.to_string()))
            .args(job.to_args())
            .stdout(Stdio::piped());
        let mut child = cleanup::spawn(&mut cmd)
            .unwrap_or_else(|e| cleanup::abort(&format!("cannot start a child: {e}")));
        let pid = Pid::from_child(&child);
        let out = BufReader::new(child.stdout.take().expect("piped"));
        let (tx, exited) = mpsc::channel();
        let label = what.clone();
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                // Waits for the exit without reaping: the pid cannot be reused before the
                // registry forgets it.
                let _ = waitid(
                    WaitId::Pid(pid),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                );
                cleanup::forget(pid);
                match child.wait() {
                    Ok(s) if s.success() => {
                        let _ = tx.send(());
                    }
                    // Killed (and reaped) by the clean-up.
                    _ if cleanup::stopping() => {}
                    other => cleanup::abort(&format!("the {label} child failed ({other:?})")),
                }
            })
            .unwrap_or_else(|e| cleanup::abort(&format!("cannot start a thread: {e}")));
        Child { out, exited, what }
    }

    /// Waits for the child to print `line`.
    pub fn expect(&mut self, line: &str) {
        let mut got = String::new();
        match self.out.read_line(&mut got) {
            Ok(_) if got.trim_end() == line => {}
            r => cleanup::abort(&format!(
                "the {} child said {got:?} ({r:?}) instead of {line:?}",
                self.what
            )),
        }
    }

    /// Waits for the child to exit, successfully.
    pub fn finish(self) {
        if self.exited.recv_timeout(EXIT_PATIENCE).is_err() {
            cleanup::abort(&format!("the {} child did not exit", self.what));
        }
    }
}
