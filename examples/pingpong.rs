//! Round-trip latency of 8-byte messages between two processes, next to the hardware limit.
//!
//! ```text
//! cargo run --release --example pingpong [-- ROUND_TRIPS]
//! ```
//!
//! The parent spawns a second process (itself, with `--child`), pins the two to different
//! CPUs where there are two, and ping-pongs in the same run:
//!
//! - `raw limit`: two atomics on their own cache lines in shared memory, busy-spin. Round
//!   trip i uses line pair i mod 512 spread over 2 x 64 KiB (one fixed pair varies by about
//!   25 % with its address, so the limit is averaged over many);
//! - `ring, busy-spin`, `ring, default`, `ring, parked`: two ipcring SPSC rings (ping and
//!   pong) with each wait strategy;
//! - `ring, try_* polling`: the same rings through the non-blocking calls only, as a
//!   ping-pong over rtrb or iceoryx2 is written: `try_send`, then `try_recv_into` in a busy
//!   loop until the answer is there (the wait strategy is never used);
//! - `raw futex`: two futex words in shared memory, sleep/wake every message: the limit of
//!   any parked wait.
//!
//! It prints min / p50 / p99 / p99.9 / max and the ratio of p50 and p99.9 to the limit
//! (busy and polling rows to the raw limit, the parked row to the raw futex). Every segment
//! is unlinked as soon as both processes have it mapped, so nothing is left behind even on
//! Ctrl-C.

use hdrhistogram::Histogram;
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError, WaitStrategy};
use rustix::fd::OwnedFd;
use rustix::fs::Mode;
use rustix::mm::{MapFlags, ProtFlags};
use rustix::thread::futex;
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Cache-line pairs of the raw limit: 512 lines of 128 bytes = 64 KiB per direction.
const PAIRS: usize = 512;
const LINE: usize = 128;
/// Control words after the line pairs: ready flag, futex ping, futex pong.
const CTRL: usize = 2 * PAIRS * LINE;
const READY: usize = CTRL;
const FUTEX_PING: usize = CTRL + LINE;
const FUTEX_PONG: usize = CTRL + 2 * LINE;
const RAW_BYTES: usize = CTRL + 3 * LINE;
/// Sent in place of a round-trip number: the child exits.
const STOP32: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Raw,
    Busy,
    Try,
    Default,
    Parked,
    Futex,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Raw,
        Phase::Busy,
        Phase::Try,
        Phase::Default,
        Phase::Parked,
        Phase::Futex,
    ];

    fn name(self) -> &'static str {
        match self {
            Phase::Raw => "raw limit",
            Phase::Busy => "ring, busy-spin",
            Phase::Try => "ring, try_* polling",
            Phase::Default => "ring, default",
            Phase::Parked => "ring, parked",
            Phase::Futex => "raw futex",
        }
    }

    fn arg(self) -> &'static str {
        match self {
            Phase::Raw => "raw",
            Phase::Busy => "busy",
            Phase::Try => "try",
            Phase::Default => "default",
            Phase::Parked => "parked",
            Phase::Futex => "futex",
        }
    }

    fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.arg() == s)
    }

    fn strategy(self) -> WaitStrategy {
        match self {
            Phase::Busy => WaitStrategy::BusySpin,
            Phase::Parked => WaitStrategy::Park,
            _ => WaitStrategy::default(),
        }
    }

    /// Parked round trips cost microseconds: fewer of them keep the run short.
    fn round_trips(self, busy: u64) -> u64 {
        match self {
            Phase::Parked | Phase::Futex => (busy / 5).max(1000),
            _ => busy,
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..])
    } else {
        parent(args.get(1).map(String::as_str))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pingpong: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The two CPUs to pin to, if this process may run on at least two.
fn cpus() -> Option<(usize, usize)> {
    let set = rustix::thread::sched_getaffinity(None).ok()?;
    let mut it = (0..rustix::thread::CpuSet::MAX_CPU).filter(|&c| set.is_set(c));
    Some((it.next()?, it.next()?))
}

fn pin(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    if let Err(e) = rustix::thread::sched_setaffinity(None, &set) {
        eprintln!("pingpong: could not pin to CPU {cpu}: {e}");
    }
}

fn parent(count: Option<&str>) -> Result<(), Error> {
    let busy: u64 = count.map(str::parse).transpose()?.unwrap_or(200_000);
    let cpus = cpus();
    match cpus {
        Some((a, b)) => println!("pinned to CPUs {a} (parent) and {b} (child)"),
        None => println!("only one CPU available: not pinning (expect poor numbers)"),
    }
    if let Some((a, _)) = cpus {
        pin(a);
    }
    println!("{busy} round trips of 8-byte messages per busy row\n");
    let mut rows = Vec::new();
    for phase in Phase::ALL {
        let name = format!("pingpong-{}-{}", std::process::id(), phase.arg());
        let hist = run_phase(phase, &name, cpus.map(|c| c.1), phase.round_trips(busy))?;
        rows.push((phase, hist));
    }
    print_table(&rows);
    Ok(())
}

fn spawn_child(phase: Phase, name: &str, cpu: Option<usize>) -> Result<Child, Error> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--child", phase.arg(), name]);
    if let Some(cpu) = cpu {
        cmd.arg(cpu.to_string());
    }
    Ok(cmd.spawn()?)
}

