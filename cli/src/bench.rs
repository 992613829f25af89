//! `ipcring bench`: the plan of measurements, how each is made, and the output.

use crate::child::{self, voluntary_switches, ChildArgs, Running};
use crate::clock::{ticks, Clock};
use crate::crowd;
use crate::mech::{self, seq_of, set_seq, Link, Mech, STOP};
use crate::report::{fmt_size, Goal, Latency, Report, Target, Throughput};
use crate::{cleanup, cpus, json, machine, plot, BenchArgs};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Message sizes of the sweeps.
const SIZES: [usize; 8] = [8, 64, 512, 4 << 10, 32 << 10, 256 << 10, 1 << 20, 4 << 20];

/// The main table: 8-byte round trips of every mechanism; the first row is the limit.
const MAIN: [Mech; 12] = [
    Mech::Limit,
    Mech::RingSpin,
    Mech::RingTry,
    Mech::RingDefault,
    Mech::RingPark,
    Mech::Futex,
    Mech::Pipe,
    Mech::Unix,
    Mech::Eventfd,
    Mech::Mqueue,
    Mech::Sysv,
    Mech::Tcp,
];
const MAIN_GROUP: &str = "round trip, 8 B";

/// 8-byte round trips through MPMC queues; the first row is the SPSC ring, busy-spin.
const MPMC_RT: [Mech; 3] = [Mech::RingSpin, Mech::MpmcSpin, Mech::MpmcDefault];
const MPMC_RT_GROUP: &str = "round trip, 8 B, MPMC vs SPSC";

/// 8-byte round trips through broadcast topics; the first row is the SPSC ring, busy-spin.
const BROADCAST_RT: [Mech; 3] = [Mech::RingSpin, Mech::BroadcastSpin, Mech::BroadcastDefault];
const BROADCAST_RT_GROUP: &str = "round trip, 8 B, broadcast vs SPSC";

/// 8-byte streaming through one queue, (mechanism, producers, consumers); the first row is
/// the SPSC ring.
const CROWDS: [(Mech, usize, usize); 11] = [
    (Mech::RingSpin, 1, 1),
    (Mech::MpmcSpin, 1, 1),
    (Mech::MpmcSpin, 1, 2),
    (Mech::MpmcSpin, 2, 2),
    (Mech::MpmcDefault, 1, 1),
    (Mech::MpmcDefault, 2, 2),
    (Mech::BroadcastSpin, 1, 1),
    (Mech::BroadcastSpin, 1, 2),
    (Mech::BroadcastSpin, 2, 2),
    (Mech::BroadcastDefault, 1, 2),
    (Mech::BroadcastDefault, 2, 2),
];

/// Rare messages: round trips at a fixed rate, where waiting strategies differ.
const RATES: [u32; 2] = [1000, 100];
const RARE: [Mech; 6] = [
    Mech::RingSpin,
    Mech::RingDefault,
    Mech::RingPark,
    Mech::Futex,
    Mech::Pipe,
    Mech::Eventfd,
];

/// 8-byte streaming; the first row is the reference ring.
const STREAM8: [Mech; 5] = [
    Mech::RefRing,
    Mech::RingSpin,
    Mech::RingDefault,
    Mech::Pipe,
    Mech::Unix,
];

/// How long and how much.
#[derive(Debug, Clone, Copy)]
struct Budget {
    warmup: u64,
    max_samples: u64,
    main: Duration,
    sweep: Duration,
    rare: Duration,
    stream: Duration,
    /// Runs of each 8-byte throughput row (the median is kept).
    reps: usize,
    /// Rounds in which each latency group is measured (see [`run_steps`]).
    latency_rounds: usize,
}

