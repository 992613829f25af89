//! Decoupling: the order system writes orders into a queue, the inventory system applies
//! them. Inventory may be down: orders are still accepted, and wait in the queue.
//!
//! ```text
//! cargo run --release --example order_inventory
//! cargo run --release --example order_inventory -- --persist DIR [--keep]
//! ```
//!
//! By default (`named.rs`) the queue is a named ring. The order process accepts 20 000
//! orders at a steady pace. The inventory process starts only after 4 000 of them, is
//! killed with SIGKILL half-way through, and is started again.
//!
//! With `--persist DIR` (`persist.rs`) the queue is the file-backed ring `DIR/orders.ring`
//! (`mpmc::Builder::at`), next to the order system's journal `DIR/orders.journal` and
//! the stock log `DIR/stock.log`. Both processes are killed with SIGKILL twice, at
//! different moments, and restarted: three lives each. The first time, both are dead at
//! once: no process has the queue open, and the file alone holds the orders sent and not
//! yet applied; inventory is restarted first and applies them before any order system
//! runs again.
//!
//! Invariant, checked: at the end every order was applied exactly once to the stock, and
//! the stock matches the orders.
//!
//! How inventory applies each order once: it reads each order in place (`read`), applies
//! it — appends it to its stock log, skipped if the log already has that order id — and
//! only then releases it. An order whose inventory died before the release is delivered
//! again to the restarted inventory (it takes over the dead one's role slot and its
//! claimed message), and the order id makes the second apply a no-op. So: at least once
//! from the queue, exactly once in the stock.
//!
//! How a restarted order system loses no order (`--persist`): it learns what it sent from
//! its journal, a file that lists the id of each order sent, written once the send of
//! that order has returned. It resumes after the last id there. Every order in the
//! journal is in the queue (or applied and released); a kill between a send and its
//! journal line leaves one order that is in the queue and not in the journal, and the
//! restarted order system sends it again: a duplicate, which inventory skips by id. The
//! other order — the journal line before the send — would lose that order: the journal
//! would name an order that never reached the queue. A kill between claiming a slot and
//! committing it leaves no order: the claim is passed (counted as `skipped`), and the
//! order is sent after the restart. Both logs are files of lines, each written by one
//! `write`; a kill may cut the last line short, and opening a log drops that tail.
//!
//! A queue outlives its producers, so the day ends with a closing message rather than
//! with the order system's leaving: an inventory that finds no order system attached
//! (`Disconnected`) waits for one to come back.
//!
//! What this shows holds against processes that die: the queue file, the journal and
//! the stock log are in the page cache when a process is killed. Against a power loss
//! each would have to be written back at a point where they agree (`Producer::flush`,
//! `fsync`); this program flushes the queue only at the end of the day.
//!
//! Exit status 0, or 1 if the invariant does not hold or the run does not end within a
//! minute. Nothing is left in /dev/shm or the temporary directory, also after Ctrl-C.
//! With `--persist`, the program removes its three files from DIR at the end (also after
//! Ctrl-C), unless `--keep` is given (to look at them: `ipcring inspect DIR/orders.ring`);
//! it creates DIR if absent and never removes it. A run refuses (exit status 2) a DIR
//! that already holds any of the three files, such as a kept run's: it starts from an
//! empty queue and empty logs, so that its check covers every order.

#[path = "../support/mod.rs"]
mod support;

mod named;
mod persist;
mod shop;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A run that has not ended by then fails.
const DEADLINE: Duration = Duration::from_secs(60);

const USAGE: &str = "usage: order_inventory [--persist DIR [--keep]]";

/// The run that the arguments ask for: `None` for the default one, or the directory of
/// a `--persist` run and whether to keep its files.
fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Option<(PathBuf, bool)>, String> {
    let mut dir = None;
    let mut keep = false;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--persist") => {
                let d = args.next().ok_or("--persist needs a directory")?;
                dir = Some(PathBuf::from(d));
            }
            Some("--keep") => keep = true,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    match dir {
        None if keep => Err("--keep goes with --persist DIR".to_owned()),
        dir => Ok(dir.map(|d| (d, keep))),
    }
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "orders" => shop::order_system(&args[0], args.get(1).map(Path::new)),
            "inventory" => shop::inventory(&args[0], Path::new(&args[1])),
            other => panic!("unknown role {other}"),
        };
    }
    match parse_args(std::env::args_os().skip(1)) {
        Ok(None) => named::run(),
        Ok(Some((dir, keep))) => persist::run(&dir, keep),
        Err(why) => {
            eprintln!("order_inventory: {why}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