/// Kills the child if the parent leaves early.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(Some(_))) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn run_phase(
    phase: Phase,
    name: &str,
    cpu: Option<usize>,
    n: u64,
) -> Result<Histogram<u64>, Error> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    match phase {
        Phase::Raw | Phase::Futex => {
            let (fd, map) = RawShm::create(name)?;
            let mut child = Reap(spawn_child(phase, name, cpu)?);
            // The child maps the object, then bumps the first word: unlink it then.
            let ready = map.word32(READY);
            wait_word(ready, 0, &mut child)?;
            rustix::shm::unlink(shm_name(name).as_str())?;
            drop(fd);
            if phase == Phase::Raw {
                raw_ping(&map, n, &mut hist);
            } else {
                futex_ping(&map, n, &mut hist);
            }
            child.0.wait()?;
        }
        Phase::Busy | Phase::Try | Phase::Default | Phase::Parked => {
            let strategy = phase.strategy();
            let mut ping = Builder::new(&format!("{name}-ping"))
                .capacity(1 << 16)
                .wait_strategy(strategy)
                .create_producer()?;
            let pong = Builder::new(&format!("{name}-pong"))
                .capacity(1 << 16)
                .wait_strategy(strategy)
                .create_consumer();
            let mut pong = match pong {
                Ok(c) => c,
                Err(e) => {
                    let _ = ipcring::unlink(&format!("{name}-ping"));
                    return Err(e.into());
                }
            };
            let child = spawn_child(phase, name, cpu);
            let child = child.map(Reap);
            // The child sends one message once it has both rings open.
            let first = child.as_ref().ok().map(|_| pong.recv_value::<u64>());
            let _ = ipcring::unlink(&format!("{name}-ping"));
            let _ = ipcring::unlink(&format!("{name}-pong"));
            let mut child = child?;
            first.expect("child spawned")?;
            if phase == Phase::Try {
                try_ping(&mut ping, &mut pong, n, &mut hist)?;
            } else {
                ring_ping(&mut ping, &mut pong, n, &mut hist)?;
            }
            drop(ping);
            child.0.wait()?;
        }
    }
    Ok(hist)
}

fn warmup(n: u64) -> u64 {
    (n / 10).max(1000)
}

fn raw_ping(map: &RawShm, n: u64, hist: &mut Histogram<u64>) {
    let total = warmup(n) + n;
    for i in 1..=total {
        let k = (i as usize) % PAIRS;
        let (ping, pong) = (map.line(k), map.line(PAIRS + k));
        let t = Instant::now();
        ping.store(i, Ordering::Release);
        while pong.load(Ordering::Acquire) != i {
            core::hint::spin_loop();
        }
        if i > total - n {
            record(hist, t);
        }
    }
    // Tell the child to stop, on the line it waits on next.
    let k = ((total + 1) as usize) % PAIRS;
    map.line(k).store(u64::MAX, Ordering::Release);
}

fn futex_ping(map: &RawShm, n: u64, hist: &mut Histogram<u64>) {
    let (ping, pong) = (map.word32(FUTEX_PING), map.word32(FUTEX_PONG));
    let total = (warmup(n) + n) as u32;
    for i in 1..=total {
        let t = Instant::now();
        ping.store(i, Ordering::Release);
        let _ = futex::wake(ping, futex::Flags::empty(), 1);
        while pong.load(Ordering::Acquire) != i {
            let _ = futex::wait(pong, futex::Flags::empty(), i - 1, None);
        }
        if i > total - n as u32 {
            record(hist, t);
        }
    }
    ping.store(STOP32, Ordering::Release);
    let _ = futex::wake(ping, futex::Flags::empty(), 1);
}