impl Budget {
    fn new(quick: bool) -> Budget {
        if quick {
            Budget {
                warmup: 2_000,
                max_samples: 300_000,
                main: Duration::from_millis(300),
                sweep: Duration::from_millis(150),
                rare: Duration::from_millis(500),
                stream: Duration::from_millis(200),
                reps: 1,
                latency_rounds: 1,
            }
        } else {
            Budget {
                warmup: 20_000,
                max_samples: 5_000_000,
                main: Duration::from_secs(3),
                sweep: Duration::from_secs(1),
                rare: Duration::from_secs(3),
                stream: Duration::from_secs(1),
                reps: 5,
                latency_rounds: 3,
            }
        }
    }
}

/// One measurement.
#[derive(Debug, Clone)]
enum Step {
    Latency {
        group: String,
        mech: Mech,
        size: usize,
        rate_hz: Option<u32>,
        time: Duration,
    },
    Throughput {
        group: String,
        mech: Mech,
        size: usize,
        reps: usize,
    },
    /// 8-byte streaming through one queue from `producers` to `consumers` processes.
    Crowd {
        group: String,
        mech: Mech,
        producers: usize,
        consumers: usize,
        reps: usize,
    },
}

fn plan(b: &Budget, latency_only: bool) -> Vec<Step> {
    let lat = |group: &str, mech, size, rate_hz, time| Step::Latency {
        group: group.to_owned(),
        mech,
        size,
        rate_hz,
        time,
    };
    let mut steps: Vec<Step> = MAIN
        .iter()
        .map(|&m| lat(MAIN_GROUP, m, 8, None, b.main))
        .collect();
    if latency_only {
        return steps;
    }
    for m in MPMC_RT {
        steps.push(lat(MPMC_RT_GROUP, m, 8, None, b.main));
    }
    for m in BROADCAST_RT {
        steps.push(lat(BROADCAST_RT_GROUP, m, 8, None, b.main));
    }
    for size in &SIZES[1..] {
        let group = format!("round trip, {}", fmt_size(*size));
        for m in [Mech::RingSpin, Mech::Pipe, Mech::Unix] {
            steps.push(lat(&group, m, *size, None, b.sweep));
        }
    }
    for hz in RATES {
        let group = format!("round trip, 8 B, one every {} ms (wake-up cost)", 1000 / hz);
        for m in RARE {
            steps.push(lat(&group, m, 8, Some(hz), b.rare));
        }
    }
    let reps = b.reps;
    let median_of = if reps > 1 {
        format!(" (median of {reps} runs, in rounds)")
    } else {
        String::new()
    };
    let group = format!("throughput, 8 B{median_of}");
    for m in STREAM8 {
        steps.push(Step::Throughput {
            group: group.clone(),
            mech: m,
            size: 8,
            reps,
        });
    }
    let group = format!("throughput, 8 B, one queue, P producers -> C consumers{median_of}");
    for (mech, producers, consumers) in CROWDS {
        steps.push(Step::Crowd {
            group: group.clone(),
            mech,
            producers,
            consumers,
            reps,
        });
    }
    for size in &SIZES[1..] {
        let group = format!("throughput, {}", fmt_size(*size));
        for m in [Mech::RingDefault, Mech::Pipe, Mech::Unix] {
            steps.push(Step::Throughput {
                group: group.clone(),
                mech: m,
                size: *size,
                reps: 1,
            });
        }
    }
    steps
}

/// State shared by the measurements of one run.
struct Ctx {
    clock: Clock,
    cpus: Option<(usize, usize)>,
    budget: Budget,
    sessions: u32,
}

impl Ctx {
    /// Prepares `mech` and starts the child on the second CPU.
    fn session(
        &mut self,
        mech: Mech,
        size: usize,
        sink: bool,
    ) -> io::Result<(Box<dyn Link>, Running)> {
        self.sessions += 1;
        let tag = format!("{}-{}", std::process::id(), self.sessions);
        let prep = mech::prepare(mech, size, &tag)?;
        let args = ChildArgs {
            mech,
            sink,
            size,
            cpu: self.cpus.map(|c| c.1),
            fds: prep.child_fds,
            name: prep.name,
            id: prep.id,
            crowd: None,
        };
        let running = child::spawn(&args)?;
        // The child has its copies now; ours would keep pipes and sockets open.
        drop(prep.close_after_spawn);
        Ok((prep.link, running))
    }
}

