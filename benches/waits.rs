//! What waiting on many rings and async waiting cost, between two processes, in one run:
//!
//! - round trips of 8-byte messages (p50, p99 of `ROUND_TRIPS`; the median of `RUNS`
//!   interleaved runs of each row): the blocking calls (default strategy, and `Park`), a
//!   `WaitSet` of 16 rings (15 idle) with each strategy, `recv_value_async` /
//!   `send_value_async` on a tokio current-thread runtime, and a tokio `UnixStream`; the
//!   echoing process always uses the blocking calls with the default strategy;
//! - syscalls of a consumer process that receives a busy stream of 1 M 8-byte messages
//!   (it works about 100 ns on each, so that it is the slower side and the ring is seldom
//!   empty) through a `WaitSet` and through `recv_value_async`, counted by `perf stat -e
//!   raw_syscalls:sys_enter` (less the same run with no message), when perf can count
//!   them here; and the producer's futex wake-ups.
//!
//! `cargo bench --bench waits --features tokio [-- RUNS]`

use ipcring::spsc::{Consumer, Producer};
use ipcring::{WaitSet, WaitStrategy, Waitable};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROUND_TRIPS: usize = 20_000;
const WARM_UP: usize = 2_000;
const STREAM: u64 = 1_000_000;
/// The environment variable that makes a run of this program a child role.
const ROLE: &str = "IPCRING_WAITS_ROLE";

fn name(tag: &str) -> String {
    format!("bench-waits-{}-{tag}", std::process::id())
}

/// Starts this program as the child `role` with `args`.
fn child(role: &str, args: &[&str]) -> std::process::Child {
    Command::new(std::env::current_exe().expect("this program"))
        .args(args)
        .env(ROLE, role)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a child")
}

/// How long a late echo works on a request before it answers: long enough for the
/// waiting side to fall asleep.
const LATE: Duration = Duration::from_micros(50);

/// Child: echoes 8-byte values from ring `req` to ring `resp` until `req` ends; if `late`,
/// after working [`LATE`] on each.
fn echo_ring(req: &str, resp: &str, late: bool) {
    let mut rx = Consumer::open(req).expect("open the requests");
    let mut tx = Producer::open(resp).expect("open the responses");
    while let Ok(v) = rx.recv_value::<u64>() {
        if late {
            let until = Instant::now() + LATE;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        tx.send_value(&v).expect("answer");
    }
}

/// Child: echoes 8-byte messages on the unix socket at `path` until it closes.
fn echo_unix(path: &str) {
    let mut s = UnixStream::connect(path).expect("connect");
    let mut b = [0u8; 8];
    while s.read_exact(&mut b).is_ok() {
        s.write_all(&b).expect("answer");
    }
}

/// Child: streams `n` values into ring `ring` as fast as it can, then prints the futex
/// wake-ups it made.
fn stream(ring: &str, n: u64) {
    let mut tx = Producer::open(ring).expect("open the stream");
    for i in 0..n {
        tx.send_value(&i).expect("send");
    }
    println!("{}", tx.stats().producer_wakeups);
}

/// What the draining process does with each value: a little work (about 100 ns), so that
/// it is the slower side and the stream stays busy (the ring seldom empty).
fn work(v: u64) -> u64 {
    (0..64).fold(v, |a, i| std::hint::black_box(a.rotate_left(7) ^ i))
}

/// Child: receives `n` values from ring `ring` through a `WaitSet` or (`async`) with
/// `recv_value_async`, checking their order and working on each (see [`work`]).
fn drain(ring: &str, n: u64, how: &str) {
    let mut rx = Consumer::open(ring).expect("open the stream");
    let mut next = 0u64;
    if how == "async" {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            while next < n {
                let v: u64 = rx.recv_value_async().await.expect("receive");
                assert_eq!(v, next);
                work(v);
                next += 1;
            }
        });
    } else {
        let mut set = WaitSet::new();
        while next < n {
            set.wait(&mut [&mut rx]);
            while let Ok(v) = rx.try_recv_value::<u64>() {
                assert_eq!(v, next);
                work(v);
                next += 1;
            }
        }
    }
}

/// A pair of rings to an echoing child, plus idle rings whose producers we hold.
struct Rings {
    tx: Producer,
    rx: Consumer,
    idle: Vec<Consumer>,
    _idle_tx: Vec<Producer>,
    names: Vec<String>,
    echo: std::process::Child,
}

