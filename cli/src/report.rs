//! Results: rows of latency and throughput, and how they are shown (table, CSV, JSON).

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::fmt::Write;

/// The percentiles shown per latency row, as quantiles.
const QUANTILES: [f64; 4] = [0.5, 0.99, 0.999, 0.9999];

/// One latency distribution: a mechanism in a group of rows measured alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    /// The rows of one group share a test (e.g. "round trip, 8 B"); the first is the base.
    pub group: String,
    pub name: String,
    pub samples: u64,
    /// min, p50, p99, p99.9, p99.99, max in nanoseconds.
    pub ns: [u64; 6],
    /// p50 over the p50 of the group's first row.
    pub ratio: f64,
    /// (`-log10(1 - q)`, latency in ns): the percentile distribution, for the plot.
    pub curve: Vec<(f64, u64)>,
}

impl Latency {
    /// The row of `hist` (nanoseconds); its ratio is filled by [`Report::finish`].
    pub fn from_hist(group: &str, name: &str, hist: &Histogram<u64>) -> Latency {
        let mut ns = [hist.min(), 0, 0, 0, 0, hist.max()];
        for (slot, q) in ns[1..5].iter_mut().zip(QUANTILES) {
            *slot = hist.value_at_quantile(q);
        }
        // Nines from 0 to 5 in tenths: q = 1 - 10^-x.
        let curve = (0..=50)
            .map(|i| {
                let x = f64::from(i) / 10.0;
                (x, hist.value_at_quantile(1.0 - 10f64.powf(-x)))
            })
            .collect();
        Latency {
            group: group.to_owned(),
            name: name.to_owned(),
            samples: hist.len(),
            ns,
            ratio: 1.0,
            curve,
        }
    }

    /// Median in nanoseconds.
    pub fn p50(&self) -> u64 {
        self.ns[1]
    }

    /// 99.9th percentile in nanoseconds.
    pub fn p999(&self) -> u64 {
        self.ns[3]
    }
}

/// One throughput measurement: `messages` of `size` bytes streamed in `secs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    pub group: String,
    pub name: String,
    pub size: usize,
    pub messages: u64,
    pub secs: f64,
    /// Messages per second over the group's first row.
    pub ratio: f64,
    /// FUTEX_WAKE calls per million messages (ipcring's own counters).
    pub wakes_per_m: Option<f64>,
    /// Voluntary context switches of both processes per million messages: every futex
    /// wait that slept is one (a wait that returned at once is not counted).
    pub sleeps_per_m: Option<f64>,
}

impl Throughput {
    pub fn msgs_per_sec(&self) -> f64 {
        self.messages as f64 / self.secs
    }

    pub fn bytes_per_sec(&self) -> f64 {
        self.msgs_per_sec() * self.size as f64
    }
}

/// A target of the issue, and how this run did against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub what: String,
    pub measured: f64,
    /// The goal, e.g. "<= 1.15".
    pub goal: String,
    pub met: bool,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// What the machine is (label, value).
    pub machine: Vec<(String, String)>,
    pub latency: Vec<Latency>,
    pub throughput: Vec<Throughput>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

impl Report {
    /// Fills the ratios: each row against the first row of its group.
    pub fn finish(&mut self) {
        let mut base: Vec<(String, f64)> = Vec::new();
        for row in &mut self.latency {
            let b = base_of(&mut base, &row.group, row.p50() as f64);
            row.ratio = row.p50() as f64 / b;
        }
        base.clear();
        for row in &mut self.throughput {
            let b = base_of(&mut base, &row.group, row.msgs_per_sec());
            row.ratio = row.msgs_per_sec() / b;
        }
    }

    /// The latency row `name` of `group`.
    pub fn latency_row(&self, group: &str, name: &str) -> Option<&Latency> {
        self.latency
            .iter()
            .find(|r| r.group == group && r.name == name)
    }