fn mismatch(mech: Mech, got: &[u8], seq: u64, size: usize) -> io::Error {
    io::Error::other(format!(
        "{mech:?}: answer {} of {} bytes to message {seq} of {size} bytes",
        if got.len() >= 8 { seq_of(got) } else { 0 },
        got.len()
    ))
}

/// Round trips of `size` bytes, after a warm-up, for `time` (or `max_samples`); at
/// `rate_hz` when given. Every answer's sequence number is checked.
fn latency(
    ctx: &mut Ctx,
    mech: Mech,
    size: usize,
    rate_hz: Option<u32>,
    time: Duration,
    max_samples: u64,
) -> io::Result<Histogram<u64>> {
    let (mut link, running) = ctx.session(mech, size, false)?;
    let mut hist = Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid bounds");
    let mut msg = vec![0u8; size];
    let mut back = Vec::with_capacity(size);
    let period = rate_hz.map(|hz| Duration::from_secs(1) / hz);
    let warmup = if rate_hz.is_some() {
        3
    } else {
        ctx.budget.warmup
    };
    let start = Instant::now();
    let mut warm_end = None;
    let mut next = start;
    let mut seq = 0;
    loop {
        if let Some(p) = period {
            next += p;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        seq += 1;
        set_seq(&mut msg, seq);
        let t0 = ticks();
        link.send(&msg);
        link.recv(&mut back);
        let t1 = ticks();
        if back.len() != size || seq_of(&back) != seq {
            return Err(mismatch(mech, &back, seq, size));
        }
        let now = Instant::now();
        match warm_end {
            None if seq >= warmup || now - start > time / 10 => warm_end = Some(now),
            None => {}
            Some(w) => {
                hist.record(ctx.clock.ns(t0, t1).max(1)).expect("in bounds");
                if hist.len() >= max_samples || now - w >= time {
                    break;
                }
            }
        }
    }
    set_seq(&mut msg, (seq + 1) | STOP);
    link.send(&msg);
    link.recv(&mut back);
    running.finish();
    Ok(hist)
}

/// Streams `size`-byte messages for `time`; the child checks every sequence number and
/// answers the last one.
fn throughput(ctx: &mut Ctx, group: &str, mech: Mech, size: usize) -> io::Result<Throughput> {
    let (mut link, running) = ctx.session(mech, size, true)?;
    let mut msg = vec![0u8; size];
    let mut back = Vec::with_capacity(size);
    // The first message is answered: the child is attached and running from here on.
    set_seq(&mut msg, 1);
    link.send(&msg);
    link.recv(&mut back);
    let wakes0 = link.wakeups();
    let sleeps0 = voluntary_switches(libc::RUSAGE_THREAD);
    let batch = ((256 << 10) / size).clamp(1, 256) as u64;
    let time = ctx.budget.stream;
    let start = Instant::now();
    let mut seq = 1;
    while start.elapsed() < time {
        for _ in 0..batch {
            seq += 1;
            set_seq(&mut msg, seq);
            link.send(&msg);
        }
    }
    // Wake-ups while the parent streams; the answer below, for which the parent waits
    // (and may sleep) while the child drains the ring, is not part of the busy phase.
    let wakes1 = link.wakeups();
    set_seq(&mut msg, (seq + 1) | STOP);
    link.send(&msg);
    link.recv(&mut back);
    let secs = start.elapsed().as_secs_f64();
    if back.len() != size || seq_of(&back) != (seq + 1) | STOP {
        return Err(mismatch(mech, &back, seq + 1, size));
    }
    let sleeps = voluntary_switches(libc::RUSAGE_THREAD) - sleeps0 + running.finish();
    let messages = seq - 1;
    let per_m = |n: u64| n as f64 * 1e6 / messages as f64;
    Ok(Throughput {
        group: group.to_owned(),
        mech,
        name: mech.label().to_owned(),
        size,
        producers: 1,
        consumers: 1,
        messages,
        secs,
        ratio: 1.0,
        ratio_to_reference: None,
        wakes_per_m: wakes1.zip(wakes0).map(|(w, w0)| per_m(w - w0)),
        sleeps_per_m: Some(per_m(sleeps)),
    })
}

/// The group of a step and the rounds it is measured in, if more than one: the rows of a
/// group are then measured in rounds (see [`run_steps`]).
fn rounds<'s>(step: &'s Step, budget: &Budget) -> Option<(&'s str, usize)> {
    match step {
        Step::Latency { group, .. } if budget.latency_rounds > 1 => {
            Some((group.as_str(), budget.latency_rounds))
        }
        Step::Throughput { group, reps, .. } | Step::Crowd { group, reps, .. } if *reps > 1 => {
            Some((group.as_str(), *reps))
        }
        _ => None,
    }
}

