//! `ipcring notify` and `ipcring listen`: a shell's end of an event segment. Each takes a
//! role (a notifier's or a listener's slot) and gives it back on every way out, Ctrl-C
//! included, so that the listeners see a departure, never a holder that died.

use super::render::SCHEMA;
use super::target::Target;
use super::{exit, expect_kind, interrupted, role_failure, units, Failure, SLICE};
use clap::Args;
use ipcring::event::{Fired, Shape};
use ipcring::survey::Kind;
use ipcring::RecvError;
use std::io::{self, BufRead, BufWriter, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Options of `ipcring notify`.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// The event segment (see `ipcring create --kind event`): its name, or the path of a
    /// file-backed one (an argument with a `/`: `./done.events`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// The event id to fire (0 to the segment's ids - 1); `-`: the ids of standard
    /// input's lines, each fired as it is read, holding the notifier's slot until the
    /// input ends.
    pub id: String,
    /// Fire the id this many times.
    #[arg(long, short, default_value_t = 1)]
    pub count: u64,
}

/// Options of `ipcring listen`.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// The event segment: its name, or the path of a file-backed one (an argument with a
    /// `/`: `./done.events`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// Stop once this many notifications were seen (the report that reaches it is
    /// printed whole).
    #[arg(long, short)]
    pub count: Option<u64>,
    /// Without --count: stop after this long without a report; with --count: fail.
    /// Without either option, listen goes on until Ctrl-C.
    #[arg(long, value_parser = units::duration)]
    pub timeout: Option<Duration>,
    /// Print a JSON object a line (schema in cli/RINGS_JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// `ipcring notify`: prints nothing.
pub fn notify(a: &NotifyArgs) -> Result<(), Failure> {
    if a.id == "-" && a.count != 1 {
        return Err(Failure::usage(
            "--count applies to one id, not to ids read from standard input".into(),
        ));
    }
    let one = match a.id.as_str() {
        "-" => None,
        id => Some(parse_id(id).map_err(Failure::usage)?),
    };
    let at = Target::new(&a.name);
    expect_kind(at, Kind::Event, "an event segment")?;
    let tx = at.builder::<Shape>().open_notifier();
    let mut tx = tx.map_err(|e| role_failure(&a.name, "notifier", e))?;
    let failed = |fired: u64, e: &dyn std::fmt::Display| {
        Failure::quiet(format!("{}: {e} ({fired} fired)", a.name))
    };
    if let Some(id) = one {
        for fired in 0..a.count {
            tx.notify(id).map_err(|e| failed(fired, &e))?;
        }
        return Ok(());
    }
    // Standard input is read by a thread of its own, so that Ctrl-C stops a notifier
    // that waits for input (and it detaches).
    let stop = interrupted()?;
    let (feed, lines) = mpsc::sync_channel(256);
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let end = line.is_err();
            if feed.send(line).is_err() || end {
                return;
            }
        }
    });
    let mut fired = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Failure::interrupted(format!(
                "{}: interrupted ({fired} fired)",
                a.name
            )));
        }
        let line = match lines.recv_timeout(SLICE) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(Failure::new("standard input", e)),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let id = parse_id(line).map_err(|e| failed(fired, &e))?;
        tx.notify(id).map_err(|e| failed(fired, &e))?;
        fired += 1;
    }
}

fn parse_id(s: &str) -> Result<u32, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not an event id (0, 1, 2...)"))
}

/// `ipcring listen`.
pub fn listen(a: &ListenArgs) -> Result<(), Failure> {
    let stop = interrupted()?;
    let at = Target::new(&a.name);
    expect_kind(at, Kind::Event, "an event segment")?;
    let rx = at.builder::<Shape>().open_listener();
    let mut rx = rx.map_err(|e| role_failure(&a.name, "listener", e))?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut seen = 0u64;
    let mut idle = Instant::now();
    let short = |seen: u64, what: &str| {
        let of = a.count.map_or(String::new(), |n| format!(" of {n}"));
        format!("{}: {what} ({seen}{of} notifications seen)", a.name)
    };
    while a.count.is_none_or(|n| seen < n) {
        if stop.load(Ordering::Relaxed) {
            if a.count.is_none() {
                break;
            }
            return Err(Failure::interrupted(short(seen, "interrupted")));
        }
        let left = a.timeout.map(|t| t.saturating_sub(idle.elapsed()));
        match rx.wait_timeout(left.map_or(SLICE, |l| l.min(SLICE))) {
            Ok(fired) => {
                seen = seen.saturating_add(fired.total());
                report(&mut out, fired, a.json).map_err(Failure::output)?;
                out.flush().map_err(Failure::output)?;
                idle = Instant::now();
            }
            Err(RecvError::Timeout) if a.timeout.is_some_and(|t| idle.elapsed() >= t) => {
                if a.count.is_some() {
                    let f = Failure::quiet(short(seen, "timed out"));
                    return Err(f.with_code(exit::TIMEOUT));
                }
                break;
            }
            Err(RecvError::Timeout) => {}
            Err(e) => return Err(Failure::quiet(short(seen, &e.to_string()))),
        }
    }
    out.flush().map_err(Failure::output)
}

/// A line per id that fired (`ID COUNT`) and per peer that left (`departed ROLE SLOT`).
fn report(out: &mut impl Write, fired: &Fired, json: bool) -> io::Result<()> {
    for (id, count) in fired.iter() {
        if json {
            let v = serde_json::json!({
                "schema": SCHEMA, "event": "fired", "id": id, "count": count,
            });
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "{id} {count}")?;
        }
    }
    for d in fired.departures() {
        if json {
            let v = serde_json::json!({
                "schema": SCHEMA, "event": "departed", "role": d.role.to_string(), "slot": d.slot,
            });
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "departed {} {}", d.role, d.slot)?;
        }
    }
    Ok(())
}
