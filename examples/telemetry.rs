//! Telemetry: one fast publisher process and two subscriber processes on a lossy
//! broadcast topic; one subscriber keeps up, the other is deliberately slow and is
//! overtaken.
//!
//! ```text
//! cargo run --release --example telemetry
//! ```
//!
//! The publisher never waits: it overwrites the oldest samples. The slow subscriber gets
//! `RecvError::Lagged { missed }` each time it was overtaken, with the exact number of
//! samples it lost, and resumes at the oldest one still held. Each subscriber checks that
//! every sample it receives is intact (a checksum) and later than the one before, and
//! that received + missed == published. Exit status 0, or 1 if an invariant does not
//! hold; nothing is left in /dev/shm, also after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::RecvError;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::{mix, Run};

const SAMPLES: u64 = 2_000_000;

/// A sample: its number, a reading, and a checksum of both.
type Sample = [u64; 3];

fn sample(seq: u64) -> Sample {
    let reading = mix(seq) % 1000;
    [seq, reading, mix(seq ^ reading)]
}

fn intact(s: &Sample) -> bool {
    *s == sample(s[0])
}

fn publisher(topic: &str) -> ExitCode {
    let mut tx = Publisher::open(topic).expect("open the topic");
    for seq in 0..SAMPLES {
        tx.send_value(&sample(seq)).expect("publish");
    }
    ExitCode::SUCCESS
}

/// A subscriber that sleeps `nap` after every 1 000 samples.
fn subscriber(topic: &str, nap: Duration) -> ExitCode {
    let mut rx = Subscriber::open(topic).expect("subscribe");
    println!("ready");
    let (mut received, mut missed, mut next, mut laps) = (0u64, 0u64, 0u64, 0u64);
    while received + missed < SAMPLES {
        match rx.recv_value::<Sample>() {
            Ok(s) => {
                assert!(intact(&s), "sample {} is torn", s[0]);
                assert_eq!(s[0], next, "a sample that no Lagged accounts for");
                next += 1;
                received += 1;
                if received % 1000 == 0 && !nap.is_zero() {
                    std::thread::sleep(nap);
                }
            }
            Err(RecvError::Lagged { missed: m }) => {
                missed += m;
                next += m;
                laps += 1;
            }
            Err(e) => panic!("receive: {e}"),
        }
    }
    let own = rx.own_stats();
    assert_eq!((own.received, own.missed), (received, missed));
    println!("counted {received} {missed} {laps}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "publisher" => publisher(&args[0]),
            "subscriber" => {
                let nap = Duration::from_micros(args[1].parse().expect("a nap in µs"));
                subscriber(&args[0], nap)
            }
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("telemetry");
    let topic = run.queue("samples");
    let hold = Builder::new(&topic)
        .capacity(4096)
        .slot_size(std::mem::size_of::<Sample>())
        .lossy(true)
        .create_subscriber()
        .expect("create the topic");
    let mut subs: Vec<_> = [("fast", 0), ("slow", 500)]
        .into_iter()
        .map(|(name, nap)| {
            (
                name,
                run.spawn("subscriber", [topic.clone(), nap.to_string()]),
            )
        })
        .collect();
    for (_, s) in &mut subs {
        s.expect("ready");
    }
    drop(hold);
    let started = Instant::now();
    let (_, status) = run.spawn("publisher", [topic.as_str()]).finish();
    run.check(status.success(), "the publisher failed");
    let took = started.elapsed();
    println!("telemetry: 1 publisher, {SAMPLES} samples of 24 bytes on a lossy topic of 4096");
    println!(
        "  published in {took:.2?}: {:.1} M samples/s, never waiting for a subscriber",
        SAMPLES as f64 / took.as_secs_f64() / 1e6
    );
    for (name, s) in subs {
        let (lines, status) = s.finish();
        run.check(status.success(), &format!("the {name} subscriber failed"));
        let v: Vec<u64> = lines
            .iter()
            .find_map(|l| l.strip_prefix("counted "))
            .unwrap_or_else(|| run.fail("a subscriber did not report"))
            .split(' ')
            .map(|w| w.parse().expect("a number"))
            .collect();
        run.check(v[0] + v[1] == SAMPLES, "received + missed != published");
        println!(
            "  {name}: received {} + missed {} = {SAMPLES} published; overtaken {} times; \
             nothing torn",
            v[0], v[1], v[2]
        );
    }
    ExitCode::SUCCESS
}