/// Runs `steps` in order, the rows of one group in rounds: each round measures every row
/// of the group once, a latency row for its share of the row's time (the histograms of
/// its rounds are added up), a throughput row for one run (each row keeps the median of
/// its runs). This VM has phases seconds long in which a line transfer costs several times
/// more: rows measured back to back would each fall in one of them, and the ratios between
/// rows, which are what the tables compare, would be the phases'.
fn run_steps(
    ctx: &mut Ctx,
    steps: &[Step],
    report: &mut Report,
    bar: &ProgressBar,
) -> io::Result<()> {
    let mut rest = steps;
    while let Some(first) = rest.first() {
        let key = rounds(first, &ctx.budget);
        let n = match key {
            Some(_) => rest
                .iter()
                .take_while(|s| rounds(s, &ctx.budget) == key)
                .count(),
            None => 1,
        };
        let (batch, tail) = rest.split_at(n);
        let reps = key.map_or(1, |(_, reps)| reps);
        let mut runs: Vec<Vec<Throughput>> = vec![Vec::new(); n];
        let mut hists: Vec<Option<Histogram<u64>>> = vec![None; n];
        for _ in 0..reps {
            for ((step, runs), hist) in batch.iter().zip(&mut runs).zip(&mut hists) {
                bar.set_message(describe(step));
                match step {
                    Step::Latency {
                        mech,
                        size,
                        rate_hz,
                        time,
                        ..
                    } => {
                        let max = ctx.budget.max_samples / reps as u64;
                        let h = latency(ctx, *mech, *size, *rate_hz, *time / reps as u32, max)?;
                        match hist {
                            Some(all) => all.add(&h).expect("same bounds"),
                            None => *hist = Some(h),
                        }
                    }
                    Step::Throughput {
                        group, mech, size, ..
                    } => runs.push(throughput(ctx, group, *mech, *size)?),
                    Step::Crowd {
                        group,
                        mech,
                        producers,
                        consumers,
                        ..
                    } => {
                        ctx.sessions += 1;
                        let tag = format!("{}-{}", std::process::id(), ctx.sessions);
                        runs.push(crowd::throughput(&crowd::Run {
                            group,
                            mech: *mech,
                            producers: *producers,
                            consumers: *consumers,
                            cpus: ctx.cpus,
                            time: ctx.budget.stream,
                            tag: &tag,
                        })?);
                    }
                }
            }
        }
        for ((step, runs), hist) in batch.iter().zip(runs).zip(hists) {
            match (step, hist) {
                (
                    Step::Latency {
                        group,
                        mech,
                        size,
                        rate_hz,
                        ..
                    },
                    Some(h),
                ) => report
                    .latency
                    .push(Latency::from_hist(group, *mech, *size, *rate_hz, &h)),
                _ if !runs.is_empty() => report.throughput.push(median(runs)),
                _ => {}
            }
        }
        bar.inc(n as u64);
        rest = tail;
    }
    Ok(())
}

