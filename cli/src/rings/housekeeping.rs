//! `ipcring create`, `rm` and `gc`: making rings (and blackboards and event segments) and
//! removing the ones nobody uses, in /dev/shm or at paths.

use super::target::Target;
use super::{survey_dirs, units, Failure};
use clap::{Args, ValueEnum};
use ipcring::survey::{self, Garbage, Reason, Removal};
use ipcring::{blackboard, broadcast, event, mpmc, spsc, OpenError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A kind of ring, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// One producer, one consumer, variable-length messages.
    Spsc,
    /// A work queue: many producers, many competing consumers, fixed-size slots.
    Mpmc,
    /// A topic: every subscriber receives every message, fixed-size slots.
    Broadcast,
    /// Entries of newest values, set by writers and read by anyone (`set`, `get`).
    Blackboard,
    /// Event ids that notifiers fire and listeners wait for (`notify`, `listen`).
    Event,
}

/// Options of `ipcring create`.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The ring's name (its object is /dev/shm/ipcring.NAME), or the path of the file to
    /// make a file-backed ring of (an argument with a `/`: `./orders.ring`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// Kind of ring.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// SPSC: bytes of the data area (a power of two: 4096, 64K, 1M); MPMC and broadcast:
    /// number of slots (a power of two). Default: 1 MiB, or 1024 slots. (Not for
    /// blackboards and events: see --entry, --ids.)
    #[arg(long, value_parser = units::size)]
    pub capacity: Option<usize>,
    /// MPMC and broadcast: bytes of a slot, the largest message (default 256).
    #[arg(long, value_parser = units::size)]
    pub slot_size: Option<usize>,
    /// MPMC: producer role slots (default 16).
    #[arg(long)]
    pub producers: Option<usize>,
    /// MPMC: consumer role slots (default 16).
    #[arg(long)]
    pub consumers: Option<usize>,
    /// Broadcast: publisher role slots (default 16).
    #[arg(long)]
    pub publishers: Option<usize>,
    /// Broadcast: subscriber role slots (default 16).
    #[arg(long)]
    pub subscribers: Option<usize>,
    /// Broadcast: publishers overwrite the oldest messages instead of waiting.
    #[arg(long)]
    pub lossy: bool,
    /// Broadcast, lossless: evict a live subscriber that keeps publishers waiting this
    /// long (500ms, 2s...).
    #[arg(long, value_parser = units::duration)]
    pub max_lag: Option<Duration>,
    /// MPMC and broadcast: readers pass a live writer's claim not committed after this
    /// long.
    #[arg(long, value_parser = units::duration)]
    pub stall_timeout: Option<Duration>,
    /// Blackboard: an entry with a key and its largest value, KEY:MAXSIZE (price:16,
    /// config:4K); repeat it for more. Entries are numbered from 0 in this order.
    #[arg(long = "entry", value_name = "KEY:MAXSIZE", value_parser = units::entry)]
    pub entry: Vec<(String, usize)>,
    /// Blackboard: N entries without keys (addressed by index), after those of --entry.
    #[arg(long, value_name = "N:MAXSIZE", value_parser = units::entries)]
    pub entries: Option<(usize, usize)>,
    /// Blackboard: writer role slots (default 1; `ipcring set` takes one while it sets).
    #[arg(long)]
    pub writers: Option<usize>,
    /// Event: number of event ids, 0 to N-1 (default 64).
    #[arg(long)]
    pub ids: Option<usize>,
    /// Event: notifier role slots (default 16).
    #[arg(long)]
    pub notifiers: Option<usize>,
    /// Event: listener role slots (default 16).
    #[arg(long)]
    pub listeners: Option<usize>,
    /// Permission bits, octal: 0600 (default) or with group bits, 0660.
    #[arg(long, value_parser = units::mode, default_value = "0600")]
    pub mode: u32,
}

impl CreateArgs {
    /// The options that do not apply to the kind asked for.
    fn misplaced(&self) -> Vec<&'static str> {
        let mut bad = Vec::new();
        let mut check = |set: bool, flag, ok: &[KindArg]| {
            if set && !ok.contains(&self.kind) {
                bad.push(flag);
            }
        };
        let rings = [KindArg::Spsc, KindArg::Mpmc, KindArg::Broadcast];
        check(self.capacity.is_some(), "--capacity", &rings);
        let cells = [KindArg::Mpmc, KindArg::Broadcast];
        check(self.slot_size.is_some(), "--slot-size", &cells);
        check(self.producers.is_some(), "--producers", &[KindArg::Mpmc]);
        check(self.consumers.is_some(), "--consumers", &[KindArg::Mpmc]);
        check(self.stall_timeout.is_some(), "--stall-timeout", &cells);
        let topic = [KindArg::Broadcast];
        check(self.publishers.is_some(), "--publishers", &topic);
        check(self.subscribers.is_some(), "--subscribers", &topic);
        check(self.lossy, "--lossy", &topic);
        check(self.max_lag.is_some(), "--max-lag", &topic);
        let board = [KindArg::Blackboard];
        check(!self.entry.is_empty(), "--entry", &board);
        check(self.entries.is_some(), "--entries", &board);
        check(self.writers.is_some(), "--writers", &board);
        let events = [KindArg::Event];
        check(self.ids.is_some(), "--ids", &events);
        check(self.notifiers.is_some(), "--notifiers", &events);
        check(self.listeners.is_some(), "--listeners", &events);
        bad
    }
}