impl Rings {
    fn new(strategy: WaitStrategy, late: bool, idle_rings: usize) -> Rings {
        let (req, resp) = (name("req"), name("resp"));
        let tx = Producer::create(&req, 1 << 16).expect("create");
        let mut rx = Consumer::create(&resp, 1 << 16).expect("create");
        rx.set_wait_strategy(strategy);
        let mut names = vec![req.clone(), resp.clone()];
        let (mut idle, mut idle_tx) = (Vec::new(), Vec::new());
        for i in 0..idle_rings {
            let n = name(&format!("idle{i}"));
            idle.push(Consumer::create(&n, 4096).expect("create"));
            idle_tx.push(Producer::open(&n).expect("open"));
            names.push(n);
        }
        let echo = child(if late { "echo-late" } else { "echo-ring" }, &[&req, &resp]);
        Rings {
            tx,
            rx,
            idle,
            _idle_tx: idle_tx,
            names,
            echo,
        }
    }
}

impl Drop for Rings {
    fn drop(&mut self) {
        let _ = self.echo.kill();
        let _ = self.echo.wait();
        for n in &self.names {
            let _ = ipcring::unlink(n);
        }
    }
}

/// Times `ROUND_TRIPS` round trips of `once` (after a warm-up); returns (p50, p99) in ns.
fn time(mut once: impl FnMut(u64)) -> (u64, u64) {
    for i in 0..WARM_UP {
        once(i as u64);
    }
    let mut ns: Vec<u64> = (0..ROUND_TRIPS)
        .map(|i| {
            let t = Instant::now();
            once(i as u64);
            t.elapsed().as_nanos() as u64
        })
        .collect();
    ns.sort_unstable();
    (ns[ns.len() / 2], ns[ns.len() * 99 / 100])
}

fn blocking(strategy: WaitStrategy, late: bool) -> (u64, u64) {
    let mut r = Rings::new(strategy, late, 0);
    time(|i| {
        r.tx.send_value(&i).expect("send");
        assert_eq!(r.rx.recv_value::<u64>().expect("receive"), i);
    })
}

/// Round trips through a set of `1 + idle` rings, the answer's ring first (beyond 128
/// rings, a set naps on 128 of them at a time, starting with the last ones: the first ring
/// is then in the second window napped, the slow case).
fn wait_set(strategy: WaitStrategy, late: bool, idle: usize) -> (u64, u64) {
    let mut r = Rings::new(strategy, late, idle);
    let mut set = WaitSet::new();
    set.set_wait_strategy(strategy);
    time(|i| {
        r.tx.send_value(&i).expect("send");
        loop {
            let mut members: Vec<&mut dyn Waitable> = vec![&mut r.rx];
            members.extend(r.idle.iter_mut().map(|c| c as &mut dyn Waitable));
            if set.wait(&mut members).contains(0) {
                if let Ok(v) = r.rx.try_recv_value::<u64>() {
                    assert_eq!(v, i);
                    return;
                }
            }
        }
    })
}

fn asynchronous(late: bool) -> (u64, u64) {
    let mut r = Rings::new(WaitStrategy::default(), late, 0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    time(|i| {
        rt.block_on(async {
            r.tx.send_value_async(&i).await.expect("send");
            assert_eq!(r.rx.recv_value_async::<u64>().await.expect("receive"), i);
        })
    })
}

fn unix_stream() -> (u64, u64) {
    let path = std::env::temp_dir().join(name("sock"));
    let listener = UnixListener::bind(&path).expect("listen");
    let mut echo = child("echo-unix", &[path.to_str().expect("a path")]);
    let (s, _) = listener.accept().expect("accept");
    let _ = std::fs::remove_file(&path);
    s.set_nonblocking(true).expect("non-blocking");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    let mut s = rt
        .block_on(async { tokio::net::UnixStream::from_std(s) })
        .expect("a tokio stream");
    let r = time(|i| {
        rt.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(&i.to_le_bytes()).await.expect("write");
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await.expect("read");
            assert_eq!(u64::from_le_bytes(b), i);
        })
    });
    drop(s);
    let _ = echo.wait();
    r
}

