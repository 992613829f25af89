//! How rings are shown: JSON objects (the schema is in `cli/JSON.md`) and the pieces of
//! the text tables.

use ipcring::survey::{BoardEntry, Entry, EntryState, Holder, Object, Ring, Slot, Unit};
use serde_json::{json, Value};
use std::time::SystemTime;

/// Version of the JSON that `list`, `inspect` and `watch` print (documented field by field
/// in `cli/RINGS_JSON.md`).
pub const SCHEMA: u32 = 1;

fn holder(h: Holder) -> &'static str {
    match h {
        Holder::Never => "never",
        Holder::Left => "left",
        Holder::Alive => "alive",
        Holder::Dead => "dead",
    }
}

fn unit(u: Unit) -> &'static str {
    match u {
        Unit::Bytes => "bytes",
        Unit::Messages => "messages",
        Unit::Entries => "entries",
    }
}

/// The state of a blackboard entry, as JSON and the text table show it.
pub fn entry_state(s: EntryState) -> &'static str {
    match s {
        EntryState::Unset => "unset",
        EntryState::Set => "set",
        EntryState::Writing => "writing",
        EntryState::Abandoned => "abandoned",
    }
}

fn board_entry(e: &BoardEntry) -> Value {
    json!({
        "index": e.index,
        "key": e.key,
        "max_size": e.max_size,
        "len": e.len,
        "version": e.version,
        "state": entry_state(e.state),
    })
}

/// Seconds since `t` (0 for a time in the future).
pub fn age_secs(t: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs())
}

fn object(o: &Object) -> Value {
    json!({
        "size": o.size,
        "mode": format!("{:04o}", o.mode),
        "uid": o.uid,
        "gid": o.gid,
        "owner": user_name(o.uid),
        "age_s": age_secs(o.changed),
    })
}

/// The roles of a ring, each with its slots: how many are held, dead, left, never used.
fn roles(r: &Ring) -> Value {
    let mut roles = serde_json::Map::new();
    for s in &r.slots {
        let e = roles
            .entry(s.role)
            .or_insert_with(|| json!({"slots": 0, "alive": 0, "dead": 0, "left": 0, "never": 0}));
        let count = |e: &mut Value, k: &str| e[k] = json!(e[k].as_u64().unwrap_or(0) + 1);
        count(e, "slots");
        count(e, holder(s.holder));
    }
    Value::Object(roles)
}

/// A ring as `list --json` shows it: the summary line.
pub fn summary(r: &Ring) -> Value {
    let g = &r.geometry;
    json!({
        "name": r.name,
        "kind": r.kind.name(),
        "capacity": g.capacity,
        "unit": unit(g.unit),
        "slot_size": g.slot_size,
        "max_message": g.max_message,
        "lossy": g.lossy,
        "fill": r.fill,
        "fill_percent": round1(r.fill_ratio() * 100.0),
        "messages": r.messages,
        "broken": r.broken,
        "roles": roles(r),
        "object": object(&r.object),
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// An entry of `list --json`: a ring's summary, or the reason it cannot be read.
pub fn entry(e: &Entry) -> Value {
    match &e.ring {
        Ok(r) => {
            let mut v = summary(r);
            v["error"] = Value::Null;
            v
        }
        Err(err) => json!({
            "name": e.name,
            "kind": Value::Null,
            "error": err.to_string(),
            "object": e.object.as_ref().map(object),
        }),
    }
}

fn slot(s: &Slot) -> Value {
    let c = &s.counters;
    json!({
        "role": s.role,
        "index": s.index,
        "generation": s.generation,
        "holder": holder(s.holder),
        "lag": s.lag,
        "counters": {
            "sent": c.sent,
            "received": c.received,
            "bytes": c.bytes,
            "rejected": c.rejected,
            "skipped": c.skipped,
            "redelivered": c.redelivered,
            "missed": c.missed,
            "evicted": c.evicted,
            "wakeups": c.wakeups,
            "high_water": c.high_water,
        },
    })
}

/// A ring as `inspect --json` shows it: everything.
pub fn detail(r: &Ring) -> Value {
    let mut v = summary(r);
    let g = &r.geometry;
    v["abi_minor"] = json!(r.abi_minor);
    v["incarnation"] = json!(format!("{:016x}", r.incarnation));
    v["max_lag_ms"] = json!(g.max_lag.map(|d| d.as_millis() as u64));
    v["stall_timeout_ms"] = json!(g.stall_timeout.map(|d| d.as_millis() as u64));
    v["positions"] = r
        .positions
        .iter()
        .map(|p| (p.name.to_owned(), json!(p.value)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    v["slots"] = r.slots.iter().map(slot).collect::<Vec<_>>().into();
    if !r.entries.is_empty() {
        v["entries"] = r.entries.iter().map(board_entry).collect::<Vec<_>>().into();
    }
    if !r.events.is_empty() {
        let counts = r
            .events
            .iter()
            .map(|e| json!({"id": e.id, "count": e.count}));
        v["events"] = counts.collect::<Vec<_>>().into();
    }
    v
}

/// The capacity as a person reads it: `64 KiB`, or `1024 x 256 B` for slots.
pub fn capacity(r: &Ring) -> String {
    let g = &r.geometry;
    match (g.slot_size, g.unit) {
        (Some(slot), _) => format!("{} x {}", g.capacity, bytes(slot)),
        (None, Unit::Entries) => format!("{} {}", g.capacity, entries_of(r)),
        (None, _) => bytes(g.capacity),
    }
}

/// What the entries of a ring of [`Unit::Entries`] are: a blackboard's entries, an event
/// segment's ids.
pub fn entries_of(r: &Ring) -> &'static str {
    if r.kind == ipcring::survey::Kind::Event {
        "ids"
    } else {
        "entries"
    }
}

/// A byte count with a binary unit.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A duration in seconds, shortly: `42s`, `5m`, `3h`, `2d`.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The roles column: each role with its held slots out of all, and the dead ones.
pub fn roles_column(r: &Ring) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut names: Vec<&str> = r.slots.iter().map(|s| s.role).collect();
    names.dedup();
    for name in names {
        let of = || r.slots_of(name);
        let alive = of().filter(|s| s.holder == Holder::Alive).count();
        let dead = of().filter(|s| s.holder == Holder::Dead).count();
        let mut p = format!("{name}s {alive}/{}", of().count());
        if dead > 0 {
            p.push_str(&format!(" ({dead} dead)"));
        }
        parts.push(p);
    }
    parts.join(", ")
}

/// The name of user `uid` from `/etc/passwd`, or the number.
pub fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_well() {
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(100), "100 B");
        assert_eq!(bytes(1 << 20), "1 MiB");
        assert_eq!(age(42), "42s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(4 * 3600), "4h");
        assert_eq!(age(3 * 86400), "3d");
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0), "root");
    }
}
