//! A configuration blackboard: one process updates it 100 000 times while three reader
//! processes poll it and wait for its changes.
//!
//! ```text
//! cargo run --release --example config_board
//! ```
//!
//! The board has three entries: `config` (a plain-old-data struct of 64 bytes), `banner`
//! (a text of 16 to 200 bytes) and `updated_ns` (the time of the last update). Every value
//! carries its update number and a checksum of everything else in it, so that a value made
//! of two writes cannot pass for one. The writer updates `config` and `banner` 100 000
//! times, a few microseconds apart. Two readers poll (`get` and `get_into` in a loop), one
//! waits for each change (`wait_changed`). Each reader checks every value it reads,
//! checks that update numbers never go back, and prints how many reads it made per second
//! and how stale the values it saw first were (the time from the write to the read that
//! first saw it). Exit status 0, or 1 if a value was torn or went back; nothing is left in
//! /dev/shm, also after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::blackboard::{Builder, GetError, Reader};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::{mix, percentile, Run};

const UPDATES: u64 = 100_000;
const CONFIG: usize = 0;
const BANNER: usize = 1;

/// The configuration: every field derives from the update number `n`, and `check` sums
/// them all, so a mix of two updates fails [`Config::valid`]. On the board it is eight
/// words (a plain-old-data `[u64; 8]`).
#[derive(Debug, Clone, Copy)]
struct Config {
    n: u64,
    written_ns: u64,
    max_clients: u64,
    timeout_ms: u64,
    rate_limit: u64,
    flags: u64,
    reserved: u64,
    check: u64,
}

impl Config {
    fn new(n: u64) -> Config {
        let mut c = Config {
            n,
            written_ns: now_ns(),
            max_clients: 100 + n % 900,
            timeout_ms: mix(n) % 30_000,
            rate_limit: mix(n ^ 1) % 10_000,
            flags: mix(n ^ 2),
            reserved: 0,
            check: 0,
        };
        c.check = c.sum();
        c
    }

    fn words(&self) -> [u64; 8] {
        [
            self.n,
            self.written_ns,
            self.max_clients,
            self.timeout_ms,
            self.rate_limit,
            self.flags,
            self.reserved,
            self.check,
        ]
    }

    fn from_words(w: [u64; 8]) -> Config {
        Config {
            n: w[0],
            written_ns: w[1],
            max_clients: w[2],
            timeout_ms: w[3],
            rate_limit: w[4],
            flags: w[5],
            reserved: w[6],
            check: w[7],
        }
    }

    fn sum(&self) -> u64 {
        let words = [
            self.n,
            self.written_ns,
            self.max_clients,
            self.timeout_ms,
            self.rate_limit,
            self.flags,
        ];
        words.iter().fold(0x1234, |h, &w| mix(h ^ w))
    }

    fn valid(&self) -> bool {
        self.check == self.sum()
            && self.max_clients == 100 + self.n % 900
            && self.timeout_ms == mix(self.n) % 30_000
    }
}

/// The banner of update `n`: its number, then 8 to 192 bytes that depend on it.
fn banner(n: u64) -> Vec<u8> {
    let len = 8 + (mix(n) % 185) as usize;
    let mut v = n.to_le_bytes().to_vec();
    v.extend((0..len).map(|i| (mix(n).wrapping_add(i as u64) % 251) as u8));
    v
}

fn banner_valid(b: &[u8]) -> Option<u64> {
    let n = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    (banner(n) == b).then_some(n)
}

fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// What a reader saw: reads, distinct updates seen, and the staleness of each update it
/// saw first (ns).
struct Seen {
    reads: u64,
    last: u64,
    stale: Vec<u64>,
}

impl Seen {
    /// Takes in a config read: fails on a torn or older value.
    fn config(&mut self, c: &Config) -> Result<(), String> {
        self.reads += 1;
        if !c.valid() {
            return Err(format!("torn config at update {}", c.n));
        }
        if c.n < self.last {
            return Err(format!("config went back from {} to {}", self.last, c.n));
        }
        if c.n > self.last {
            self.last = c.n;
            self.stale.push(now_ns().saturating_sub(c.written_ns));
        }
        Ok(())
    }
}

