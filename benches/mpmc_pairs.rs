//! MPMC streaming throughput against crossbeam's `ArrayQueue`, as paired runs: each round
//! streams the same number of 8-byte messages through both queues, one right after the
//! other (the order alternating from round to round), and the figure that counts is the
//! median over the rounds of each round's ratio. This machine's speed drifts by a factor
//! of two and more from minute to minute (a shared VM); a ratio of two runs a second
//! apart drifts far less than the rate of either, which criterion's groups (one bench
//! after the other, each for many seconds) cannot give.
//!
//! The queues and threads are those of `benches/mpmc.rs` (busy-polling ends, producers
//! pinned to the first CPU, consumers to the second); 1P/1C rounds also stream through
//! the SPSC ring, for what sharing the ends costs. Run with
//! `cargo bench --bench mpmc_pairs [-- ROUNDS [MESSAGES]]` (defaults: 10 rounds of
//! 10 000 000 messages).

use ipcring_bench_support::ends::{cb_ends, mpmc_ends, spsc_ends};
use ipcring_bench_support::pin;
use ipcring_bench_support::team::Team;

/// Median and quartiles of `v` (sorted here).
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: usize| v[(v.len() - 1) * q / 4];
    (at(2), at(1), at(3))
}

fn main() {
    // `cargo bench` passes `--bench`; the numbers are ours.
    let mut nums = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.parse::<u64>().expect("ROUNDS and MESSAGES are numbers"));
    let rounds = nums.next().unwrap_or(10).max(1);
    let n = nums.next().unwrap_or(10_000_000).max(1);
    let cpus = pin::choose(None).expect("sched_getaffinity");
    if let Some((a, _)) = cpus {
        pin::pin(a).expect("pin the main thread");
    }
    println!("MPMC streaming, 8-byte messages, {rounds} paired rounds of {n} messages");
    println!("(M msg/s: median [quartiles]; ratio: median [quartiles] of the rounds' ratios)");
    for (p, c) in [(1, 1), (2, 2)] {
        let (tx, rx) = cb_ends(p, c);
        let mut theirs = Team::start(tx, rx, cpus);
        let (tx, rx) = mpmc_ends(p, c);
        let mut ours = Team::start(tx, rx, cpus);
        let mut spsc = (p == 1).then(|| {
            let (tx, rx) = spsc_ends();
            Team::start(vec![tx], vec![rx], cpus)
        });
        let rate = |team: &mut Team| n as f64 / team.stream(n).as_secs_f64() / 1e6;
        let (mut a, mut b, mut r, mut s) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (x, y) = if round % 2 == 0 {
                let x = rate(&mut theirs);
                (x, rate(&mut ours))
            } else {
                let y = rate(&mut ours);
                (rate(&mut theirs), y)
            };
            a.push(x);
            b.push(y);
            r.push(y / x);
            if let Some(team) = spsc.as_mut() {
                s.push(rate(team));
            }
        }
        let ((am, a1, a3), (bm, b1, b3), (rm, r1, r3)) =
            (quartiles(&mut a), quartiles(&mut b), quartiles(&mut r));
        let spsc = if s.is_empty() {
            String::new()
        } else {
            let (sm, s1, s3) = quartiles(&mut s);
            format!("  (ipcring SPSC {sm:.1} [{s1:.1} {s3:.1}])")
        };
        println!(
            "{p}P/{c}C  ArrayQueue {am:6.1} [{a1:.1} {a3:.1}]  ipcring MPMC {bm:6.1} \
             [{b1:.1} {b3:.1}]  ratio {rm:.2} [{r1:.2} {r3:.2}]{spsc}"
        );
    }
}
