//! The run over a file-backed ring (`--persist DIR`): both systems are killed twice, at
//! different moments, and restarted; once both are dead together.

use crate::shop::{applied_ids, check_stock, journal_next_at, ORDERS};
use crate::support::{mix, Run, Worker};
use crate::DEADLINE;
use ipcring::mpmc::Builder;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Orders sent before inventory first starts.
const INVENTORY_STARTS: u64 = 2_000;
/// Orders in the stock log when inventory #1 is killed.
const INVENTORY_1_KILLED: u64 = 4_000;
/// Orders sent when order system #1 is killed: both are dead then.
const ORDERS_1_KILLED: u64 = 8_000;
/// Orders sent when order system #2 is killed.
const ORDERS_2_KILLED: u64 = 12_000;
/// Orders in the stock log when inventory #2 is killed.
const INVENTORY_2_KILLED: u64 = 15_000;
/// Orders sent when inventory #3 starts.
const INVENTORY_3_STARTS: u64 = 17_000;

/// The files of a run, in its directory: the order queue, the order system's journal,
/// the stock log.
const RING: &str = "orders.ring";
const JOURNAL: &str = "orders.journal";
const STOCK: &str = "stock.log";

/// A number that a child said after `key`.
fn count(w: &mut Worker, key: &str) -> u64 {
    w.expect(key).parse().expect("a count")
}

/// Kills `w` with SIGKILL within 2 ms of now, at a moment that differs from run to run: a
/// child is killed anywhere in its cycle (between a send and its journal line, between
/// an apply and the release), not just after it printed the line we waited for.
fn kill_soon(w: Worker) {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::thread::sleep(Duration::from_micros(mix(u64::from(seed)) % 2_000));
    w.kill9();
}

/// Refuses a run: prints why, exit status 2.
fn refuse(why: &str) -> ExitCode {
    eprintln!("order_inventory: {why}");
    ExitCode::from(2)
}

