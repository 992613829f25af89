//! `ipcring set` and `ipcring get`: a shell's end of a blackboard. `set` takes a writer's
//! slot for the moment it sets one value; `get` reads as any reader does, without a slot,
//! and may wait for the entry to change.

use super::render::SCHEMA;
use super::target::Target;
use super::{exit, expect_kind, interrupted, role_failure, units, Failure, SLICE};
use clap::Args;
use ipcring::blackboard::{GetError, Reader, SetError, Shape};
use ipcring::survey::{Holder, Kind};
use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Options of `ipcring set`.
#[derive(Debug, Clone, Args)]
pub struct SetArgs {
    /// The blackboard (see `ipcring create --kind blackboard`): its name, or the path of a
    /// file-backed one (an argument with a `/`: `./config.board`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// The entry: its key, or its index (0, 1...).
    pub key: String,
    /// The value, as bytes; `-` reads all of standard input (a trailing newline included).
    pub value: String,
}

/// Options of `ipcring get`.
#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    /// The blackboard: its name, or the path of a file-backed one (an argument with a `/`:
    /// `./config.board`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// The entry: its key, or its index (0, 1...).
    pub key: String,
    /// First wait for the entry to have a version other than --since: also while no
    /// writer is attached, but not after the writer attached at the start leaves.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: the version to wait past (default: the entry's version now).
    #[arg(long, requires = "wait", value_name = "VERSION")]
    pub since: Option<u64>,
    /// With --wait: wait at most this long (500ms, 2s...).
    #[arg(long, requires = "wait", value_parser = units::duration)]
    pub timeout: Option<Duration>,
    /// Print a JSON object (`key`, `index`, `version`, `len`, `value`) instead of the
    /// value's bytes.
    #[arg(long)]
    pub json: bool,
}

/// The index of the entry that `key` names among `keys`: the entry with that key, or else
/// the entry with that index.
fn resolve(name: &str, key: &str, keys: &[String]) -> Result<usize, Failure> {
    if let Some(i) = keys.iter().position(|k| !k.is_empty() && k == key) {
        return Ok(i);
    }
    match key.parse::<usize>() {
        Ok(i) if i < keys.len() => Ok(i),
        _ => {
            let named: Vec<&str> = keys
                .iter()
                .filter(|k| !k.is_empty())
                .map(String::as_str)
                .collect();
            let known = match named.len() {
                0 => String::new(),
                _ => format!("the keys are {}, ", named.join(", ")),
            };
            Err(Failure::quiet(format!(
                "{name}: no entry {key:?} ({known}indices 0 to {})",
                keys.len() - 1
            )))
        }
    }
}

/// `ipcring set`: prints the entry's new version.
pub fn set(a: &SetArgs) -> Result<(), Failure> {
    // Standard input first: the writer's slot is held only for the moment of the set.
    let value = if a.value == "-" {
        let mut v = Vec::new();
        io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| Failure::new("standard input", e))?;
        v
    } else {
        a.value.as_bytes().to_vec()
    };
    let at = Target::new(&a.name);
    expect_kind(at, Kind::Blackboard, "a blackboard")?;
    let mut w = at
        .builder::<Shape>()
        .open_writer()
        .map_err(|e| role_failure(&a.name, "writer", e))?;
    let index = resolve(&a.name, &a.key, w.keys())?;
    let version = w.set(index, &value).map_err(|e| set_failure(a, e))?;
    drop(w);
    println!("{version}");
    Ok(())
}

fn set_failure(a: &SetArgs, e: SetError) -> Failure {
    Failure::new(&format!("{}: {}", a.name, a.key), e)
}

/// `ipcring get`.
pub fn get(a: &GetArgs) -> Result<(), Failure> {
    let at = Target::new(&a.name);
    expect_kind(at, Kind::Blackboard, "a blackboard")?;
    let mut r = at
        .builder::<Shape>()
        .open_reader()
        .map_err(|e| Failure::ring(&a.name, e))?;
    let index = resolve(&a.name, &a.key, r.keys())?;
    let failed = |e: GetError| get_failure(a, e);
    if a.wait {
        let since = match a.since {
            Some(v) => v,
            None => r.version(index).map_err(failed)?,
        };
        wait(a, &mut r, index, since)?;
    }
    let mut value = Vec::new();
    let version = r.get_into(index, &mut value).map_err(failed)?;
    let mut out = io::stdout().lock();
    if a.json {
        let v = serde_json::json!({
            "schema": SCHEMA,
            "name": a.name,
            "key": r.keys()[index],
            "index": index,
            "version": version,
            "len": value.len(),
            "value": String::from_utf8_lossy(&value),
        });
        writeln!(out, "{v}").map_err(Failure::output)?;
    } else {
        out.write_all(&value).map_err(Failure::output)?;
    }
    out.flush().map_err(Failure::output)
}

/// Waits until entry `index` has a version other than `since`. While no writer is
/// attached the wait goes on (`ipcring set` holds the slot only while it sets): the
/// version is looked at every slice. If a writer was attached at the start, its leaving
/// without a change ends the wait (`NoWriter`).
fn wait(a: &GetArgs, r: &mut Reader, index: usize, since: u64) -> Result<(), Failure> {
    let stop = interrupted()?;
    let ring = Target::new(&a.name)
        .inspect()
        .map_err(|e| Failure::ring(&a.name, e))?;
    let attached = ring.slots_of("writer").any(|s| s.holder == Holder::Alive);
    let started = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Failure::interrupted(format!(
                "{}: {}: interrupted while waiting for a change",
                a.name, a.key
            )));
        }
        let left = a.timeout.map(|t| t.saturating_sub(started.elapsed()));
        let slice = left.map_or(SLICE, |l| l.min(SLICE));
        match r.wait_changed(index, since, Some(slice)) {
            Ok(_) => return Ok(()),
            Err(GetError::Timeout { .. }) => {}
            Err(GetError::NoWriter) if !attached => std::thread::sleep(slice),
            Err(e) => return Err(get_failure(a, e)),
        }
        if left.is_some_and(|l| l <= slice) {
            return Err(get_failure(a, GetError::Timeout { key: index }));
        }
    }
}

/// A failed read, with the exit code that tells it.
fn get_failure(a: &GetArgs, e: GetError) -> Failure {
    let code = match e {
        GetError::NotSet { .. } => exit::NOT_SET,
        GetError::Abandoned { .. } => exit::ABANDONED,
        GetError::NoWriter => exit::NO_WRITER,
        GetError::Timeout { .. } => exit::TIMEOUT,
        _ => 1,
    };
    Failure::new(&format!("{}: {}", a.name, a.key), e).with_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_a_name_first_then_an_index() {
        let keys = ["price".to_owned(), "1".to_owned(), String::new()];
        assert_eq!(resolve("b", "price", &keys).unwrap(), 0);
        // A key that looks like an index is the key.
        assert_eq!(resolve("b", "1", &keys).unwrap(), 1);
        assert_eq!(resolve("b", "2", &keys).unwrap(), 2);
        assert_eq!(resolve("b", "0", &keys).unwrap(), 0);
        let e = resolve("b", "3", &keys).unwrap_err().to_string();
        assert!(
            e.contains("the keys are price, 1") && e.contains("0 to 2"),
            "{e}"
        );
        assert!(resolve("b", "", &keys).is_err());
    }
}
