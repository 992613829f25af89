//! The two systems and what they keep: the orders, the order system, the inventory with
//! its stock log, and the check of the stock at the end.

use crate::support::{busy, mix, Run};
use ipcring::mpmc::Builder;
use ipcring::RecvError;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Orders of a day.
pub const ORDERS: u64 = 20_000;
/// Time between two orders.
const PACE: Duration = Duration::from_micros(20);
const SKUS: u64 = 16;

/// An order: id, SKU, quantity; all derived from the id.
type Order = [u64; 3];

/// The last message of the day: the order system sends nothing after it. A queue outlives
/// its producers (a killed order system restarts), so the end of the orders is a message,
/// not the order system's leaving.
const CLOSED: Order = [u64::MAX; 3];

fn order(id: u64) -> Order {
    [id, mix(id) % SKUS, 1 + mix(id ^ 0xabc) % 5]
}

/// The order queue's options. `queue` is a path (it holds a `/`: a file-backed ring) or
/// the name of a named ring.
fn queue_at(queue: &str) -> Builder {
    let at = if queue.contains('/') {
        Builder::at(queue)
    } else {
        Builder::new(queue)
    };
    at.capacity(1 << 15)
        .slot_size(std::mem::size_of::<Order>())
        .producers(1)
        .consumers(1)
}

/// An append-only file of lines, each written by one `write`. A kill during a write that
/// crosses a page boundary may leave the last line cut short: opening the log drops such a
/// tail, so that every line read back was written whole and the next one starts on a line
/// of its own.
struct LineLog {
    file: File,
}

impl LineLog {
    /// Opens the log at `path`, creating it if absent; returns it with its lines.
    fn open(path: &Path) -> (LineLog, Vec<String>) {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read a log");
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        file.set_len(whole as u64).expect("cut a torn line off");
        text.truncate(whole);
        (LineLog { file }, text.lines().map(str::to_owned).collect())
    }

    fn append(&mut self, line: &str) {
        self.file
            .write_all(format!("{line}\n").as_bytes())
            .expect("append to a log");
    }
}

/// The whole lines of the log at `path` (none if it is absent).
fn read_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let whole = text.rfind('\n').map_or(0, |i| i + 1);
    text[..whole].lines().map(str::to_owned).collect()
}

/// The order system's journal: the id of each order sent, one a line, in order. Returns
/// the id to send next.
pub fn journal_next(lines: &[String]) -> u64 {
    lines.last().map_or(0, |l| {
        l.parse::<u64>().expect("an order id in the journal") + 1
    })
}

/// [`journal_next`] of the journal at `path`.
pub fn journal_next_at(path: &Path) -> u64 {
    journal_next(&read_lines(path))
}

/// The order system: sends the orders from where it is to the last, then [`CLOSED`].
/// Without a journal it creates the queue and starts at the first order. With one, it
/// opens the queue (creating it if absent), resumes after the last order in the journal,
/// and adds each order to the journal once its send has returned. Says `ready FIRST`,
/// `accepted N` every 500 orders, and `done N`: the orders the queue counts as committed
/// over every life of the order system.
pub fn order_system(queue: &str, journal: Option<&Path>) -> ExitCode {
    let (mut tx, mut journal, first) = match journal {
        None => {
            let tx = queue_at(queue)
                .create_producer()
                .expect("create the order queue");
            (tx, None, 0)
        }
        Some(path) => {
            let (journal, lines) = LineLog::open(path);
            let tx = queue_at(queue)
                .open_or_create_producer()
                .expect("open the order queue");
            (tx, Some(journal), journal_next(&lines))
        }
    };
    println!("ready {first}");
    for id in first..ORDERS {
        busy(PACE);
        tx.send_value(&order(id)).expect("accept an order");
        if let Some(journal) = &mut journal {
            journal.append(&id.to_string());
        }
        if (id + 1) % 500 == 0 {
            println!("accepted {}", id + 1);
        }
    }
    tx.send_value(&CLOSED).expect("close the day");
    // The end of a batch: a file-backed queue is written back to its disk now (a named
    // one returns at once).
    tx.flush().expect("write the queue back");
    println!("done {}", tx.stats().sent - 1);
    ExitCode::SUCCESS
}

/// A stock log line: `id sku qty`.
fn parse_order(line: &str) -> Option<Order> {
    let v: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

/// The ids of the orders in the stock log at `path`.
pub fn applied_ids(path: &Path) -> HashSet<u64> {
    read_lines(path)
        .iter()
        .filter_map(|l| parse_order(l))
        .map(|o| o[0])
        .collect()
}

/// The inventory system: applies orders to the stock log, idempotent by order id, and
/// releases each order only once it is applied, until [`CLOSED`]. Says `ready N` (the
/// orders in its log), `applied N` every 500, `idle N` when the queue is drained and no
/// order system is attached, and at the end `drained FRESH AGAIN` (orders applied, and
/// orders skipped because the log had them).
pub fn inventory(queue: &str, log: &Path) -> ExitCode {
    let (mut stock, lines) = LineLog::open(log);
    let mut applied: HashSet<u64> = lines
        .iter()
        .filter_map(|l| parse_order(l))
        .map(|o| o[0])
        .collect();
    let mut rx = queue_at(queue)
        .open_consumer()
        .expect("open the order queue");
    println!("ready {}", applied.len());
    let (mut fresh, mut again) = (0u64, 0u64);
    let mut idle = false;
    loop {
        let g = match rx.read() {
            Ok(g) => g,
            // No order system now: it may be restarting. The day ends with `CLOSED`.
            Err(RecvError::Disconnected) => {
                if !idle {
                    println!("idle {}", applied.len());
                    idle = true;
                }
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            Err(e) => panic!("inventory: {e}"),
        };
        idle = false;
        let Some(o) = g.value::<Order>() else {
            panic!("inventory: an order of {} bytes", g.len());
        };
        if o == CLOSED {
            break;
        }
        let [id, sku, qty] = o;
        if applied.insert(id) {
            stock.append(&format!("{id} {sku} {qty}"));
            fresh += 1;
            if applied.len() % 500 == 0 {
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

/// Checks the stock log at `log` against the day's orders: every order applied exactly
/// once, nothing else, the stock of each SKU as the orders make it. Fails the run
/// otherwise; returns the units in stock.
pub fn check_stock(run: &Run, log: &Path) -> u64 {
    let applied: Vec<Order> = read_lines(log)
        .iter()
        .filter_map(|l| parse_order(l))
        .collect();
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
    want.iter().sum()
}
