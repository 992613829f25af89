//! Log shipping: four collector processes send log lines to one shipper process through
//! an MPMC queue; the shipper writes them to a file in batches.
//!
//! ```text
//! cargo run --release --example log_shipping
//! ```
//!
//! Invariant, checked by reading the file back: every line of every collector is in it
//! exactly once, byte for byte, and each collector's lines are in the order it sent them.
//! Prints lines/s, MB/s and the number of batches. Exit status 0, or 1 if the invariant
//! does not hold; nothing is left in /dev/shm or the temporary directory, also after
//! Ctrl-C.
//!
//! The shipper releases a line once it is in its batch, before the batch reaches the
//! file: a shipper that crashes loses its unwritten batch. This program shows throughput
//! and batching; for a crash-safe hand-off see `order_inventory` (release after apply).

#[path = "support/mod.rs"]
mod support;

use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::RecvError;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use support::{mix, Run};

const COLLECTORS: u64 = 4;
const LINES: u64 = 100_000;
/// Largest line.
const SLOT: usize = 200;
/// The shipper writes when its batch reaches this size.
const BATCH: usize = 64 << 10;

/// Line `n` of collector `c`: its origin, then a payload whose length and letters depend
/// on both (so that a mix-up is noticed).
fn line(c: u64, n: u64) -> String {
    let mut s = format!("collector={c} seq={n} msg=");
    let len = 20 + (mix(c << 32 | n) % (SLOT as u64 - 60)) as usize;
    let letter = b'a' + (mix(n ^ c) % 26) as u8;
    s.extend(std::iter::repeat(letter as char).take(len));
    s
}

fn collector(queue: &str, c: u64) -> ExitCode {
    let mut tx = Producer::open(queue).expect("open the queue");
    for n in 0..LINES {
        tx.send(line(c, n).as_bytes()).expect("send a line");
    }
    ExitCode::SUCCESS
}

fn shipper(queue: &str, path: &Path) -> ExitCode {
    let mut rx = Consumer::open(queue).expect("open the queue");
    let mut file = File::create(path).expect("create the output file");
    println!("ready");
    let mut batch = Vec::with_capacity(BATCH + SLOT + 1);
    let (mut batches, mut lines) = (0u64, 0u64);
    loop {
        match rx.read() {
            Ok(g) => {
                let at = batch.len();
                batch.resize(at + g.len(), 0);
                g.copy_to_slice(&mut batch[at..]);
                batch.push(b'\n');
                lines += 1;
            }
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("shipper: {e}"),
        }
        if batch.len() >= BATCH {
            file.write_all(&batch).expect("write a batch");
            batch.clear();
            batches += 1;
        }
    }
    if !batch.is_empty() {
        file.write_all(&batch).expect("write the last batch");
        batches += 1;
    }
    println!("shipped {lines} {batches}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "collector" => collector(&args[0], args[1].parse().expect("an id")),
            "shipper" => shipper(&args[0], Path::new(&args[1])),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("log_shipping");
    let queue = run.queue("logs");
    let out = run.file("shipped.log");
    // Held until the collectors are done, so that the shipper does not see the queue
    // abandoned before they arrive.
    let hold = Builder::new(&queue)
        .capacity(4096)
        .slot_size(SLOT)
        .producers(COLLECTORS as usize + 1)
        .consumers(1)
        .create_producer()
        .expect("create the queue");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let mut shipper = run.spawn("shipper", [queue.as_str(), out_arg]);
    shipper.expect("ready");
    let started = Instant::now();
    let collectors: Vec<_> = (0..COLLECTORS)
        .map(|c| run.spawn("collector", [queue.clone(), c.to_string()]))
        .collect();
    for c in collectors {
        let (_, status) = c.finish();
        run.check(status.success(), "a collector failed");
    }
    drop(hold);
    let (lines, status) = shipper.finish();
    let took = started.elapsed();
    run.check(status.success(), "the shipper failed");
    let report = lines.iter().find_map(|l| l.strip_prefix("shipped "));
    let v: Vec<u64> = report
        .unwrap_or_else(|| run.fail("the shipper did not report"))
        .split(' ')
        .map(|w| w.parse().expect("a number"))
        .collect();
    let batches = v[1];

    // Read the file back: each collector's lines, in order, once each.
    let text = std::fs::read_to_string(&out).expect("read the shipped file");
    let mut next = vec![0u64; COLLECTORS as usize];
    let mut bytes = 0usize;
    for l in text.lines() {
        let c: u64 = l
            .strip_prefix("collector=")
            .and_then(|r| r.split(' ').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| run.fail(&format!("a line that no collector sent: {l:?}")));
        run.check(c < COLLECTORS, "a line of an unknown collector");
        let n = next[c as usize];
        run.check(
            l == line(c, n),
            &format!("collector {c}: expected line {n}, found {l:?}"),
        );
        next[c as usize] += 1;
        bytes += l.len() + 1;
    }
    run.check(
        next.iter().all(|&n| n == LINES),
        &format!("lines per collector {next:?}, expected {LINES} each"),
    );
    let total = COLLECTORS * LINES;
    run.check(v[0] == total, "the shipper counted other lines");
    let secs = took.as_secs_f64();
    println!("log_shipping: {COLLECTORS} collectors x {LINES} lines -> 1 shipper -> file");
    println!(
        "  {total} lines, {:.1} MB in {took:.2?}: {:.2} M lines/s, {:.0} MB/s, {batches} batches \
         of ~{} KiB",
        bytes as f64 / 1e6,
        total as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6,
        BATCH >> 10
    );
    println!("  read back: every line exactly once, in order per collector");
    ExitCode::SUCCESS
}
