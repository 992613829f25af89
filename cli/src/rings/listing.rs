//! `ipcring list`, `inspect` and `watch`: rings seen from outside, through
//! `ipcring::survey` (read-only mappings; no role, no lock taken).

use super::render::{self, age, age_secs, capacity, roles_column, user_name};
use super::target::Target;
use super::{survey_dirs, Failure};
use ipcring::survey::{self, Entry, Holder, Ring, Unit};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `ipcring list [DIR...]`.
pub fn list(dirs: &[PathBuf], json: bool) -> Result<(), Failure> {
    let mut entries: Vec<Entry> = Vec::new();
    let survey = |dir: Option<&Path>| dir.map_or_else(survey::list, survey::list_dir);
    survey_dirs(dirs, survey, |found| {
        entries.extend(found);
        Ok(())
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::json!({
            "schema": render::SCHEMA,
            "rings": entries.iter().map(render::entry).collect::<Vec<_>>(),
        });
        return writeln!(out, "{v:#}").map_err(Failure::output);
    }
    let first = if dirs.is_empty() { "NAME" } else { "PATH" };
    let mut rows = vec![[
        first, "KIND", "CAPACITY", "FILL", "ROLES", "OWNER", "MODE", "AGE",
    ]
    .map(String::from)];
    for e in &entries {
        let (owner, mode, since) = e.object.as_ref().map_or_else(
            || ("?".into(), "?".into(), "?".into()),
            |o| {
                (
                    user_name(o.uid),
                    format!("{:04o}", o.mode),
                    age(age_secs(o.changed)),
                )
            },
        );
        rows.push(match &e.ring {
            Ok(r) => [
                r.name.clone(),
                kind(r),
                capacity(r),
                format!("{:.0}%", r.fill_ratio() * 100.0),
                roles_column(r),
                owner,
                mode,
                since,
            ],
            Err(err) => [
                e.name.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("not readable: {}", unreadable(&e.name, err)),
                owner,
                mode,
                since,
            ],
        });
    }
    print_table(&mut out, &rows).map_err(Failure::output)
}

/// Why the object of entry `name` cannot be read, for the table.
fn unreadable(name: &str, err: &ipcring::OpenError) -> String {
    match err {
        // The survey does not wait for a creator.
        ipcring::OpenError::StillInitializing { .. } => format!(
            "still initialising (if its creator died, {} removes it)",
            Target::new(name).remover_of_leftover()
        ),
        e => e.to_string(),
    }
}

fn kind(r: &Ring) -> String {
    let mut k = r.kind.name().to_owned();
    if r.geometry.lossy == Some(true) {
        k.push_str(" (lossy)");
    }
    if r.broken {
        k.push_str(" BROKEN");
    }
    k
}

/// Prints rows in columns as wide as their widest cell; the last column unpadded.
fn print_table(out: &mut impl Write, rows: &[[String; 8]]) -> std::io::Result<()> {
    let mut width = [0; 8];
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = width[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The ring `name` (or at the path `name`: see [`Target`]).
fn inspect_ring(name: &str) -> Result<Ring, Failure> {
    Target::new(name)
        .inspect()
        .map_err(|e| Failure::ring(name, e))
}

/// `ipcring inspect NAME|PATH`.
pub fn inspect(name: &str, json: bool) -> Result<(), Failure> {
    let r = inspect_ring(name)?;
    let mut out = std::io::stdout().lock();
    let text = if json {
        let mut v = render::detail(&r);
        v["schema"] = render::SCHEMA.into();
        format!("{v:#}\n")
    } else {
        detail_text(&r)
    };
    out.write_all(text.as_bytes()).map_err(Failure::output)
}

fn detail_text(r: &Ring) -> String {
    let g = &r.geometry;
    let o = &r.object;
    let mut t = format!(
        "ring       {}\nkind       {}\ncapacity   {}\n",
        r.name,
        kind(r),
        capacity(r),
    );
    if g.max_message > 0 {
        t += &format!("max msg    {}\n", render::bytes(g.max_message));
    }
    let pct = r.fill_ratio() * 100.0;
    t += &match g.unit {
        Unit::Bytes => format!(
            "fill       {} ({pct:.1}%), {} messages\n",
            render::bytes(r.fill),
            r.messages
        ),
        // A topic holds its last lap of messages; its fill is what the slowest reader
        // has still to read.
        Unit::Messages if r.messages != r.fill => format!(
            "fill       {} messages unread ({pct:.1}%), {} held\n",
            r.fill, r.messages
        ),
        Unit::Messages => format!("fill       {} messages ({pct:.1}%)\n", r.fill),
        Unit::Entries if r.kind == survey::Kind::Event => {
            format!(
                "fired      {} ids ({pct:.1}%), {} times\n",
                r.fill, r.messages
            )
        }
        Unit::Entries => format!("in use     {} entries ({pct:.1}%)\n", r.fill),
    };
    if let Some(lag) = g.max_lag {
        t += &format!("max lag    {lag:?}\n");
    }
    if let Some(stall) = g.stall_timeout {
        t += &format!("stall      {stall:?}\n");
    }
    let positions: Vec<String> = r
        .positions
        .iter()
        .map(|p| format!("{} {}", p.name, p.value))
        .collect();
    if !positions.is_empty() {
        t += &format!("positions  {}\n", positions.join(", "));
    }
    t += &format!(
        "object     {} bytes, mode {:04o}, owner {}, ready {} ago, ABI 2.{}, incarnation {:016x}\n",
        o.size,
        o.mode,
        user_name(o.uid),
        age(age_secs(o.changed)),
        r.abi_minor,
        r.incarnation
    );
    t += "\nslot  role        holder  gen      sent  received       bytes  rejected  skipped  redeliv  missed  evicted  wakeups  high-water  lag\n";
    // Slots never held are summed up in a line, not listed.
    let never = |s: &&survey::Slot| s.holder == Holder::Never;
    for s in r.slots.iter().filter(|s| !never(s)) {
        let c = &s.counters;
        t += &format!(
            "{:<4}  {:<10}  {:<6}  {:>3}  {:>8}  {:>8}  {:>10}  {:>8}  {:>7}  {:>7}  {:>6}  {:>7}  {:>7}  {:>10}  {}\n",
            s.index,
            s.role,
            format!("{:?}", s.holder).to_lowercase(),
            s.generation,
            c.sent,
            c.received,
            c.bytes,
            c.rejected,
            c.skipped,
            c.redelivered,
            c.missed,
            c.evicted,
            c.wakeups,
            c.high_water,
            s.lag.map_or("-".into(), |l| l.to_string()),
        );
    }
    let mut roles: Vec<&str> = r.slots.iter().map(|s| s.role).collect();
    roles.dedup();
    for role in roles {
        let unused = r.slots_of(role).filter(never).count();
        if unused > 0 {
            t += &format!("      {unused} {role} slot(s) never held\n");
        }
    }
    t + &state_text(r)
}

/// A blackboard's entries and an event segment's counters (ids that never fired are
/// summed up in a line).
fn state_text(r: &Ring) -> String {
    let mut t = String::new();
    if !r.entries.is_empty() {
        t += "\nentry  key                               max size       len   version  state\n";
        for e in &r.entries {
            t += &format!(
                "{:<5}  {:<32}  {:>8}  {:>8}  {:>8}  {}\n",
                e.index,
                if e.key.is_empty() { "-" } else { &e.key },
                e.max_size,
                e.len,
                e.version,
                render::entry_state(e.state),
            );
        }
    }
    if !r.events.is_empty() {
        t += "\nid     count\n";
        for e in r.events.iter().filter(|e| e.count > 0) {
            t += &format!("{:<5}  {}\n", e.id, e.count);
        }
        let silent = r.events.iter().filter(|e| e.count == 0).count();
        if silent > 0 {
            t += &format!("       {silent} id(s) never fired\n");
        }
    }
    t
}

/// Counters of a ring summed for a rate: messages and payload bytes in (by the writers)
/// and out (by the readers; every subscriber of a topic counts).
#[derive(Debug, Clone, Copy)]
struct Totals {
    sent: u64,
    received: u64,
    bytes_in: u64,
    bytes_out: u64,
}

fn totals(r: &Ring) -> Totals {
    let writers = r.slots.first().map_or("", |s| s.role);
    let sum = |f: fn(&survey::Slot) -> u64, writing: bool| {
        r.slots
            .iter()
            .filter(|s| (s.role == writers) == writing)
            .map(f)
            .fold(0u64, u64::wrapping_add)
    };
    Totals {
        sent: sum(|s| s.counters.sent, true),
        received: sum(|s| s.counters.received, false),
        bytes_in: sum(|s| s.counters.bytes, true),
        bytes_out: sum(|s| s.counters.bytes, false),
    }
}

/// `ipcring watch NAME`: every `interval`, the rates since the last look, the fill and
/// the roles; a redrawn screen on a terminal, a line per interval otherwise (or a JSON
/// object per line with `json`). Runs until Ctrl-C, or for `looks` intervals.
pub fn watch(
    name: &str,
    interval: Duration,
    looks: Option<u64>,
    json: bool,
) -> Result<(), Failure> {
    let terminal = std::io::stdout().is_terminal() && !json;
    let mut last = (Instant::now(), totals(&inspect_ring(name)?));
    let mut n = 0;
    while looks.is_none_or(|l| n < l) {
        std::thread::sleep(interval);
        n += 1;
        let r = inspect_ring(name)?;
        let now = (Instant::now(), totals(&r));
        let secs = now.0.duration_since(last.0).as_secs_f64().max(1e-9);
        let rate = |a: u64, b: u64| b.wrapping_sub(a) as f64 / secs;
        let sent = rate(last.1.sent, now.1.sent);
        let received = rate(last.1.received, now.1.received);
        let bytes_in = rate(last.1.bytes_in, now.1.bytes_in);
        let bytes_out = rate(last.1.bytes_out, now.1.bytes_out);
        last = now;
        let mut out = std::io::stdout().lock();
        let written = if json {
            let v = serde_json::json!({
                "schema": render::SCHEMA,
                "name": r.name,
                "interval_s": secs,
                "sent_per_s": sent,
                "received_per_s": received,
                "sent_bytes_per_s": bytes_in,
                "received_bytes_per_s": bytes_out,
                "fill": r.fill,
                "fill_percent": r.fill_ratio() * 100.0,
                "messages": r.messages,
                "roles": render::summary(&r)["roles"],
            });
            writeln!(out, "{v}")
        } else if terminal {
            write!(
                out,
                "\x1b[H\x1b[2J{}\nin  {sent:.0} msg/s, {}/s\nout {received:.0} msg/s, {}/s\n\n{}",
                render_head(&r),
                render::bytes(bytes_in as u64),
                render::bytes(bytes_out as u64),
                detail_text(&r)
            )
        } else {
            writeln!(
                out,
                "{}  in {sent:.0}/s {}/s  out {received:.0}/s {}/s  fill {:.1}%  {}",
                humantime_now(),
                render::bytes(bytes_in as u64),
                render::bytes(bytes_out as u64),
                r.fill_ratio() * 100.0,
                roles_column(&r)
            )
        };
        written
            .and_then(|()| out.flush())
            .map_err(Failure::output)?;
    }
    Ok(())
}

fn render_head(r: &Ring) -> String {
    format!(
        "ipcring watch {} ({}), {}",
        r.name,
        kind(r),
        humantime_now()
    )
}

/// The time of day, UTC, as `HH:MM:SS`.
fn humantime_now() -> String {
    let s = age_secs(std::time::UNIX_EPOCH) % 86400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
