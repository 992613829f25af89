//! Peak shaving: a flash sale. Several client processes fire a burst of 100 000 purchase
//! requests at once into a queue whose capacity is the limit; a request over the limit is
//! rejected at once (`try_send` returns `Full`) instead of waiting, and counted.
//!
//! ```text
//! cargo run --release --example flash_sale
//! ```
//!
//! One order process works through the accepted requests (~20 µs each). Invariants,
//! checked: accepted == processed (the same requests: their digests match), and the
//! queue's own counters agree with what the clients saw (sent == accepted, rejected ==
//! rejected). Prints accepted / rejected and the latency of the reject decision.
//! Exit status 0, or 1 if an invariant does not hold; nothing is left in /dev/shm, also
//! after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{busy, mix, percentile, Run};

const CLIENTS: u64 = 4;
const REQUESTS: u64 = 100_000;
/// The queue's capacity: at most this many requests wait at once.
const LIMIT: usize = 1024;
/// The order process's work per request.
const WORK: Duration = Duration::from_micros(20);

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
}

/// A client: at the agreed moment, fires its share of the burst; reports what was
/// accepted, what was rejected, and how long each reject decision took.
fn client(queue: &str, id: u64, start_at: u64) -> ExitCode {
    let mut tx = Producer::open(queue).expect("open the queue");
    while now_ns() < start_at {
        std::hint::spin_loop();
    }
    let (mut accepted, mut digest) = (0u64, 0u64);
    let mut rejects = Vec::with_capacity((REQUESTS / CLIENTS) as usize);
    for n in 0..REQUESTS / CLIENTS {
        let request = id << 32 | n;
        let t = Instant::now();
        match tx.try_send_value(&request) {
            Ok(()) => {
                accepted += 1;
                digest = digest.wrapping_add(mix(request));
            }
            Err(SendError::Full) => rejects.push(t.elapsed().as_nanos() as u64),
            Err(e) => panic!("client: {e}"),
        }
    }
    let rejected = rejects.len();
    let (p50, p99) = (
        percentile(&mut rejects, 0.5),
        percentile(&mut rejects, 0.99),
    );
    println!("client {accepted} {rejected} {digest} {p50} {p99}");
    ExitCode::SUCCESS
}

/// The order process: works through the accepted requests until the sale is over.
fn orders(queue: &str) -> ExitCode {
    let mut rx = Consumer::open(queue).expect("open the queue");
    println!("ready");
    let (mut processed, mut digest) = (0u64, 0u64);
    loop {
        match rx.recv_value::<u64>() {
            Ok(request) => {
                busy(WORK);
                processed += 1;
                digest = digest.wrapping_add(mix(request));
            }
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("orders: {e}"),
        }
    }
    println!("processed {processed} {digest}");
    ExitCode::SUCCESS
}

fn numbers(line: &str) -> Vec<u64> {
    line.split(' ')
        .map(|w| w.parse().expect("a number"))
        .collect()
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "client" => client(&args[0], args[1].parse().unwrap(), args[2].parse().unwrap()),
            "orders" => orders(&args[0]),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("flash_sale");
    let queue = run.queue("requests");
    // The sale holds a producer slot until the clients are done, so that the order
    // process does not see the queue abandoned before they arrive.
    let sale = Builder::new(&queue)
        .capacity(LIMIT)
        .slot_size(8)
        .producers(CLIENTS as usize + 1)
        .consumers(1)
        .create_producer()
        .expect("create the queue");
    let mut order_process = run.spawn("orders", [&queue]);
    order_process.expect("ready");
    let start_at = (now_ns() + 300_000_000).to_string();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| run.spawn("client", [queue.clone(), id.to_string(), start_at.clone()]))
        .collect();
    let (mut accepted, mut rejected, mut digest) = (0u64, 0u64, 0u64);
    let (mut p50, mut p99) = (0u64, 0u64);
    for c in clients {
        let (lines, status) = c.finish();
        run.check(status.success(), "a client failed");
        let line = lines.iter().find_map(|l| l.strip_prefix("client "));
        let v = numbers(line.unwrap_or_else(|| run.fail("a client did not report")));
        accepted += v[0];
        rejected += v[1];
        digest = digest.wrapping_add(v[2]);
        p50 = p50.max(v[3]);
        p99 = p99.max(v[4]);
    }
    let stats = sale.stats();
    drop(sale);
    let (lines, status) = order_process.finish();
    run.check(status.success(), "the order process failed");
    let line = lines.iter().find_map(|l| l.strip_prefix("processed "));
    let v = numbers(line.unwrap_or_else(|| run.fail("the order process did not report")));
    let (processed, processed_digest) = (v[0], v[1]);

    run.check(accepted + rejected == REQUESTS, "requests went missing");
    run.check(
        accepted == processed,
        &format!("accepted {accepted}, processed {processed}"),
    );
    run.check(
        digest == processed_digest,
        "the processed requests are not the accepted ones",
    );
    run.check(
        stats.sent == accepted,
        "the queue counted other sends than the clients",
    );
    run.check(
        stats.rejected == rejected,
        "the queue counted other rejects than the clients",
    );
    println!(
        "flash_sale: {REQUESTS} requests from {CLIENTS} client processes, queue limit {LIMIT}"
    );
    println!("  accepted {accepted}, rejected at once {rejected}, processed {processed}");
    println!("  reject decision (try_send -> Full): p50 {p50} ns, p99 {p99} ns (worst client)");
    println!("  queue high-water {} of {LIMIT}", stats.high_water);
    ExitCode::SUCCESS
}
