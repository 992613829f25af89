//! The commands that work on rings: see them (`list`, `inspect`, `watch`), make and remove
//! them (`create`, `rm`, `gc`), and move messages through them from a shell (`send`,
//! `recv`).

pub mod housekeeping;
pub mod listing;
pub mod pipe;
mod render;
pub mod units;

use std::error::Error;
use std::fmt;
use std::io;
use std::process::ExitCode;

/// Why a command failed: one line for standard error, and the exit code (1; 2 for a
/// usage error; 130 for an interrupted `send`).
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
