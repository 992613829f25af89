//! Decoupling: the order system writes orders into a queue, the inventory system applies
//! them. Inventory may be down: orders are still accepted, and wait in the queue.
//!
//! ```text
//! cargo run --release --example order_inventory
//! ```
//!
//! The order process accepts 20 000 orders at a steady pace. The inventory process starts
//! only after 4 000 of them, is killed with SIGKILL half-way through, and is started again.
//! Invariant, checked: at the end every order was applied exactly once to the stock.
//!
//! How: inventory reads each order in place (`read`), applies it — appends it to its
//! stock log, one `write` of a whole line, skipped if the log already has that order id —
//! and only then releases it. An order whose inventory died before the release is
//! delivered again to the restarted inventory (it takes over the dead one's role slot and
//! its claimed message), and the order id makes the second apply a no-op. So: at least
//! once from the queue, exactly once in the stock.
//!
//! Exit status 0, or 1 if the invariant does not hold; nothing is left in /dev/shm or the
//! temporary directory, also after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::mpmc::{Builder, Consumer};
use ipcring::RecvError;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use support::{busy, mix, Run};

const ORDERS: u64 = 20_000;
/// Orders accepted before inventory first starts.
const BEFORE_INVENTORY: u64 = 4_000;
/// Orders inventory applies before it is killed.
const BEFORE_KILL: u64 = 9_000;
/// Time between two orders.
const PACE: Duration = Duration::from_micros(20);
const SKUS: u64 = 16;

/// An order: id, SKU, quantity; all derived from the id.
type Order = [u64; 3];

fn order(id: u64) -> Order {
    [id, mix(id) % SKUS, 1 + mix(id ^ 0xabc) % 5]
}

/// The order system: creates the queue, accepts every order, says how far it got.
fn orders(queue: &str) -> ExitCode {
    let mut tx = Builder::new(queue)
        .capacity(1 << 15)
        .slot_size(std::mem::size_of::<Order>())
        .producers(1)
        .consumers(1)
        .create_producer()
        .expect("create the order queue");
    println!("ready");
    for id in 0..ORDERS {
        busy(PACE);
        tx.send_value(&order(id)).expect("accept an order");
        if (id + 1) % 1000 == 0 {
            println!("accepted {}", id + 1);
        }
    }
    println!("done {}", tx.stats().sent);
    ExitCode::SUCCESS
}

/// The stock log: the orders applied so far, one `id sku qty` line each.
fn read_log(path: &Path) -> Vec<Order> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let v: Vec<u64> = l.split(' ').filter_map(|w| w.parse().ok()).collect();
            (v.len() == 3).then(|| [v[0], v[1], v[2]])
        })
        .collect()
}

/// The inventory system: applies orders to the stock log, idempotent by order id, and
/// releases each order only once it is applied.
fn inventory(queue: &str, log: &Path) -> ExitCode {
    let mut applied: HashSet<u64> = read_log(log).iter().map(|o| o[0]).collect();
    let mut file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the stock log");
    let mut rx = Consumer::open(queue).expect("open the order queue");
    println!("ready {}", applied.len());
    let (mut fresh, mut again) = (0u64, 0u64);
    loop {
        let g = match rx.read() {
            Ok(g) => g,
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("inventory: {e}"),
        };
        let Some([id, sku, qty]) = g.value::<Order>() else {
            panic!("inventory: an order of {} bytes", g.len());
        };
        if applied.insert(id) {
            // One write of the whole line: a kill leaves it in the log or not at all.
            file.write_all(format!("{id} {sku} {qty}\n").as_bytes())
                .expect("apply an order");
            fresh += 1;
            if fresh % 500 == 0 {
                println!("applied {}", applied.len());
            }
        } else {
            again += 1;
        }
        drop(g); // released only now that it is applied
    }
    println!("drained {fresh} {again}");
    ExitCode::SUCCESS
}

/// Reads a child's `key N` lines until N reaches `at_least`.
fn wait_for(w: &mut support::Worker, key: &str, at_least: u64) {
    while w.expect(key).parse::<u64>().expect("a count") < at_least {}
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "orders" => orders(&args[0]),
            "inventory" => inventory(&args[0], Path::new(&args[1])),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("order_inventory");
    let queue = run.queue("orders");
    let log = run.file("stock.log");
    let log_arg = log.to_str().expect("a UTF-8 path").to_owned();
    let started = Instant::now();
    let mut order_system = run.spawn("orders", [&queue]);
    order_system.expect("ready");
    wait_for(&mut order_system, "accepted", BEFORE_INVENTORY);
    let down_for = started.elapsed();

    let mut first = run.spawn("inventory", [&queue, &log_arg]);
    first.expect("ready");
    wait_for(&mut first, "applied", BEFORE_KILL);
    first.kill9();
    let before_restart = read_log(&log).len();

    let mut second = run.spawn("inventory", [&queue, &log_arg]);
    let resumed_with: u64 = second.expect("ready").parse().expect("a count");
    let accepted: u64 = order_system.expect("done").parse().expect("a count");
    let (_, status) = order_system.finish();
    run.check(status.success(), "the order system failed");
    let (lines, status) = second.finish();
    run.check(status.success(), "the restarted inventory failed");
    let drained = lines
        .iter()
        .find_map(|l| l.strip_prefix("drained "))
        .unwrap_or_else(|| run.fail("the inventory did not report"));
    let again: u64 = drained
        .split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);

    let applied = read_log(&log);
    let mut times: HashMap<u64, u32> = HashMap::new();
    let mut stock = [0u64; SKUS as usize];
    for [id, sku, qty] in &applied {
        *times.entry(*id).or_default() += 1;
        stock[*sku as usize] += qty;
    }
    let mut want = [0u64; SKUS as usize];
    (0..ORDERS)
        .map(order)
        .for_each(|[_, sku, qty]| want[sku as usize] += qty);
    run.check(
        accepted == ORDERS,
        &format!("{accepted} orders accepted of {ORDERS}"),
    );
    run.check(
        (0..ORDERS).all(|id| times.get(&id) == Some(&1)),
        &format!(
            "{} distinct orders applied of {ORDERS}, {} applied more than once",
            times.len(),
            times.values().filter(|&&n| n > 1).count()
        ),
    );
    run.check(
        applied.len() as u64 == ORDERS,
        "extra lines in the stock log",
    );
    run.check(stock == want, "the stock does not match the orders");
    let stats = Consumer::open(&queue).expect("open the queue").stats();

    println!("order_inventory: {ORDERS} orders, inventory down for the first {BEFORE_INVENTORY}");
    println!("  accepted while inventory was down: {BEFORE_INVENTORY} in {down_for:.2?}");
    println!(
        "  inventory #1 applied {before_restart}, then SIGKILL; #2 resumed with {resumed_with} \
         in its log"
    );
    println!(
        "  delivered again after the kill: {} (of which {again} already applied, skipped by \
         order id)",
        stats.redelivered
    );
    println!(
        "  every order applied exactly once; stock matches ({} units)",
        want.iter().sum::<u64>()
    );
    ExitCode::SUCCESS
}