/// `ipcring create`.
pub fn create(a: &CreateArgs) -> Result<(), Failure> {
    let misplaced = a.misplaced();
    if !misplaced.is_empty() {
        return Err(Failure::usage(format!(
            "{} do(es) not apply to {:?} rings",
            misplaced.join(", "),
            a.kind
        )));
    }
    if a.kind == KindArg::Blackboard && a.entry.is_empty() && a.entries.is_none() {
        return Err(Failure::usage(
            "a blackboard needs entries: --entry KEY:MAXSIZE or --entries N:MAXSIZE".into(),
        ));
    }
    let at = Target::new(&a.name);
    let made = match a.kind {
        KindArg::Spsc => at
            .builder::<spsc::Shape>()
            .capacity(a.capacity.unwrap_or(spsc::DEFAULT_CAPACITY))
            .mode(a.mode)
            .create_detached(),
        KindArg::Mpmc => {
            let mut b = at
                .builder::<mpmc::Shape>()
                .capacity(a.capacity.unwrap_or(mpmc::DEFAULT_CAPACITY))
                .slot_size(a.slot_size.unwrap_or(mpmc::DEFAULT_SLOT_SIZE))
                .producers(a.producers.unwrap_or(mpmc::DEFAULT_ROLE_SLOTS))
                .consumers(a.consumers.unwrap_or(mpmc::DEFAULT_ROLE_SLOTS))
                .mode(a.mode);
            if let Some(t) = a.stall_timeout {
                b = b.stall_timeout(t);
            }
            b.create_detached()
        }
        KindArg::Broadcast => {
            let mut b = at
                .builder::<broadcast::Shape>()
                .capacity(a.capacity.unwrap_or(broadcast::DEFAULT_CAPACITY))
                .slot_size(a.slot_size.unwrap_or(broadcast::DEFAULT_SLOT_SIZE))
                .publishers(a.publishers.unwrap_or(broadcast::DEFAULT_ROLE_SLOTS))
                .max_subscribers(a.subscribers.unwrap_or(broadcast::DEFAULT_ROLE_SLOTS))
                .lossy(a.lossy)
                .mode(a.mode);
            if let Some(lag) = a.max_lag {
                b = b.max_lag(lag);
            }
            if let Some(t) = a.stall_timeout {
                b = b.stall_timeout(t);
            }
            b.create_detached()
        }
        KindArg::Blackboard => {
            let mut b = at
                .builder::<blackboard::Shape>()
                .writers(a.writers.unwrap_or(1))
                .mode(a.mode);
            for (key, max) in &a.entry {
                b = b.entry(key, *max);
            }
            if let Some((n, max)) = a.entries {
                b = b.entries(n, max);
            }
            b.create_detached()
        }
        KindArg::Event => at
            .builder::<event::Shape>()
            .ids(a.ids.unwrap_or(event::DEFAULT_IDS))
            .notifiers(a.notifiers.unwrap_or(event::DEFAULT_ROLE_SLOTS))
            .listeners(a.listeners.unwrap_or(event::DEFAULT_ROLE_SLOTS))
            .mode(a.mode)
            .create_detached(),
    };
    made.map_err(|e| Failure::ring(&a.name, e))
}

/// `ipcring rm`: each ring unless a live process holds a role of it (or `force`). Each
/// ring that is not removed gets its line; with several names, a count follows.
pub fn rm(names: &[String], force: bool) -> Result<(), Failure> {
    let mut failures: Vec<Failure> = names
        .iter()
        .filter_map(|name| match Target::new(name).remove_unused(force) {
            Ok(Removal::Removed) => None,
            Ok(Removal::InUse(ring)) => Some(Failure::quiet(format!(
                "{name}: in use ({}); not removed (--force removes it anyway)",
                super::render::roles_column(&ring)
            ))),
            // Found initialising under its lock, which nobody else held: only a file at a
            // path is not removed then.
            Err(OpenError::StillInitializing { waited }) if waited.is_zero() => {
                Some(Failure::quiet(format!(
                    "{name}: left initialising, by a creator that died (or it is no ring at \
                     all); not removed (--force removes it)"
                )))
            }
            Err(e) => Some(Failure::ring(name, e)),
        })
        .collect();
    if names.len() == 1 {
        return failures.pop().map_or(Ok(()), Err);
    }
    for f in &failures {
        eprintln!("{f}");
    }
    match failures.len() {
        0 => Ok(()),
        n => Err(Failure::quiet(format!(
            "{n} of {} not removed",
            names.len()
        ))),
    }
}

/// `ipcring gc [DIR...]`.
pub fn gc(dirs: &[PathBuf], prefix: &str, dry_run: bool) -> Result<(), Failure> {
    let survey = |dir: Option<&Path>| match dir {
        None => survey::collect_garbage(prefix, dry_run),
        Some(dir) => survey::collect_garbage_in(dir, dry_run),
    };
    let mut failed = 0;
    survey_dirs(dirs, survey, |found| {
        failed += report(&found, dry_run);
        Ok(())
    })?;
    match failed {
        0 => Ok(()),
        n => Err(Failure::quiet(format!("{n} not removed"))),
    }
}

/// Prints a line per ring that `gc` found; returns how many it failed to remove.
fn report(found: &[Garbage], dry_run: bool) -> usize {
    let mut failed = 0;
    for g in found {
        let why = match g.reason {
            Reason::AbandonedCreation => "its creator died while initialising it",
            Reason::HoldersDied => "no role is held and a holder died",
            Reason::Broken => "no role is held and it was found corrupted",
            _ => "unknown",
        };
        match &g.removed {
            Ok(true) => println!("removed {}: {why}", g.name),
            Ok(false) if dry_run => println!("would remove {}: {why}", g.name),
            Ok(false) => println!("kept {}: a process attached to it meanwhile", g.name),
            Err(e) => {
                failed += 1;
                eprintln!("{}", Failure::ring(&g.name, e));
            }
        }
    }
    failed
}
