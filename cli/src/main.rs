//! `ipcring`: the command-line tool of ipcring.
//!
//! - `ipcring bench` measures round-trip latency and throughput of ipcring next to the
//!   hardware limit, a raw futex and the kernel's IPC, between two pinned processes, and
//!   the throughput of one MPMC queue between several;
//! - `ipcring list`, `inspect` and `watch` show rings from outside (read-only: no role,
//!   no lock); `create`, `rm` and `gc` make and remove them; `send` and `recv` move
//!   messages through them from a shell, `set` and `get` a blackboard's values, `notify`
//!   and `listen` an event segment's ids (see `rings/`);
//! - `ipcring bridge out` and `in` (feature `nats`) carry a ring's messages across
//!   machines through NATS JetStream.

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
mod rings;

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
    /// List every ring in /dev/shm: kind, capacity, fill, roles, owner, mode, age (and
    /// objects that are not readable rings, with the reason); or the file-backed rings
    /// among the files of directories.
    #[command(visible_alias = "ls")]
    List {
        /// Directories to list instead of /dev/shm: their files that begin as ipcring's
        /// do (readable rings, and rings of another version or corrupted, with the
        /// reason), by path. Other files are not shown, nor those this user may not read.
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Print JSON (schema in cli/RINGS_JSON.md).
        #[arg(long)]
        json: bool,
    },
    /// Show a ring's header, positions, and every role slot with its counters.
    Inspect {
        /// The ring's name (as given to `create`, without `ipcring.`), or the path of a
        /// file-backed ring (anything with a `/`: `./orders.ring`).
        #[arg(value_name = "NAME|PATH")]
        name: String,
        /// Print JSON (schema in cli/RINGS_JSON.md).
        #[arg(long)]
        json: bool,
    },
    /// Show a ring's rates, fill and roles every interval, until Ctrl-C.
    Watch {
        /// The ring's name, or the path of a file-backed ring (anything with a `/`:
        /// `./orders.ring`).
        #[arg(value_name = "NAME|PATH")]
        name: String,
        /// Time between two looks (500ms, 2s...).
        #[arg(long, default_value = "1s", value_parser = rings::units::duration)]
        interval: std::time::Duration,
        /// Stop after this many looks.
        #[arg(long)]
        looks: Option<u64>,
        /// Print a JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Create a ring (or a blackboard, or an event segment) that waits, empty, for
    /// processes to take its roles.
    Create(rings::housekeeping::CreateArgs),
    /// Remove rings, unless a live process holds one of their roles.
    Rm {
        /// Names of the rings to remove, or paths of file-backed rings (anything with a
        /// `/`: `./orders.ring`).
        #[arg(required = true, value_name = "NAME|PATH")]
        names: Vec<String>,
        /// Remove them even while processes hold roles (they keep their mapping), and
        /// objects at the names that are not readable rings. At a path: also a file left
        /// initialising, by a creator that died (or any write-only file).
        #[arg(long)]
        force: bool,
    },
    /// Remove rings nobody will use again: leftovers of creators that died, and rings
    /// with no live role of which a holder died or that were found corrupted.
    Gc {
        /// Directories whose file-backed rings (those `list DIR` shows) to collect instead
        /// of /dev/shm's, by the same rules but one: a file left initialising is never
        /// taken (it may be any write-only file; `rm --force PATH` removes it).
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Only rings whose names start with this (in /dev/shm).
        #[arg(long, default_value = "", conflicts_with = "dirs")]
        prefix: String,
    },
    /// Send messages to a ring: standard input's lines, or --message/--file.
    Send(rings::pipe::SendArgs),
    /// Receive messages from a ring to standard output.
    Recv(rings::pipe::RecvArgs),
    /// Set a blackboard entry's value (taking a writer's slot for the moment); print its
    /// new version.
    Set(rings::board::SetArgs),
    /// Print a blackboard entry's value, optionally after waiting for it to change.
    ///
    /// Exit codes: 0 printed; 1 an error; 2 a usage error; 3 the entry was never set; 4
    /// its writer died in the middle of setting it; 5 the writer attached when --wait
    /// began left; 6 --timeout passed; 130 Ctrl-C while waiting.
    Get(rings::board::GetArgs),
    /// Fire an event id (taking a notifier's slot for the moment).
    Notify(rings::events::NotifyArgs),
    /// Print the ids that fire (`ID COUNT` a line) and the peers that leave (`departed
    /// ROLE SLOT`), until --count notifications, --timeout, or Ctrl-C.
    ///
    /// Exit codes: 0 done (also by Ctrl-C without --count); 1 an error; 2 a usage error;
    /// 6 --timeout passed before --count notifications; 130 Ctrl-C before them.
    Listen(rings::events::ListenArgs),
    /// Bridge rings across machines through NATS JetStream: `out` publishes a ring's
    /// messages, `in` commits a subject's into a ring; nothing is lost when a bridge or the
    /// server restarts. Exit codes: 0 stopped by Ctrl-C or SIGTERM (after draining); 1
    /// an error (a bad address, a missing stream, a ring that cannot be opened).
    #[cfg(feature = "nats")]
    #[command(subcommand)]
    Bridge(rings::bridge::BridgeCommand),
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
    let ring_command = match cli.command {
        Command::Bench(args) => return io_outcome(bench::run(&args)),
        Command::Child(args) => return io_outcome(child::run(&args)),
        Command::List { dirs, json } => rings::listing::list(&dirs, json),
        Command::Inspect { name, json } => rings::listing::inspect(&name, json),
        Command::Watch {
            name,
            interval,
            looks,
            json,
        } => rings::listing::watch(&name, interval, looks, json),
        Command::Create(args) => rings::housekeeping::create(&args),
        Command::Rm { names, force } => rings::housekeeping::rm(&names, force),
        Command::Gc {
            dirs,
            dry_run,
            prefix,
        } => rings::housekeeping::gc(&dirs, &prefix, dry_run),
        Command::Send(args) => rings::pipe::send(&args),
        Command::Recv(args) => rings::pipe::recv(&args),
        Command::Set(args) => rings::board::set(&args),
        Command::Get(args) => rings::board::get(&args),
        Command::Notify(args) => rings::events::notify(&args),
        Command::Listen(args) => rings::events::listen(&args),
        #[cfg(feature = "nats")]
        Command::Bridge(command) => rings::bridge::bridge(&command),
    };
    match ring_command {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`ipcring recv ... | head`) ends the output, not in error.
        Err(f) if f.is_broken_pipe() => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{f}");
            f.code()
        }
    }
}

/// The exit of the benchmark commands: 0, or 1 with the error on standard error.
fn io_outcome(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipcring: {e}");
            ExitCode::FAILURE
        }
    }
}