fn ring_ping(
    ping: &mut Producer,
    pong: &mut Consumer,
    n: u64,
    hist: &mut Histogram<u64>,
) -> Result<(), Error> {
    let total = warmup(n) + n;
    for i in 1..=total {
        let t = Instant::now();
        ping.send_value(&i)?;
        let got: u64 = pong.recv_value()?;
        if got != i {
            return Err(format!("round trip {i} came back as {got}").into());
        }
        if i > total - n {
            record(hist, t);
        }
    }
    Ok(())
}

/// Round trips through the non-blocking calls: `try_send`, then `try_recv_into` until the
/// answer is there.
fn try_ping(
    ping: &mut Producer,
    pong: &mut Consumer,
    n: u64,
    hist: &mut Histogram<u64>,
) -> Result<(), Error> {
    let total = warmup(n) + n;
    let mut buf = Vec::with_capacity(8);
    for i in 1..=total {
        let t = Instant::now();
        try_send(ping, &i.to_ne_bytes())?;
        try_recv(pong, &mut buf)?;
        if buf != i.to_ne_bytes() {
            return Err(format!("round trip {i} came back as {buf:?}").into());
        }
        if i > total - n {
            record(hist, t);
        }
    }
    Ok(())
}

/// `try_send`, again while the ring is full.
fn try_send(tx: &mut Producer, msg: &[u8]) -> Result<(), SendError> {
    loop {
        match tx.try_send(msg) {
            Err(SendError::Full) => core::hint::spin_loop(),
            other => return other,
        }
    }
}

/// `try_recv_into` until a message is there.
fn try_recv(rx: &mut Consumer, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
    loop {
        match rx.try_recv_into(buf) {
            Err(RecvError::Empty) => core::hint::spin_loop(),
            other => return other,
        }
    }
}

fn record(hist: &mut Histogram<u64>, since: Instant) {
    let ns = since.elapsed().as_nanos() as u64;
    hist.saturating_record(ns.max(1));
}