    /// The report as terminal tables.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.machine {
            let _ = writeln!(out, "{k:>9}: {v}");
        }
        let mut group = "";
        for r in &self.latency {
            if r.group != group {
                group = &r.group;
                let _ = writeln!(out, "\n{group}  (ratio: p50 / p50 of the first row)");
                let _ = writeln!(
                    out,
                    "{:<32} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
                    "mechanism", "samples", "min", "p50", "p99", "p99.9", "p99.99", "max", "ratio"
                );
            }
            let _ = write!(out, "{:<32} {:>8}", r.name, r.samples);
            for ns in r.ns {
                let _ = write!(out, " {:>9}", fmt_ns(ns));
            }
            let _ = writeln!(out, " {:>6.2}x", r.ratio);
        }
        group = "";
        for r in &self.throughput {
            if r.group != group {
                group = &r.group;
                let _ = writeln!(out, "\n{group}  (ratio: msg/s / msg/s of the first row)");
                let _ = writeln!(
                    out,
                    "{:<38} {:>8} {:>11} {:>10} {:>10} {:>7} {:>10} {:>10}",
                    "mechanism",
                    "size",
                    "messages",
                    "Mmsg/s",
                    "MiB/s",
                    "ratio",
                    "wakes/M",
                    "sleeps/M"
                );
            }
            let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
            let _ = writeln!(
                out,
                "{:<38} {:>8} {:>11} {:>10.3} {:>10.1} {:>6.2}x {:>10} {:>10}",
                r.name,
                fmt_size(r.size),
                r.messages,
                r.msgs_per_sec() / 1e6,
                r.bytes_per_sec() / (1u64 << 20) as f64,
                r.ratio,
                opt(r.wakes_per_m),
                opt(r.sleeps_per_m),
            );
        }
        if !self.targets.is_empty() {
            let _ = writeln!(out, "\ntargets of the issue (this run)");
            for t in &self.targets {
                let verdict = if t.met { "met" } else { "MISSED" };
                let _ = writeln!(
                    out,
                    "  {:<58} {:>9.3}  goal {:<8} {verdict}",
                    t.what, t.measured, t.goal
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }

    /// One CSV table of every row; `kind` tells latency from throughput rows.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "kind,group,name,samples,min_ns,p50_ns,p99_ns,p99.9_ns,p99.99_ns,max_ns,\
             size,messages,secs,msgs_per_sec,bytes_per_sec,ratio,wakes_per_m,sleeps_per_m\n",
        );
        for r in &self.latency {
            let ns: Vec<String> = r.ns.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "latency,{},{},{},{},,,,,,{:.4},,",
                csv_field(&r.group),
                csv_field(&r.name),
                r.samples,
                ns.join(","),
                r.ratio
            );
        }
        for r in &self.throughput {
            let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
            let _ = writeln!(
                out,
                "throughput,{},{},,,,,,,,{},{},{:.6},{:.1},{:.1},{:.4},{},{}",
                csv_field(&r.group),
                csv_field(&r.name),
                r.size,
                r.messages,
                r.secs,
                r.msgs_per_sec(),
                r.bytes_per_sec(),
                r.ratio,
                opt(r.wakes_per_m),
                opt(r.sleeps_per_m),
            );
        }
        out
    }

    /// The report as JSON.
    pub fn json(&self) -> Value {
        let machine: serde_json::Map<String, Value> = self
            .machine
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        let latency: Vec<Value> = self
            .latency
            .iter()
            .map(|r| {
                json!({
                    "group": r.group, "name": r.name, "samples": r.samples,
                    "min_ns": r.ns[0], "p50_ns": r.ns[1], "p99_ns": r.ns[2],
                    "p99_9_ns": r.ns[3], "p99_99_ns": r.ns[4], "max_ns": r.ns[5],
                    "ratio": r.ratio,
                })
            })
            .collect();
        let throughput: Vec<Value> = self
            .throughput
            .iter()
            .map(|r| {
                json!({
                    "group": r.group, "name": r.name, "size": r.size,
                    "messages": r.messages, "secs": r.secs,
                    "msgs_per_sec": r.msgs_per_sec(), "bytes_per_sec": r.bytes_per_sec(),
                    "ratio": r.ratio, "wakes_per_m": r.wakes_per_m,
                    "sleeps_per_m": r.sleeps_per_m,
                })
            })
            .collect();
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| json!({"what": t.what, "measured": t.measured, "goal": t.goal, "met": t.met}))
            .collect();
        json!({
            "machine": machine, "latency": latency, "throughput": throughput,
            "targets": targets, "notes": self.notes,
        })
    }
}