/// The run of median rate.
fn median(mut runs: Vec<Throughput>) -> Throughput {
    runs.sort_by(|a, b| a.msgs_per_sec().total_cmp(&b.msgs_per_sec()));
    runs.swap_remove(runs.len() / 2)
}

fn describe(step: &Step) -> String {
    match step {
        Step::Latency {
            mech,
            size,
            rate_hz,
            ..
        } => {
            let rate = rate_hz.map_or(String::new(), |hz| format!(" at {hz} Hz"));
            format!("round trip {} {}{rate}", fmt_size(*size), mech.label())
        }
        Step::Throughput { mech, size, .. } => {
            format!("throughput {} {}", fmt_size(*size), mech.label())
        }
        Step::Crowd {
            mech,
            producers,
            consumers,
            ..
        } => format!(
            "throughput 8 B {}",
            crowd::label(*mech, *producers, *consumers)
        ),
    }
}

/// The targets, from the rows of this run: (stable id, what, measured, goal).
fn targets(r: &Report) -> Vec<Target> {
    let mut out = Vec::new();
    let mut push = |id: &str, what: &str, measured: Option<f64>, goal: Goal| {
        if let Some(m) = measured {
            out.push(Target {
                id: id.to_owned(),
                what: what.to_owned(),
                measured: m,
                goal,
                met: goal.met(m),
            });
        }
    };
    let lat = |m: Mech| r.latency_row(MAIN_GROUP, m.label());
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    let p50 = |m| lat(m).map(|l| l.p50() as f64);
    let p999 = |m| lat(m).map(|l| l.p999() as f64);
    push(
        "spsc_spin_p50_vs_limit",
        "busy-spin round trip p50 / limit p50",
        ratio(p50(Mech::RingSpin), p50(Mech::Limit)),
        Goal::AtMost(1.15),
    );
    push(
        "spsc_spin_p999_vs_limit",
        "busy-spin round trip p99.9 / limit p99.9",
        ratio(p999(Mech::RingSpin), p999(Mech::Limit)),
        Goal::AtMost(1.5),
    );
    push(
        "spsc_try_p50_vs_limit",
        "try_* polling round trip p50 / limit p50",
        ratio(p50(Mech::RingTry), p50(Mech::Limit)),
        Goal::AtMost(1.1),
    );
    push(
        "spsc_try_p999_vs_limit",
        "try_* polling round trip p99.9 / limit p99.9",
        ratio(p999(Mech::RingTry), p999(Mech::Limit)),
        Goal::AtMost(1.5),
    );
    push(
        "spsc_default_p50_vs_spin",
        "default strategy p50 / busy-spin p50",
        ratio(p50(Mech::RingDefault), p50(Mech::RingSpin)),
        Goal::AtMost(1.2),
    );
    let mpmc = |m: Mech| {
        r.latency_row(MPMC_RT_GROUP, m.label())
            .map(|l| l.p50() as f64)
    };
    push(
        "mpmc_spin_p50_vs_spsc",
        "MPMC busy-spin round trip p50 / SPSC busy-spin p50",
        ratio(mpmc(Mech::MpmcSpin), mpmc(Mech::RingSpin)),
        Goal::AtMost(1.3),
    );
    let broadcast = |m: Mech| {
        r.latency_row(BROADCAST_RT_GROUP, m.label())
            .map(|l| l.p50() as f64)
    };
    push(
        "broadcast_spin_p50_vs_spsc",
        "broadcast busy-spin round trip p50 / SPSC busy-spin p50",
        ratio(broadcast(Mech::BroadcastSpin), broadcast(Mech::RingSpin)),
        Goal::AtMost(1.2),
    );
    push(
        "spsc_park_p50_vs_futex",
        "parked round trip p50 / raw futex p50",
        ratio(p50(Mech::RingPark), p50(Mech::Futex)),
        Goal::AtMost(1.05),
    );
    let tp = |m: Mech| {
        r.throughput
            .iter()
            .find(|t| t.size == 8 && t.name == m.label())
    };
    let rate = |m| tp(m).map(Throughput::msgs_per_sec);
    push(
        "spsc_spin_8b_rate_vs_reference",
        "8 B throughput, busy-spin / reference ring",
        ratio(rate(Mech::RingSpin), rate(Mech::RefRing)),
        Goal::AtLeast(1.0),
    );
    push(
        "spsc_default_8b_rate_vs_reference",
        "8 B throughput, default / reference ring",
        ratio(rate(Mech::RingDefault), rate(Mech::RefRing)),
        Goal::AtLeast(1.0),
    );
    push(
        "spsc_spin_8b_rate_vs_pipe",
        "8 B throughput, busy-spin / pipe",
        ratio(rate(Mech::RingSpin), rate(Mech::Pipe)),
        Goal::AtLeast(20.0),
    );
    push(
        "spsc_default_8b_wakes_per_m",
        "futex wake calls per million messages, 8 B streaming, default",
        tp(Mech::RingDefault).and_then(|t| t.wakes_per_m),
        Goal::Exactly(0.0),
    );
    let crowd = |m: Mech, p: usize, c: usize| {
        let name = crowd::label(m, p, c);
        r.throughput
            .iter()
            .find(|t| t.size == 8 && t.name == name)
            .map(Throughput::msgs_per_sec)
    };
    let spsc = crowd(Mech::RingSpin, 1, 1);
    push(
        "broadcast_default_1to2_rate_vs_spsc",
        "broadcast 1 -> 2 throughput (published), default / SPSC busy-spin 1P/1C",
        ratio(crowd(Mech::BroadcastDefault, 1, 2), spsc),
        Goal::AtLeast(0.8),
    );
    out
}

