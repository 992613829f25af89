//! Results: rows of latency and throughput, and how they are shown (table, CSV; the JSON
//! is in [`crate::json`]).

use crate::machine::Machine;
use crate::mech::{Kind, Mech};
use hdrhistogram::Histogram;
use std::fmt::{self, Write};

/// The percentiles shown per latency row, as quantiles.
const QUANTILES: [f64; 4] = [0.5, 0.99, 0.999, 0.9999];

/// One latency distribution: a mechanism in a group of rows measured alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    /// The rows of one group share a test (e.g. "round trip, 8 B"); the first is the base.
    pub group: String,
    pub mech: Mech,
    /// The mechanism's label.
    pub name: String,
    /// Bytes of each message.
    pub size: usize,
    /// Round trips per second of a paced row; `None`: back to back.
    pub rate_hz: Option<u32>,
    pub samples: u64,
    /// min, p50, p99, p99.9, p99.99, max in nanoseconds.
    pub ns: [u64; 6],
    /// p50 over the p50 of the group's first row.
    pub ratio: f64,
    /// p50 over the p50 of the group's limit row, if it has one.
    pub ratio_to_limit: Option<f64>,
    /// (`-log10(1 - q)`, latency in ns): the percentile distribution, for the plot.
    pub curve: Vec<(f64, u64)>,
}

impl Latency {
    /// The row of `hist` (nanoseconds) of `mech` with messages of `size` bytes, paced at
    /// `rate_hz`; its ratios are filled by [`Report::finish`].
    pub fn from_hist(
        group: &str,
        mech: Mech,
        size: usize,
        rate_hz: Option<u32>,
        hist: &Histogram<u64>,
    ) -> Latency {
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
            mech,
            name: mech.label().to_owned(),
            size,
            rate_hz,
            samples: hist.len(),
            ns,
            ratio: 1.0,
            ratio_to_limit: None,
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

/// One throughput measurement: `messages` of `size` bytes streamed in `secs` from
/// `producers` to `consumers` processes.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    pub group: String,
    pub mech: Mech,
    /// The mechanism's label (and the shape, for more than one producer or consumer).
    pub name: String,
    pub size: usize,
    pub producers: usize,
    pub consumers: usize,
    /// Messages sent (by all producers; a broadcast subscriber receives each of them).
    pub messages: u64,
    pub secs: f64,
    /// Messages per second over the group's first row.
    pub ratio: f64,
    /// Messages per second over those of the group's reference-ring row, if it has one.
    pub ratio_to_reference: Option<f64>,
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

/// The bound a target sets on its measured value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
    Exactly(f64),
}

impl Goal {
    /// Whether `measured` meets the goal.
    pub fn met(self, measured: f64) -> bool {
        match self {
            Goal::AtMost(b) => measured <= b,
            Goal::AtLeast(b) => measured >= b,
            Goal::Exactly(b) => measured == b,
        }
    }

    /// The comparison: "<=", ">=" or "=".
    pub fn op(self) -> &'static str {
        match self {
            Goal::AtMost(_) => "<=",
            Goal::AtLeast(_) => ">=",
            Goal::Exactly(_) => "=",
        }
    }

    pub fn bound(self) -> f64 {
        match self {
            Goal::AtMost(b) | Goal::AtLeast(b) | Goal::Exactly(b) => b,
        }
    }
}

/// "<= 1.15".
impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{} {}", self.op(), self.bound()))
    }
}

/// A target of the issue, and how this run did against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// A stable name, e.g. "spsc_spin_p50_vs_limit".
    pub id: String,
    /// What is measured, for people.
    pub what: String,
    pub measured: f64,
    pub goal: Goal,
    pub met: bool,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub machine: Machine,
    /// A `--quick` run.
    pub quick: bool,
    pub latency: Vec<Latency>,
    pub throughput: Vec<Throughput>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