fn base_of(bases: &mut Vec<(String, f64)>, group: &str, value: f64) -> f64 {
    if let Some((_, b)) = bases.iter().find(|(g, _)| g == group) {
        return *b;
    }
    bases.push((group.to_owned(), value));
    value
}

/// A CSV field, quoted when it has to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Nanoseconds for people: "850 ns", "12.3 us", "4.56 ms", "1.20 s".
pub fn fmt_ns(ns: u64) -> String {
    match ns {
        0..=9_999 => format!("{ns} ns"),
        10_000..=999_999 => format!("{:.1} us", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// A message size for people: "8 B", "64 KiB", "4 MiB".
pub fn fmt_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        // 1..=10000 ns: the median is 5000, p99 9900, min 1, max 10000 (3 digits).
        let row = Latency::from_hist("g", "x", &hist(1..=10_000));
        assert_eq!(row.samples, 10_000);
        assert_eq!(row.ns[0], 1);
        assert!(row.p50().abs_diff(5_000) <= 5, "{}", row.p50());
        assert!(row.ns[2].abs_diff(9_900) <= 10, "{}", row.ns[2]);
        assert!(row.ns[5].abs_diff(10_000) <= 10);
        assert!(row.ns.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(row.curve.first().unwrap().0, 0.0);
        assert!(row.curve.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    fn report() -> Report {
        let mut r = Report::default();
        r.latency
            .push(Latency::from_hist("rt", "limit", &hist([100; 10])));
        r.latency
            .push(Latency::from_hist("rt", "ring, busy", &hist([110; 10])));
        r.latency
            .push(Latency::from_hist("other", "pipe", &hist([5000; 10])));
        for (name, messages) in [("ref", 1000), ("ring", 2000)] {
            r.throughput.push(Throughput {
                group: "tp".into(),
                name: name.into(),
                size: 8,
                messages,
                secs: 0.5,
                ratio: 0.0,
                wakes_per_m: Some(0.0),
                sleeps_per_m: None,
            });
        }
        r.finish();
        r
    }

    #[test]
    fn ratios_are_against_the_first_row_of_each_group() {
        let r = report();
        assert_eq!(r.latency[0].ratio, 1.0);
        assert!((r.latency[1].ratio - 1.1).abs() < 0.01);
        assert_eq!(r.latency[2].ratio, 1.0);
        assert_eq!(r.throughput[1].ratio, 2.0);
        assert_eq!(r.throughput[1].msgs_per_sec(), 4000.0);
        assert_eq!(r.throughput[1].bytes_per_sec(), 32000.0);
    }

    #[test]
    fn csv_has_one_line_per_row_with_the_header_width() {
        let csv = report().csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 2);
        let width = lines[0].split(',').count();
        for l in &lines {
            // No field of this report needs quoting except "ring, busy".
            let fields = if l.contains('"') { width + 1 } else { width };
            assert_eq!(l.split(',').count(), fields, "{l}");
        }
        assert!(lines[2].starts_with("latency,rt,\"ring, busy\",10,110,110,"));
        assert!(lines[5].starts_with("throughput,tp,ring,,,,,,,,8,2000,0.5"));
    }

    #[test]
    fn json_round_trips_through_a_parser() {
        let text = report().json().to_string();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["latency"][1]["name"], "ring, busy");
        assert_eq!(v["latency"][1]["p50_ns"], 110);
        assert_eq!(v["throughput"][1]["ratio"], 2.0);
        assert!(v["throughput"][0]["sleeps_per_m"].is_null());
    }

    #[test]
    fn the_table_shows_groups_rows_and_ratios() {
        let t = report().table();
        assert!(t.contains("\nrt  (ratio"));
        assert!(t.contains("ring, busy"));
        assert!(t.contains("1.10x"));
        assert!(t.contains("5000 ns"));
    }

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(fmt_ns(850), "850 ns");
        assert_eq!(fmt_ns(12_345), "12.3 us");
        assert_eq!(fmt_ns(4_560_000), "4.56 ms");
        assert_eq!(fmt_ns(60_000_000_000), "60.00 s");
        assert_eq!(fmt_size(8), "8 B");
        assert_eq!(fmt_size(4096), "4 KiB");
        assert_eq!(fmt_size(4 << 20), "4 MiB");
        assert_eq!(fmt_size(1000), "1000 B");
    }
}