fn write_to(path: &Path, text: &str) -> io::Result<()> {
    if path.as_os_str() == "-" {
        io::stdout().write_all(text.as_bytes())
    } else {
        std::fs::write(path, text)
    }
}

/// Runs the benchmark as `args` say.
pub fn run(args: &BenchArgs) -> io::Result<()> {
    cleanup::install()?;
    let cpus = cpus::choose(args.cpus)?;
    if let Some((a, _)) = cpus {
        cpus::pin(a)?;
    }
    let budget = Budget::new(args.quick);
    let steps = plan(&budget, args.latency_only);
    let mut report = Report {
        machine: machine::describe(cpus),
        quick: args.quick,
        ..Report::default()
    };
    let mut ctx = Ctx {
        clock: Clock::calibrate(),
        cpus,
        budget,
        sessions: 0,
    };
    let bar = ProgressBar::new(steps.len() as u64).with_style(
        ProgressStyle::with_template("{bar:32} {pos}/{len} [{elapsed}] {msg}")
            .expect("valid template"),
    );
    run_steps(&mut ctx, &steps, &mut report, &bar)?;
    bar.finish_and_clear();
    report.finish();
    report.targets = targets(&report);
    if !args.latency_only {
        report.notes.push(format!(
            "One-queue throughput: the parent is producer 0; producers run on the first CPU, \
             consumers on the second (with 2P/2C or 1P/2C two processes share a CPU); MPMC \
             queues and lossless broadcast topics of {} slots of 8 bytes, the SPSC ring \
             1 MiB. A topic's subscribers each receive every message: its rows count the \
             messages published.",
            crowd::MPMC_SLOTS
        ));
        report.notes.push(
            "MPMC between threads, next to crossbeam's ArrayQueue: cargo bench --bench mpmc; \
             broadcast topics between threads: cargo bench --bench broadcast."
                .to_owned(),
        );
    }
    report.notes.push(
        "iceoryx2, crossbeam ArrayQueue and rtrb are compared in benches/peers (own workspace)."
            .to_owned(),
    );
    let to_stdout =
        |p: &Option<std::path::PathBuf>| p.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout(&args.json) && !to_stdout(&args.csv) {
        print!("{}", report.table());
    }
    if let Some(p) = &args.json {
        write_to(p, &format!("{:#}\n", json::report(&report)))?;
    }
    if let Some(p) = &args.csv {
        write_to(p, &report.csv())?;
    }
    if let Some(p) = &args.plot {
        let rows: Vec<&Latency> = report
            .latency
            .iter()
            .filter(|l| l.group == MAIN_GROUP)
            .collect();
        plot::draw(
            p,
            "ipcring bench: 8-byte round trip between two pinned processes",
            &rows,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_starts_with_the_limit_and_covers_every_size() {
        let steps = plan(&Budget::new(true), false);
        assert!(matches!(
            &steps[0],
            Step::Latency {
                mech: Mech::Limit,
                size: 8,
                ..
            }
        ));
        for size in SIZES {
            assert!(steps
                .iter()
                .any(|s| matches!(s, Step::Throughput { size: z, .. } if *z == size)));
            assert!(steps
                .iter()
                .any(|s| matches!(s, Step::Latency { size: z, .. } if *z == size)));
        }
        assert_eq!(plan(&Budget::new(true), true).len(), MAIN.len());
    }

    #[test]
    fn the_main_table_polls_with_try_calls_next_to_busy_spin() {
        let spin = MAIN.iter().position(|&m| m == Mech::RingSpin).unwrap();
        assert_eq!(MAIN[spin + 1], Mech::RingTry);
    }

    #[test]
    fn the_try_polling_targets_compare_with_the_limit() {
        use crate::report::hist;
        let mut r = Report::default();
        for (mech, ns) in [
            (Mech::Limit, 100),
            (Mech::RingSpin, 110),
            (Mech::RingTry, 109),
        ] {
            let h = hist([ns; 10]);
            r.latency
                .push(Latency::from_hist(MAIN_GROUP, mech, 8, None, &h));
        }
        r.finish();
        let t = targets(&r);
        let p50 = t.iter().find(|t| t.id == "spsc_try_p50_vs_limit").unwrap();
        assert!((p50.measured - 1.09).abs() < 0.01, "{p50:?}");
        assert_eq!((p50.goal, p50.met), (Goal::AtMost(1.1), true));
        let p999 = t.iter().find(|t| t.id == "spsc_try_p999_vs_limit").unwrap();
        assert_eq!(p999.goal, Goal::AtMost(1.5));
        assert!(p999.met);
        // Rows that were not measured give no target.
        assert!(!t.iter().any(|t| t.id == "spsc_park_p50_vs_futex"));
    }

    #[test]
    fn the_plan_has_the_mpmc_and_broadcast_rows_after_their_spsc_base() {
        let steps = plan(&Budget::new(false), false);
        let rt: Vec<Mech> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Latency { group, mech, .. } if group == MPMC_RT_GROUP => Some(*mech),
                _ => None,
            })
            .collect();
        assert_eq!(rt, MPMC_RT);
        let rt: Vec<Mech> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Latency { group, mech, .. } if group == BROADCAST_RT_GROUP => Some(*mech),
                _ => None,
            })
            .collect();
        assert_eq!(rt, BROADCAST_RT);
        let crowds: Vec<(Mech, usize, usize)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Crowd {
                    mech,
                    producers,
                    consumers,
                    reps,
                    ..
                } => {
                    assert_eq!(*reps, 5);
                    Some((*mech, *producers, *consumers))
                }
                _ => None,
            })
            .collect();
        assert_eq!(crowds, CROWDS);
        assert_eq!(crowds[0], (Mech::RingSpin, 1, 1));
        assert!(plan(&Budget::new(true), true)
            .iter()
            .all(|s| matches!(s, Step::Latency { group, .. } if group == MAIN_GROUP)));
    }
}