impl Report {
    /// Fills the ratios: each row against the first row of its group, and against the
    /// group's limit (latency) or reference ring (throughput) where it has one.
    pub fn finish(&mut self) {
        let mut base: Vec<(String, f64)> = Vec::new();
        for row in &mut self.latency {
            let b = base_of(&mut base, &row.group, row.p50() as f64);
            row.ratio = row.p50() as f64 / b;
        }
        let limits: Vec<(String, f64)> = self
            .latency
            .iter()
            .filter(|r| r.mech.kind() == Kind::Limit)
            .map(|r| (r.group.clone(), r.p50() as f64))
            .collect();
        for row in &mut self.latency {
            row.ratio_to_limit = limits
                .iter()
                .find(|(g, _)| *g == row.group)
                .map(|(_, b)| row.p50() as f64 / b);
        }
        base.clear();
        for row in &mut self.throughput {
            let b = base_of(&mut base, &row.group, row.msgs_per_sec());
            row.ratio = row.msgs_per_sec() / b;
        }
        let references: Vec<(String, f64)> = self
            .throughput
            .iter()
            .filter(|r| r.mech.kind() == Kind::Reference)
            .map(|r| (r.group.clone(), r.msgs_per_sec()))
            .collect();
        for row in &mut self.throughput {
            row.ratio_to_reference = references
                .iter()
                .find(|(g, _)| *g == row.group)
                .map(|(_, b)| row.msgs_per_sec() / b);
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
        for (k, v) in self.machine.lines() {
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

/// A histogram of `values` (ns).
#[cfg(test)]
pub(crate) fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for v in values {
        h.record(v).unwrap();
    }
    h
}

/// A small report with a row of every shape: a group with a limit and one without, a
/// paced row, a throughput group with the reference ring and a crowd row, a target.
#[cfg(test)]
pub(crate) fn sample() -> Report {
    let mut r = Report {
        machine: Machine {
            cpu: "Test CPU".into(),
            cpus_online: 2,
            kernel: "6.1.0".into(),
            hypervisor: true,
            container: false,
            load: [0.5, 1.25, 2.0],
            pinned: Some((0, 1)),
        },
        quick: true,
        ..Report::default()
    };
    for (group, mech, rate_hz, ns) in [
        ("rt", Mech::Limit, None, 100),
        ("rt", Mech::RingSpin, None, 110),
        ("rt", Mech::RingTry, None, 120),
        ("rare", Mech::Pipe, Some(100), 5000),
    ] {
        let row = Latency::from_hist(group, mech, 8, rate_hz, &hist([ns; 10]));
        r.latency.push(row);
    }
    for (group, mech, producers, messages) in [
        ("tp", Mech::RefRing, 1, 1000),
        ("tp", Mech::RingSpin, 1, 2000),
        ("crowd", Mech::MpmcSpin, 2, 3000),
    ] {
        r.throughput.push(Throughput {
            group: group.into(),
            mech,
            name: mech.label().into(),
            size: 8,
            producers,
            consumers: producers,
            messages,
            secs: 0.5,
            ratio: 0.0,
            ratio_to_reference: None,
            wakes_per_m: Some(0.0),
            sleeps_per_m: None,
        });
    }
    r.finish();
    r.targets.push(Target {
        id: "spsc_try_p50_vs_limit".into(),
        what: "try_* polling round trip p50 / limit p50".into(),
        measured: 1.2,
        goal: Goal::AtMost(1.1),
        met: false,
    });
    r.notes.push("a note".into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        // 1..=10000 ns: the median is 5000, p99 9900, min 1, max 10000 (3 digits).
        let row = Latency::from_hist("g", Mech::Pipe, 8, None, &hist(1..=10_000));
        assert_eq!(row.samples, 10_000);
        assert_eq!(row.ns[0], 1);
        assert!(row.p50().abs_diff(5_000) <= 5, "{}", row.p50());
        assert!(row.ns[2].abs_diff(9_900) <= 10, "{}", row.ns[2]);
        assert!(row.ns[5].abs_diff(10_000) <= 10);
        assert!(row.ns.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(row.curve.first().unwrap().0, 0.0);
        assert!(row.curve.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(row.name, Mech::Pipe.label());
    }

    #[test]
    fn ratios_are_against_the_first_row_of_each_group() {
        let r = sample();
        assert_eq!(r.latency[0].ratio, 1.0);
        assert!((r.latency[1].ratio - 1.1).abs() < 0.01);
        assert_eq!(r.latency[3].ratio, 1.0);
        assert_eq!(r.throughput[1].ratio, 2.0);
        assert_eq!(r.throughput[1].msgs_per_sec(), 4000.0);
        assert_eq!(r.throughput[1].bytes_per_sec(), 32000.0);
    }

    #[test]
    fn ratios_to_the_limit_and_the_reference_are_only_where_the_group_has_one() {
        let r = sample();
        assert_eq!(r.latency[0].ratio_to_limit, Some(1.0));
        assert!((r.latency[2].ratio_to_limit.unwrap() - 1.2).abs() < 0.01);
        assert_eq!(r.latency[3].ratio_to_limit, None);
        assert_eq!(r.throughput[0].ratio_to_reference, Some(1.0));
        assert_eq!(r.throughput[1].ratio_to_reference, Some(2.0));
        assert_eq!(r.throughput[2].ratio_to_reference, None);
    }

    #[test]
    fn csv_has_one_line_per_row_with_the_header_width() {
        let csv = sample().csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 4 + 3);
        let width = lines[0].split(',').count();
        for l in &lines {
            // A quoted label splits once more per comma inside it.
            let inside: usize = l
                .split('"')
                .skip(1)
                .step_by(2)
                .map(|q| q.matches(',').count())
                .sum();
            assert_eq!(l.split(',').count(), width + inside, "{l}");
        }
        let spin = "\"ipcring spsc, busy-spin\"";
        assert!(lines[2].starts_with(&format!("latency,rt,{spin},10,110,110,")));
        assert!(lines[6].starts_with(&format!("throughput,tp,{spin},,,,,,,,8,2000,0.5")));
    }

    #[test]
    fn goals_read_as_comparisons_and_judge_the_measurement() {
        assert_eq!(Goal::AtMost(1.15).to_string(), "<= 1.15");
        assert_eq!(format!("{:<6}|", Goal::AtLeast(20.0)), ">= 20 |");
        assert_eq!(Goal::Exactly(0.0).to_string(), "= 0");
        assert!(Goal::AtMost(1.1).met(1.1) && !Goal::AtMost(1.1).met(1.2));
        assert!(Goal::AtLeast(1.0).met(1.0) && !Goal::AtLeast(1.0).met(0.9));
        assert!(Goal::Exactly(0.0).met(0.0) && !Goal::Exactly(0.0).met(0.1));
    }

    #[test]
    fn the_table_shows_groups_rows_and_ratios() {
        let t = sample().table();
        assert!(t.contains("\nrt  (ratio"));
        assert!(t.contains("ipcring spsc, try_* polling"));
        assert!(t.contains("goal <= 1.1   MISSED"));
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
