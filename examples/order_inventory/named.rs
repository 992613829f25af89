//! The run over a named ring: inventory starts late, is killed once, and restarts; the
//! order system runs through.

use crate::shop::{applied_ids, check_stock, ORDERS};
use crate::support::Run;
use crate::DEADLINE;
use ipcring::mpmc::Consumer;
use std::process::ExitCode;
use std::time::Instant;

/// Orders accepted before inventory first starts.
const BEFORE_INVENTORY: u64 = 4_000;
/// Orders inventory applies before it is killed.
const BEFORE_KILL: u64 = 9_000;

/// Runs the scenario over a named ring of this run, removed at the end.
pub fn run() -> ExitCode {
    let run = Run::start("order_inventory");
    run.deadline(DEADLINE);
    let queue = run.queue("orders");
    let log = run.file("stock.log");
    let log_arg = log.to_str().expect("a UTF-8 path").to_owned();
    let started = Instant::now();
    let mut order_system = run.spawn("orders", [&queue]);
    order_system.expect("ready");
    order_system.wait_for("accepted", BEFORE_INVENTORY);
    let down_for = started.elapsed();

    let mut first = run.spawn("inventory", [&queue, &log_arg]);
    first.expect("ready");
    first.wait_for("applied", BEFORE_KILL);
    first.kill9();
    let before_restart = applied_ids(&log).len();

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

    run.check(
        accepted == ORDERS,
        &format!("{accepted} orders accepted of {ORDERS}"),
    );
    let units = check_stock(&run, &log);
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
    println!("  every order applied exactly once; stock matches ({units} units)");
    ExitCode::SUCCESS
}
