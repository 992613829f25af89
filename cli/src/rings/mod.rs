//! The commands that work on rings: see them (`list`, `inspect`, `watch`), make and remove
//! them (`create`, `rm`, `gc`), move messages through them from a shell (`send`, `recv`),
//! set and get a blackboard's values (`set`, `get`), and fire and wait for events
//! (`notify`, `listen`), and with the feature `nats`, bridge them to NATS JetStream
//! (`bridge out`, `bridge in`). Each takes a ring in /dev/shm by its name or a file-backed ring
//! by its path (see `target`); `list` and `gc` take directories of file rings.

pub mod board;
#[cfg(feature = "nats")]
pub mod bridge;
pub mod events;
pub mod housekeeping;
pub mod listing;
pub mod pipe;
mod render;
pub mod target;
pub mod units;

use ipcring::survey::Kind;
use ipcring::OpenError;
use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use target::Target;

/// Exit codes that tell a script what happened, besides 0 (success), 1 (an error), 2 (a
/// usage error) and 130 (interrupted).
pub mod exit {
    /// `get`: the entry was never set.
    pub const NOT_SET: u8 = 3;
    /// `get`: the entry's writer died in the middle of setting it.
    pub const ABANDONED: u8 = 4;
    /// `get --wait`: the writer that was attached left without changing the entry.
    pub const NO_WRITER: u8 = 5;
    /// `get --wait`, `listen --count`: the timeout passed first.
    pub const TIMEOUT: u8 = 6;
}

/// How long a blocking call waits before it looks at Ctrl-C again.
const SLICE: Duration = Duration::from_millis(50);

/// Set by SIGINT or SIGTERM: the loops stop, the handles detach.
fn interrupted() -> Result<Arc<AtomicBool>, Failure> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .map_err(|e| Failure::new("signal handler", e))?;
    }
    Ok(flag)
}

/// Hands `each` what `survey` found in /dev/shm (`dirs` empty: `survey(None)`), or in
/// each of `dirs` in turn. The first directory that cannot be read ends it, in error.
fn survey_dirs<T>(
    dirs: &[PathBuf],
    survey: impl Fn(Option<&Path>) -> io::Result<T>,
    mut each: impl FnMut(T) -> Result<(), Failure>,
) -> Result<(), Failure> {
    if dirs.is_empty() {
        return each(survey(None).map_err(|e| Failure::new("list /dev/shm", e))?);
    }
    for dir in dirs {
        let found = survey(Some(dir));
        each(found.map_err(|e| Failure::new(&format!("list {}", dir.display()), e))?)?;
    }
    Ok(())
}

/// Fails unless `target` is a segment of kind `kind` (`what` is its name in the message).
fn expect_kind(target: Target<'_>, kind: Kind, what: &str) -> Result<(), Failure> {
    let name = target.arg();
    let found = target.inspect().map_err(|e| Failure::ring(name, e))?.kind;
    if found == kind {
        return Ok(());
    }
    Err(Failure::quiet(format!(
        "{name}: is a {found} segment, not {what}"
    )))
}

/// A failure to take a `role` slot of `name`; `RoleTaken` in the kind's own words (the
/// library's names the ring roles, producer and consumer, for every kind).
fn role_failure(name: &str, role: &str, e: OpenError) -> Failure {
    match e {
        OpenError::RoleTaken { slots, .. } => Failure::quiet(format!(
            "{name}: every {role} slot ({slots}) is held by a live process \
             (`ipcring inspect {name}` shows them)"
        )),
        e => Failure::ring(name, e),
    }
}

/// Why a command failed: one line for standard error, and the exit code (1; 2 for a
/// usage error; 130 for an interrupted `send`; those of [`exit`]).
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
    broken_pipe: bool,
}

impl Failure {
    /// A failure of `what`, with the error's chain of causes.
    pub fn new(what: &str, e: impl Error) -> Failure {
        let mut message = format!("{what}: {e}");
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Failure {
            message,
            code: 1,
            broken_pipe: false,
        }
    }

    /// A failure about the ring `name`.
    pub fn ring(name: &str, e: impl Error) -> Failure {
        Failure::new(name, e)
    }

    /// A failure to write the output.
    pub fn output(e: io::Error) -> Failure {
        let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        Failure {
            broken_pipe,
            ..Failure::new("standard output", e)
        }
    }

    /// A command line that asks for something impossible.
    pub fn usage(message: String) -> Failure {
        Failure {
            message,
            code: 2,
            broken_pipe: false,
        }
    }

    /// A summary of failures already reported line by line.
    pub fn quiet(message: String) -> Failure {
        Failure {
            message,
            code: 1,
            broken_pipe: false,
        }
    }

    /// A command stopped by Ctrl-C (SIGINT) or SIGTERM before it finished.
    pub fn interrupted(message: String) -> Failure {
        Failure {
            message,
            code: 130,
            broken_pipe: false,
        }
    }

    /// The same failure with exit code `code`.
    pub fn with_code(self, code: u8) -> Failure {
        Failure { code, ..self }
    }

    /// Whether the failure is that standard output was closed (`recv | head`).
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    /// The process's exit code for this failure.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ipcring: {}", self.message)
    }
}
