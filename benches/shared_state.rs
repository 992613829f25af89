//! What the shared-state kinds cost, in one run:
//!
//! - a blackboard's `set` and `get` (ns per call, values of 8, 64 and 1024 bytes) with 0,
//!   1 and 3 reader processes reading the same entry as fast as they can meanwhile (on
//!   a machine of 2 CPUs, 3 readers and a writer share them: the rows say what contention
//!   for the entry's line and for the CPUs does);
//! - `get` with the writer setting the same entry meanwhile, and `wait_changed` → `set`
//!   wake-ups;
//! - an event's notify → wake-up of a parked listener in another process, against a
//!   ring's send → wake-up of a parked consumer: round trips (p50, p99), the answer
//!   coming back the same way, and the cost of `notify` with nobody asleep.
//!
//! Each row is the median of `RUNS` interleaved runs. `cargo bench --bench shared_state
//! [-- RUNS]`

use ipcring::blackboard::{Builder, GetError, Reader, Writer};
use ipcring::{event, spsc, RecvError, WaitStrategy};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The futex wake-ups that the asking side of the last round-trip run made (so that a
/// run shows that its echo slept).
static WOKEN: AtomicU64 = AtomicU64::new(0);

/// Calls timed per run.
const CALLS: u64 = 2_000_000;
/// How long a run of wake-ups lasts, in round trips.
const WAKES: u64 = 20_000;
/// The environment variable that makes a run of this program a child role.
const ROLE: &str = "IPCRING_SHARED_STATE_ROLE";
const SIZES: [usize; 3] = [8, 64, 1024];

fn name(tag: &str) -> String {
    format!("bench-state-{}-{tag}", std::process::id())
}

/// Starts this program as the child `role` with `args`.
fn child(role: &str, args: &[&str]) -> Child {
    Command::new(std::env::current_exe().expect("this program"))
        .args(args)
        .env(ROLE, role)
        .stdout(Stdio::null())
        .spawn()
        .expect("start a child")
}

/// Child: reads entry 0 of board `board` until the writer is gone.
fn spin_reader(board: &str) {
    let mut r = Reader::open(board).expect("open a reader");
    let mut buf = Vec::new();
    loop {
        for _ in 0..1024 {
            let _ = r.get_into(0, &mut buf);
        }
        let now = r.version(0).expect("entry 0");
        if r.wait_changed(0, now, Some(Duration::ZERO)) == Err(GetError::NoWriter) {
            return;
        }
    }
}

/// Child: sets entry 0 of board `board` as fast as it can until entry 1 is set.
fn spin_writer(board: &str) {
    let mut w = Writer::open(board).expect("open the writer");
    let r = Reader::open(board).expect("open a reader");
    let value = vec![7u8; w.max_size(0).expect("entry 0")];
    while r.version(1) == Ok(0) {
        for _ in 0..1024 {
            w.set(0, &value).expect("set");
        }
    }
}

/// Child: answers each change of entry 0 of board `board` by setting entry 1 to the new
/// version, until entry 0 is set to `u64::MAX`.
fn echo(board: &str) {
    let mut w = Writer::open(board).expect("open a writer");
    let mut r = Builder::new(board)
        .wait_strategy(WaitStrategy::Park)
        .open_reader()
        .expect("open a reader");
    let mut seen = 0;
    while let Ok(v) = r.wait_changed(0, seen, None) {
        seen = v;
        if r.get::<u64>(0).map(|(x, _)| x) == Ok(u64::MAX) {
            return;
        }
        w.set_value(1, &v).expect("answer");
    }
}

/// A board of two entries of `size` bytes, with `writers` writer slots.
fn board(tag: &str, size: usize, writers: usize) -> (String, Writer) {
    let n = name(tag);
    let w = Builder::new(&n)
        .entries(2, size)
        .writers(writers)
        .create_writer()
        .expect("create a board");
    (n, w)
}

/// ns per call of `f`, over [`CALLS`] calls.
fn per_call(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

/// `set` with `readers` reader processes reading meanwhile.
fn set_cost(size: usize, readers: usize) -> f64 {
    let (n, mut w) = board("set", size, 1);
    let value = vec![1u8; size];
    w.set(0, &value).expect("set");
    let children: Vec<Child> = (0..readers).map(|_| child("reader", &[&n])).collect();
    std::thread::sleep(Duration::from_millis(50));
    let ns = per_call(|| {
        w.set(0, &value).expect("set");
    });
    finish(w, children, &n);
    ns
}

/// `get` with `readers - 1` other reader processes, or (`busy_writer`) a writer process
/// setting the entry meanwhile.
fn get_cost(size: usize, readers: usize, busy_writer: bool) -> f64 {
    let (n, mut w) = board("get", size, 2);
    w.set(0, &vec![1u8; size]).expect("set");
    let mut children: Vec<Child> = (1..readers).map(|_| child("reader", &[&n])).collect();
    if busy_writer {
        children.push(child("writer", &[&n]));
    }
    std::thread::sleep(Duration::from_millis(50));
    let mut r = Reader::open(&n).expect("open a reader");
    let mut buf = Vec::with_capacity(size);
    let ns = per_call(|| {
        r.get_into(0, &mut buf).expect("get");
    });
    if busy_writer {
        w.set(1, b"stop").expect("stop the writer");
    }
    finish(w, children, &n);
    ns
}

/// Round trips of a change through `wait_changed` (the answering side parks at once), in
/// ns: p50 and p99.
fn wake_round_trip() -> (u64, u64) {
    let (n, w) = board("wake", 8, 2);
    drop(w);
    let mut w = Writer::open(&n).expect("open the writer");
    let c = child("echo", &[&n]);
    let r = Reader::open(&n).expect("open a reader");
    let mut times = Vec::with_capacity(WAKES as usize);
    for i in 1..=WAKES {
        let start = Instant::now();
        let v = w.set_value(0, &i).expect("set");
        while r.version(1) != Ok(v) {
            std::hint::spin_loop();
        }
        times.push(start.elapsed().as_nanos() as u64);
    }
    WOKEN.store(w.stats().wakeups, Ordering::Relaxed);
    w.set_value(0, &u64::MAX).expect("stop the echo");
    finish(w, vec![c], &n);
    percentiles(times)
}

/// Child: waits (parked) on the listener of segment `ask` and answers each id 0 with id 0
/// of segment `answer`, until id 1 fires.
fn event_echo(ask: &str, answer: &str) {
    let mut rx = event::Builder::new(ask)
        .wait_strategy(WaitStrategy::Park)
        .open_listener()
        .expect("open the listener");
    let mut tx = event::Notifier::open(answer).expect("open the notifier");
    println!("ready");
    loop {
        let fired = rx.wait().expect("wait");
        if fired.count(1) > 0 {
            return;
        }
        for _ in 0..fired.count(0) {
            tx.notify(0).expect("answer");
        }
    }
}

/// Child: receives (parked) 8-byte values on ring `ask` and sends each back on `answer`,
/// until `ask` ends.
fn ring_echo(ask: &str, answer: &str) {
    let mut rx = spsc::Builder::new(ask)
        .wait_strategy(WaitStrategy::Park)
        .open_consumer()
        .expect("open the consumer");
    let mut tx = spsc::Producer::open(answer).expect("open the producer");
    while let Ok(v) = rx.recv_value::<u64>() {
        tx.send_value(&v).expect("answer");
    }
}

/// p50 and p99 (ns) of round trips through events: notify, a parked listener wakes and
/// notifies back, the asking side spins on its own listener.
fn event_round_trip() -> (u64, u64) {
    let (ask, answer) = (name("ev-ask"), name("ev-answer"));
    let mut tx = event::Builder::new(&ask)
        .ids(2)
        .create_notifier()
        .expect("create");
    let mut rx = event::Builder::new(&answer)
        .ids(1)
        .create_listener()
        .expect("create");
    let mut c = child_piped("event-echo", &[&ask, &answer]);
    let mut times = Vec::with_capacity(WAKES as usize);
    for _ in 0..WAKES {
        let start = Instant::now();
        tx.notify(0).expect("notify");
        loop {
            match rx.try_wait() {
                Ok(f) if f.count(0) > 0 => break,
                Ok(_) | Err(RecvError::Empty) => std::hint::spin_loop(),
                Err(e) => panic!("{e}"),
            }
        }
        times.push(start.elapsed().as_nanos() as u64);
    }
    WOKEN.store(tx.stats().wakeups, Ordering::Relaxed);
    tx.notify(1).expect("stop the echo");
    let _ = c.wait();
    for n in [&ask, &answer] {
        let _ = ipcring::unlink(n);
    }
    percentiles(times)
}

/// As [`event_round_trip`], through two SPSC rings.
fn ring_round_trip() -> (u64, u64) {
    let (ask, answer) = (name("ring-ask"), name("ring-answer"));
    let mut tx = spsc::Producer::create(&ask, 4096).expect("create");
    let mut rx = spsc::Consumer::create(&answer, 4096).expect("create");
    let mut c = child("ring-echo", &[&ask, &answer]);
    let mut times = Vec::with_capacity(WAKES as usize);
    for i in 0..WAKES {
        let start = Instant::now();
        tx.send_value(&i).expect("send");
        loop {
            match rx.try_recv_value::<u64>() {
                Ok(_) => break,
                Err(RecvError::Empty) => std::hint::spin_loop(),
                Err(e) => panic!("{e}"),
            }
        }
        times.push(start.elapsed().as_nanos() as u64);
    }
    WOKEN.store(tx.stats().producer_wakeups, Ordering::Relaxed);
    drop(tx);
    let _ = c.wait();
    for n in [&ask, &answer] {
        let _ = ipcring::unlink(n);
    }
    percentiles(times)
}

/// ns per `notify` while no listener sleeps (one attached, polling now and then).
fn notify_cost() -> f64 {
    let n = name("notify");
    let mut tx = event::Builder::new(&n)
        .ids(8)
        .create_notifier()
        .expect("create");
    let mut rx = event::Listener::open(&n).expect("open");
    let ns = per_call(|| tx.notify(3).expect("notify"));
    let fired = rx.try_wait().map(|f| f.count(3)).unwrap_or(0);
    assert_eq!(fired, CALLS, "every notification counted");
    drop((tx, rx));
    let _ = ipcring::unlink(&n);
    ns
}

/// Starts `role` and waits for its `ready` line.
fn child_piped(role: &str, args: &[&str]) -> Child {
    use std::io::BufRead;
    let mut c = Command::new(std::env::current_exe().expect("this program"))
        .args(args)
        .env(ROLE, role)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a child");
    let mut line = String::new();
    let out = c.stdout.as_mut().expect("piped");
    std::io::BufReader::new(out)
        .read_line(&mut line)
        .expect("ready");
    c
}

fn percentiles(mut times: Vec<u64>) -> (u64, u64) {
    times.sort_unstable();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn finish(w: Writer, children: Vec<Child>, board: &str) {
    drop(w);
    for mut c in children {
        let _ = c.wait();
    }
    let _ = ipcring::unlink(board);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        let board = std::env::args().nth(1).expect("a board");
        match role.as_str() {
            "reader" => spin_reader(&board),
            "writer" => spin_writer(&board),
            "echo" => echo(&board),
            "event-echo" => event_echo(&board, &std::env::args().nth(2).expect("a segment")),
            "ring-echo" => ring_echo(&board, &std::env::args().nth(2).expect("a ring")),
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    println!("shared_state: blackboard costs, ns per call, median of {runs} runs");
    println!("{:<44} {:>8} {:>8} {:>8}", "", "8 B", "64 B", "1 KiB");
    type Row = (&'static str, fn(usize) -> f64);
    let rows: [Row; 7] = [
        ("set, no reader", |s| set_cost(s, 0)),
        ("set, 1 reader process reading the entry", |s| {
            set_cost(s, 1)
        }),
        ("set, 3 reader processes reading the entry", |s| {
            set_cost(s, 3)
        }),
        ("get, alone", |s| get_cost(s, 1, false)),
        ("get, 1 more reader process", |s| get_cost(s, 2, false)),
        ("get, 3 more reader processes", |s| get_cost(s, 4, false)),
        ("get, a writer process setting the entry", |s| {
            get_cost(s, 1, true)
        }),
    ];
    let mut results = vec![vec![Vec::new(); SIZES.len()]; rows.len()];
    for _ in 0..runs {
        for (i, (_, f)) in rows.iter().enumerate() {
            for (j, &size) in SIZES.iter().enumerate() {
                results[i][j].push(f(size));
            }
        }
    }
    for ((label, _), r) in rows.iter().zip(results) {
        let cells: Vec<String> = r
            .into_iter()
            .map(|v| format!("{:>8.1}", median(v)))
            .collect();
        println!("{label:<44} {}", cells.join(" "));
    }
    println!("\nround trips to a parked process and back, ns (p50, p99)");
    type Trip = (&'static str, fn() -> (u64, u64));
    let trips: [Trip; 3] = [
        ("ring: send -> parked recv -> send back", ring_round_trip),
        (
            "event: notify -> parked wait -> notify back",
            event_round_trip,
        ),
        (
            "board: set -> parked wait_changed -> set back",
            wake_round_trip,
        ),
    ];
    let mut found = vec![(Vec::new(), Vec::new(), Vec::new()); trips.len()];
    for _ in 0..runs {
        for ((_, f), (p50, p99, woken)) in trips.iter().zip(&mut found) {
            let (a, b) = f();
            p50.push(a as f64);
            p99.push(b as f64);
            woken.push(WOKEN.load(Ordering::Relaxed) as f64 / WAKES as f64);
        }
    }
    let ring = median(found[0].0.clone());
    for ((label, _), (p50, p99, woken)) in trips.iter().zip(found) {
        let p50 = median(p50);
        println!(
            "{label:<46} {p50:>8.0} {:>8.0}   {:.2}x the ring's p50, {:.2} wake-ups a trip",
            median(p99),
            p50 / ring,
            median(woken)
        );
    }
    let notify: Vec<f64> = (0..runs).map(|_| notify_cost()).collect();
    println!("notify, no listener asleep: {:.1} ns", median(notify));
}