/// Child: a reader that polls (`mode` `poll`) or waits for each change (`wait`) until it
/// has seen the last update or the writer is gone.
fn reader(name: &str, mode: &str) -> ExitCode {
    let mut r = Reader::open(name).expect("open a reader");
    println!("ready");
    let mut seen = Seen {
        reads: 0,
        last: 0,
        stale: Vec::new(),
    };
    let mut buf = Vec::new();
    let start = Instant::now();
    let mut version = 0;
    let verdict = loop {
        if mode == "wait" {
            match r.wait_changed(CONFIG, version, Some(Duration::from_secs(10))) {
                Ok(v) => version = v,
                Err(GetError::NoWriter) => break Ok(()),
                Err(e) => break Err(format!("wait: {e}")),
            }
        }
        let config = match r.get::<[u64; 8]>(CONFIG) {
            Ok((c, _)) => Config::from_words(c),
            Err(GetError::NotSet { .. }) => continue,
            Err(e) => break Err(format!("get: {e}")),
        };
        if let Err(e) = seen.config(&config) {
            break Err(e);
        }
        match r.get_into(BANNER, &mut buf) {
            Ok(_) if banner_valid(&buf).is_none() => break Err("torn banner".into()),
            Ok(_) | Err(GetError::NotSet { .. }) => {}
            Err(e) => break Err(format!("get banner: {e}")),
        }
        if seen.last == UPDATES {
            break Ok(());
        }
    };
    if let Err(e) = verdict {
        println!("failed {e}");
        return ExitCode::FAILURE;
    }
    let secs = start.elapsed().as_secs_f64();
    let stale = &mut seen.stale;
    println!(
        "stats {} {:.0} {} {} {}",
        seen.reads,
        seen.reads as f64 / secs,
        stale.len(),
        percentile(stale, 0.5),
        percentile(stale, 0.99)
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "reader" => reader(&args[0], &args[1]),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("config_board");
    let name = run.queue("config");
    let mut w = Builder::new(&name)
        .value::<[u64; 8]>("config")
        .entry("banner", 200)
        .value::<u64>("updated_ns")
        .create_writer()
        .expect("create the board");
    let updated = w.key("updated_ns").expect("the key");
    let modes = ["poll", "poll", "wait"];
    let mut readers: Vec<_> = modes
        .iter()
        .map(|m| run.spawn("reader", [name.as_str(), m]))
        .collect();
    for r in &mut readers {
        r.expect("ready");
    }
    let start = Instant::now();
    for n in 1..=UPDATES {
        w.set(BANNER, &banner(n)).expect("set the banner");
        w.set_value(CONFIG, &Config::new(n).words())
            .expect("set the config");
        w.set_value(updated, &now_ns()).expect("set the time");
        support::busy(Duration::from_micros(5));
    }
    let secs = start.elapsed().as_secs_f64();
    drop(w);
    println!(
        "config_board: {UPDATES} updates of 3 entries in {secs:.2} s ({:.0} updates/s), read by 3 processes",
        UPDATES as f64 / secs
    );
    for (r, mode) in readers.into_iter().zip(modes) {
        let (lines, status) = r.finish();
        if let Some(f) = lines.iter().find_map(|l| l.strip_prefix("failed ")) {
            run.fail(&format!("a {mode} reader: {f}"));
        }
        run.check(status.success(), "a reader failed");
        let stats = lines
            .iter()
            .find_map(|l| l.strip_prefix("stats "))
            .unwrap_or_else(|| run.fail("a reader said nothing"));
        let v: Vec<f64> = stats
            .split_whitespace()
            .map(|w| w.parse().expect("a number"))
            .collect();
        println!(
            "  {mode:<4} reader: {:>9} reads ({:>10.0} reads/s), saw {:>6} of {UPDATES} updates, staleness p50 {:.1} µs, p99 {:.1} µs; no torn value",
            v[0],
            v[1],
            v[2],
            v[3] / 1e3,
            v[4] / 1e3
        );
    }
    ExitCode::SUCCESS
}
