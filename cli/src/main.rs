//! `ipcring`: the command-line tool of ipcring.
//!
//! - `ipcring bench` measures round-trip latency and throughput of ipcring next to the
//!   hardware limit, a raw futex and the kernel's IPC, between two pinned processes, and
//!   the throughput of one MPMC queue between several;
//! - `ipcring ls` lists the ipcring segments in `/dev/shm`, `ipcring rm NAME` removes one.

#![deny(unsafe_op_in_unsafe_fn, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod bench;
mod child;
mod cleanup;
mod clock;
mod cpus;
mod crowd;
mod json;
mod machine;
mod mech;
mod plot;
mod report;
mod segments;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Low-latency IPC through lock-free rings in shared memory: tools.
#[derive(Debug, Parser)]
#[command(name = "ipcring", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure ipcring against the hardware limit, a raw futex and the kernel's IPC.
    Bench(BenchArgs),
    /// List ipcring segments in /dev/shm.
    Ls,
    /// Remove ipcring segments by name (as given to `create`, without `ipcring.`).
    Rm {
        /// Names of the rings to unlink.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// The other half of a benchmark (started by `bench`).
    #[command(hide = true)]
    Child(child::ChildArgs),
}

/// Options of `ipcring bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The two CPUs to pin the two processes to, as `A,B` (default: the first two this
    /// process may run on).
    #[arg(long, value_parser = cpus::parse_pair)]
    pub cpus: Option<(usize, usize)>,
    /// A short run (under a minute) with fewer samples.
    #[arg(long)]
    pub quick: bool,
    /// Only the main round-trip table (skip sweeps, low-rate and throughput).
    #[arg(long)]
    pub latency_only: bool,
    /// Write the results as JSON to this file (`-` for stdout). The schema, versioned
    /// and documented field by field, is in cli/JSON.md of the ipcring repository.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the results as CSV to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Draw the round-trip latency percentile distribution per mechanism as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Ls => segments::list(),
        Command::Rm { names } => segments::remove(&names),
        Command::Child(args) => child::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipcring: {e}");
            ExitCode::FAILURE
        }
    }
}