/// Runs the scenario in `dir` (created if absent), whose files are removed at the end
/// unless `keep`.
pub fn run(dir: &Path, keep: bool) -> ExitCode {
    let dir = match std::path::absolute(dir) {
        Ok(d) => d,
        Err(e) => return refuse(&format!("{}: {e}", dir.display())),
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return refuse(&format!("create {}: {e}", dir.display()));
    }
    let Some(dir_str) = dir.to_str() else {
        return refuse(&format!("{} is not a UTF-8 path", dir.display()));
    };
    let found: Vec<&str> = [RING, JOURNAL, STOCK]
        .into_iter()
        .filter(|f| dir.join(f).symlink_metadata().is_ok())
        .collect();
    if !found.is_empty() {
        return refuse(&format!(
            "{dir_str} already holds {} (of an earlier run?): a run starts from an empty \
             queue and empty logs, so that its check covers every order; remove them or give \
             another directory",
            found.join(", ")
        ));
    }
    let ring = dir.join(RING);
    let journal = dir.join(JOURNAL);
    let stock = dir.join(STOCK);
    // The children's arguments; the queue's, being a path, names a file-backed ring.
    let [q, j, s] = [&ring, &journal, &stock].map(|p| p.to_str().expect("UTF-8").to_owned());

    let run = Run::start("order_inventory");
    run.deadline(DEADLINE);
    if !keep {
        run.remove_file_ring_at_end(ring.clone());
        run.remove_file_at_end(journal.clone());
        run.remove_file_at_end(stock.clone());
    }

    // Life 1 of each; inventory dies first, the order system goes on alone, then dies.
    let mut orders = run.spawn("orders", [&q, &j]);
    orders.expect("ready");
    orders.wait_for("accepted", INVENTORY_STARTS);
    let mut inventory = run.spawn("inventory", [&q, &s]);
    inventory.expect("ready");
    inventory.wait_for("applied", INVENTORY_1_KILLED);
    kill_soon(inventory);
    let applied_1 = applied_ids(&stock).len();
    orders.wait_for("accepted", ORDERS_1_KILLED);
    kill_soon(orders);
    let sent_1 = journal_next_at(&journal);

    // Both dead: the file alone holds what was sent and not yet applied.
    let found = ipcring::survey::inspect_file(&ring).expect("inspect the order queue");
    run.check(!found.in_use(), "a process still holds the order queue");
    let in_file = found.messages;
    run.check(
        in_file > 0,
        "no order waited in the file while both systems were dead",
    );

    // Inventory #2 starts with no order system: the file feeds it.
    let mut inventory = run.spawn("inventory", [&q, &s]);
    let inventory_2_from = count(&mut inventory, "ready");
    let inventory_2_idle = count(&mut inventory, "idle");
    let ids = applied_ids(&stock);
    let missing = (0..sent_1).filter(|id| !ids.contains(id)).count();
    run.check(
        missing == 0,
        &format!("{missing} of the {sent_1} orders sent before both died never reached the stock"),
    );

    // Order system #2 resumes, dies, and #3 resumes; then inventory #2 dies and #3 starts.
    let mut orders = run.spawn("orders", [&q, &j]);
    let orders_2_from = count(&mut orders, "ready");
    orders.wait_for("accepted", ORDERS_2_KILLED);
    kill_soon(orders);
    let sent_2 = journal_next_at(&journal);
    let mut orders = run.spawn("orders", [&q, &j]);
    let orders_3_from = count(&mut orders, "ready");
    inventory.wait_for("applied", INVENTORY_2_KILLED);
    kill_soon(inventory);
    let applied_2 = applied_ids(&stock).len();
    orders.wait_for("accepted", INVENTORY_3_STARTS);
    let mut inventory = run.spawn("inventory", [&q, &s]);
    let inventory_3_from = count(&mut inventory, "ready");

    let committed = count(&mut orders, "done");
    let (_, status) = orders.finish();
    run.check(status.success(), "order system #3 failed");
    let (lines, status) = inventory.finish();
    run.check(status.success(), "inventory #3 failed");
    let again: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("drained "))
        .and_then(|d| d.split(' ').nth(1)?.parse().ok())
        .unwrap_or_else(|| run.fail("inventory #3 did not report"));

    run.check(
        committed >= ORDERS,
        &format!("{committed} orders committed of {ORDERS}"),
    );
    let units = check_stock(&run, &stock);
    let stats = Builder::at(&ring)
        .open_consumer()
        .expect("open the order queue")
        .stats();

    println!(
        "order_inventory --persist: {ORDERS} orders through {q}; each system killed twice \
         (SIGKILL) and restarted"
    );
    println!("  inventory #1: killed with {applied_1} orders in its stock log");
    println!("  order system #1: killed after sending {sent_1} (its journal)");
    println!("  both dead: {in_file} orders waited in the file, no process attached");
    println!(
        "  inventory #2, no order system running: applied them from the file \
         ({inventory_2_from} -> {inventory_2_idle} in its log)"
    );
    println!(
        "  order system #2 resumed at order {orders_2_from}, killed after sending {sent_2}; \
         #3 resumed at order {orders_3_from}"
    );
    println!(
        "  inventory #2: killed with {applied_2} in its log; #3 resumed with {inventory_3_from}"
    );
    println!(
        "  the queue: {committed} orders committed ({} sent twice: a kill between a send and \
         its journal line), {} claims of a killed order system passed, {} delivered again \
         after an inventory kill; inventory #3 skipped {again} repeats by order id",
        committed - ORDERS,
        stats.skipped,
        stats.redelivered
    );
    println!("  every order applied exactly once; stock matches ({units} units)");
    if keep {
        println!("  kept in {dir_str}: {RING}, {JOURNAL}, {STOCK}");
    } else {
        println!("  files removed (--keep keeps them)");
    }
    ExitCode::SUCCESS
}