fn child(args: &[String]) -> Result<(), Error> {
    let phase = args
        .first()
        .and_then(|a| Phase::parse(a))
        .ok_or("usage: pingpong --child PHASE NAME [CPU]")?;
    let name = args.get(1).ok_or("missing ring name")?;
    if let Some(cpu) = args.get(2) {
        pin(cpu.parse()?);
    }
    match phase {
        Phase::Raw => {
            let map = RawShm::open(name)?;
            map.word32(READY).store(1, Ordering::Release);
            let mut i = 1u64;
            loop {
                let k = (i as usize) % PAIRS;
                let (ping, pong) = (map.line(k), map.line(PAIRS + k));
                loop {
                    let v = ping.load(Ordering::Acquire);
                    if v == i {
                        break;
                    }
                    if v == u64::MAX {
                        return Ok(());
                    }
                    core::hint::spin_loop();
                }
                pong.store(i, Ordering::Release);
                i += 1;
            }
        }
        Phase::Futex => {
            let map = RawShm::open(name)?;
            map.word32(READY).store(1, Ordering::Release);
            let (ping, pong) = (map.word32(FUTEX_PING), map.word32(FUTEX_PONG));
            // A parent that dies without saying stop is noticed within a slice.
            let slice = futex::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            let mut i = 1u32;
            loop {
                let mut idle = 0;
                loop {
                    match ping.load(Ordering::Acquire) {
                        v if v == i => break,
                        STOP32 => return Ok(()),
                        v => {
                            let _ = futex::wait(ping, futex::Flags::empty(), v, Some(&slice));
                        }
                    }
                    idle += 1;
                    if idle > 600 {
                        return Err("parent went silent for a minute".into());
                    }
                }
                pong.store(i, Ordering::Release);
                let _ = futex::wake(pong, futex::Flags::empty(), 1);
                i += 1;
            }
        }
        Phase::Busy | Phase::Try | Phase::Default | Phase::Parked => {
            let strategy = phase.strategy();
            let mut ping = Builder::new(&format!("{name}-ping"))
                .wait_strategy(strategy)
                .open_consumer()?;
            let mut pong = Builder::new(&format!("{name}-pong"))
                .wait_strategy(strategy)
                .open_producer()?;
            pong.send_value(&0u64)?;
            if phase == Phase::Try {
                let mut buf = Vec::with_capacity(8);
                loop {
                    match try_recv(&mut ping, &mut buf) {
                        Ok(_) => try_send(&mut pong, &buf)?,
                        Err(RecvError::Disconnected) => return Ok(()),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            loop {
                match ping.recv_value::<u64>() {
                    Ok(v) => pong.send_value(&v)?,
                    Err(ipcring::RecvError::Disconnected) => return Ok(()),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

fn print_table(rows: &[(Phase, Histogram<u64>)]) {
    let get = |p: Phase| rows.iter().find(|r| r.0 == p).map(|r| &r.1);
    println!(
        "{:<19} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11}  (ns)",
        "", "min", "p50", "p99", "p99.9", "max", "p50 ratio", "p99.9 ratio"
    );
    for (phase, h) in rows {
        let base = match phase {
            Phase::Parked => get(Phase::Futex),
            Phase::Futex => None,
            _ => get(Phase::Raw),
        };
        let ratio = |q: f64| {
            base.map_or(String::from("-"), |b| {
                format!(
                    "{:.2}x",
                    h.value_at_quantile(q) as f64 / b.value_at_quantile(q) as f64
                )
            })
        };
        println!(
            "{:<19} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11}",
            phase.name(),
            h.min(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
            ratio(0.5),
            ratio(0.999),
        );
    }
    println!(
        "\nratios: busy and polling rows against the raw limit, the parked ring against the \
         raw futex"
    );
}

fn shm_name(name: &str) -> String {
    format!("/ipcring-pingpong.{name}")
}

/// A plain shared mapping for the raw rows: lines of 128 bytes.
struct RawShm {
    base: *mut u8,
}

impl RawShm {
    fn create(name: &str) -> Result<(OwnedFd, RawShm), Error> {
        use rustix::shm::OFlags;
        let fd = rustix::shm::open(
            shm_name(name).as_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::RDWR,
            Mode::RUSR | Mode::WUSR,
        )?;
        let map = rustix::fs::ftruncate(&fd, RAW_BYTES as u64)
            .map_err(Error::from)
            .and_then(|()| RawShm::map(&fd));
        match map {
            Ok(map) => Ok((fd, map)),
            Err(e) => {
                let _ = rustix::shm::unlink(shm_name(name).as_str());
                Err(e)
            }
        }
    }

    fn open(name: &str) -> Result<RawShm, Error> {
        let fd = rustix::shm::open(
            shm_name(name).as_str(),
            rustix::shm::OFlags::RDWR,
            Mode::empty(),
        )?;
        RawShm::map(&fd)
    }

    fn map(fd: &OwnedFd) -> Result<RawShm, Error> {
        // SAFETY: a fresh shared mapping of an object of RAW_BYTES bytes; it is never
        // unmapped, the process exits when done.
        let p = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                RAW_BYTES,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::POPULATE,
                fd,
                0,
            )?
        };
        Ok(RawShm { base: p.cast() })
    }

    fn line(&self, i: usize) -> &AtomicU64 {
        assert!(i < 2 * PAIRS);
        // SAFETY: in bounds (asserted), 128-aligned, and the mapping lives as long as
        // `self`; all accesses from both processes are atomic.
        unsafe { &*self.base.add(i * LINE).cast::<AtomicU64>() }
    }

    fn word32(&self, off: usize) -> &AtomicU32 {
        assert!(off % 4 == 0 && off + 4 <= RAW_BYTES);
        // SAFETY: in bounds and aligned (asserted); the mapping lives as long as `self`.
        unsafe { &*self.base.add(off).cast::<AtomicU32>() }
    }
}

/// Waits until the word leaves `old`, failing if the child exits first.
fn wait_word(word: &AtomicU32, old: u32, child: &mut Reap) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while word.load(Ordering::Acquire) == old {
        if let Some(status) = child.0.try_wait()? {
            return Err(format!("child exited early: {status}").into());
        }
        if Instant::now() > deadline {
            return Err("child did not start within 10 s".into());
        }
        std::thread::yield_now();
    }
    Ok(())
}