/// Syscalls of a consumer process receiving `STREAM` messages `how`, less those of the
/// same process receiving none; `None` if perf cannot count them here. Also the
/// producer's futex wake-ups.
fn syscalls(how: &str) -> (Option<i64>, u64) {
    let count = |n: u64| -> (Option<i64>, u64) {
        let ring = name(&format!("stream-{how}-{n}"));
        ipcring::spsc::Builder::new(&ring)
            .capacity(1 << 16)
            .create_detached()
            .expect("create");
        let exe = std::env::current_exe().expect("this program");
        let out_file = std::env::temp_dir().join(name("perf"));
        let drainer = Command::new("perf")
            .args(["stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o"])
            .arg(&out_file)
            .arg("--")
            .arg(&exe)
            .env(ROLE, "drain")
            .args([ring.as_str(), &n.to_string(), how])
            .spawn();
        let mut producer = child("stream", &[&ring, &n.to_string()]);
        let mut wakes = String::new();
        producer
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut wakes)
            .expect("read");
        let _ = producer.wait();
        let counted = drainer.ok().and_then(|mut d| {
            d.wait().ok().filter(|s| s.success())?;
            let text = std::fs::read_to_string(&out_file).ok()?;
            text.lines()
                .find(|l| l.contains("raw_syscalls"))?
                .split(',')
                .next()?
                .parse()
                .ok()
        });
        let _ = std::fs::remove_file(&out_file);
        let _ = ipcring::unlink(&ring);
        (counted, wakes.trim().parse().unwrap_or(0))
    };
    let (base, _) = count(0);
    let (busy, wakes) = count(STREAM);
    (base.zip(busy).map(|(b, s)| s - b), wakes)
}

fn median(mut v: Vec<(u64, u64)>) -> (u64, u64) {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        let a: Vec<String> = std::env::args().skip(1).collect();
        match role.as_str() {
            "echo-ring" => echo_ring(&a[0], &a[1], false),
            "echo-late" => echo_ring(&a[0], &a[1], true),
            "echo-unix" => echo_unix(&a[0]),
            "stream" => stream(&a[0], a[1].parse().expect("a count")),
            "drain" => drain(&a[0], a[1].parse().expect("a count"), &a[2]),
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    type Row = (&'static str, fn() -> (u64, u64));
    let rows: [Row; 8] = [
        ("blocking, default strategy", || {
            blocking(WaitStrategy::default(), false)
        }),
        ("WaitSet of 16, default strategy", || {
            wait_set(WaitStrategy::default(), false, 15)
        }),
        ("async (tokio current thread)", || asynchronous(false)),
        ("tokio UnixStream", unix_stream),
        ("late peer: blocking, Park", || {
            blocking(WaitStrategy::Park, true)
        }),
        ("late peer: WaitSet of 16, Park", || {
            wait_set(WaitStrategy::Park, true, 15)
        }),
        ("late peer: WaitSet of 200 (naps)", || {
            wait_set(WaitStrategy::Park, true, 199)
        }),
        ("late peer: async", || asynchronous(true)),
    ];
    let mut got: Vec<Vec<(u64, u64)>> = vec![Vec::new(); rows.len()];
    for _ in 0..runs {
        for (k, (_, row)) in rows.iter().enumerate() {
            got[k].push(row());
        }
    }
    let med: Vec<(u64, u64)> = got.into_iter().map(median).collect();
    println!("8-byte round trips between two processes, median of {runs} runs of {ROUND_TRIPS}");
    println!("(a late peer works {LATE:?} on each request before it answers):");
    println!("{:<34} {:>9} {:>9}", "", "p50 ns", "p99 ns");
    for ((label, _), (p50, p99)) in rows.iter().zip(&med) {
        println!("{label:<34} {p50:>9} {p99:>9}");
    }
    let r = |a: usize, b: usize| med[a].0 as f64 / med[b].0 as f64;
    // The late rows less the peer's work: what waking costs.
    let late = LATE.as_nanos() as u64;
    let wake = |a: usize| med[a].0.saturating_sub(late);
    println!("async / blocking: {:.2}", r(2, 0));
    println!("async / tokio UnixStream: {:.2}", r(2, 3));
    println!("WaitSet / blocking (busy): {:.2}", r(1, 0));
    println!(
        "wake-up (late p50 less {LATE:?}): parked {} ns, WaitSet {} ns ({:.2}x), async {} ns ({:.2}x), \
         WaitSet beyond futex_waitv's 128 {} ns ({:.2}x)",
        wake(4),
        wake(5),
        wake(5) as f64 / wake(4).max(1) as f64,
        wake(7),
        wake(7) as f64 / wake(4).max(1) as f64,
        wake(6),
        wake(6) as f64 / wake(4).max(1) as f64
    );
    println!("syscalls of the receiving process per {STREAM} messages of a busy stream:");
    for how in ["waitset", "async"] {
        match syscalls(how) {
            (Some(n), wakes) => println!("  {how:<8} {n} (producer's futex wake-ups: {wakes})"),
            (None, wakes) => {
                println!("  {how:<8} perf cannot count here (producer's futex wake-ups: {wakes})")
            }
        }
    }
}
