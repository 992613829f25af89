//! Criterion benches of the SPSC ring: streaming throughput (8 B to 1 MiB, copy and
//! zero-copy, between two threads and between two processes) next to a plain fixed-slot
//! reference ring in the same run; 8-byte round trip; wake-up latency of a parked peer.
//!
//! Cross-process benches re-execute this binary with `IPCRING_BENCH_CHILD` set; the child
//! attaches, the rings' names are unlinked at once, so nothing is left in /dev/shm even
//! if the bench is killed. Run with `cargo bench --bench spsc`; for the full comparison
//! with the kernel's IPC see `ipcring bench` (BENCHMARKS.md).

use criterion::{BenchmarkId, Criterion, Throughput};
use ipcring::spsc::{heap_pair, Builder, Consumer, Producer};
use ipcring::WaitStrategy;
use ipcring_bench_support::pin;
use ipcring_bench_support::refring::{
    ref_consumer, ref_producer, ref_ring_bytes, RefConsumer, RefProducer,
};
use ipcring_bench_support::shm::SharedMem;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "IPCRING_BENCH_CHILD";
/// The CPU the child pins itself to.
const CPU_ENV: &str = "IPCRING_BENCH_CPU";
/// Set in a sequence number: the end of a batch, to be acknowledged.
const END: u64 = 1 << 62;
/// Set in a sequence number: the child exits.
const QUIT: u64 = 1 << 61;
const SIZES: [usize; 5] = [8, 64, 1 << 10, 64 << 10, 1 << 20];
const REF_SLOTS: usize = 1 << 17;
const REF_BYTES: usize = ref_ring_bytes(REF_SLOTS);

/// The sending end of a channel under test.
trait Tx: Send {
    /// Sends a message of `size` bytes that starts with `seq`.
    fn put(&mut self, seq: u64, size: usize);
}

/// The receiving end; returns the sequence number of the next message.
trait Rx: Send {
    fn take(&mut self) -> u64;
}

/// ipcring, copying: `send` from a buffer, `recv_into` a buffer.
struct CopyTx(Producer, Vec<u8>);
struct CopyRx(Consumer, Vec<u8>);
/// ipcring, zero-copy: the message is written in place into a grant and read in place.
struct ZeroTx(Producer);
struct ZeroRx(Consumer);

impl Tx for CopyTx {
    fn put(&mut self, seq: u64, size: usize) {
        self.1.resize(size.max(8), 0);
        self.1[..8].copy_from_slice(&seq.to_le_bytes());
        self.0.send(&self.1[..size.max(8)]).expect("send");
    }
}

impl Rx for CopyRx {
    fn take(&mut self) -> u64 {
        self.0.recv_into(&mut self.1).expect("recv");
        u64::from_le_bytes(self.1[..8].try_into().expect("8 bytes"))
    }
}

impl Tx for ZeroTx {
    fn put(&mut self, seq: u64, size: usize) {
        let mut g = self.0.reserve(size).expect("reserve");
        // Built in place: the payload is written once, where the consumer reads it.
        // SAFETY: both ends are this bench's; nothing else writes the ring.
        let room = unsafe { g.as_mut_slice_unchecked() };
        room[8..].fill(seq as u8);
        room[..8].copy_from_slice(&seq.to_le_bytes());
        g.commit(size);
    }
}

impl Rx for ZeroRx {
    fn take(&mut self) -> u64 {
        let g = self.0.read().expect("read");
        // Used in place: the first and the last word.
        // SAFETY: both ends are this bench's; nothing else writes the ring.
        let msg = unsafe { g.as_slice_unchecked() };
        let last = msg[msg.len() - 8..].as_ptr();
        std::hint::black_box(last);
        u64::from_le_bytes(msg[..8].try_into().expect("8 bytes"))
    }
}

/// The reference ring carries the sequence number itself (8-byte slots).
struct RefTx {
    ring: RefProducer,
    _mem: Arc<SharedMem>,
}
struct RefRx {
    ring: RefConsumer,
    _mem: Arc<SharedMem>,
}

impl Tx for RefTx {
    fn put(&mut self, seq: u64, _size: usize) {
        self.ring.push(seq);
    }
}

impl Rx for RefRx {
    fn take(&mut self) -> u64 {
        self.ring.pop()
    }
}

/// What a channel under test is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Copy,
    ZeroCopy,
    Reference,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Copy => "ipcring-copy",
            Kind::ZeroCopy => "ipcring-zerocopy",
            Kind::Reference => "reference-ring",
        }
    }

    fn parse(s: &str) -> Kind {
        [Kind::Copy, Kind::ZeroCopy, Kind::Reference]
            .into_iter()
            .find(|k| k.name() == s)
            .expect("a known kind")
    }
}

fn capacity_for(size: usize) -> usize {
    (size * 8).next_power_of_two().max(1 << 20)
}

/// The sending end of an ipcring ring, copying or zero-copy.
fn ring_tx(kind: Kind, tx: Producer) -> Box<dyn Tx> {
    match kind {
        Kind::ZeroCopy => Box::new(ZeroTx(tx)),
        _ => Box::new(CopyTx(tx, Vec::new())),
    }
}

/// The receiving end of an ipcring ring, copying or zero-copy.
fn ring_rx(kind: Kind, rx: Consumer) -> Box<dyn Rx> {
    match kind {
        Kind::ZeroCopy => Box::new(ZeroRx(rx)),
        _ => Box::new(CopyRx(rx, Vec::new())),
    }
}

/// The two ends of a reference ring at `at` in `mem`.
fn ref_ends(mem: &Arc<SharedMem>, at: usize) -> (RefTx, RefRx) {
    // SAFETY: the ring lies inside the zeroed mapping at a 128-aligned offset; the Arc
    // moves into both handles, so the mapping outlives them; one producer, one consumer.
    let (p, c) = unsafe {
        (
            ref_producer(mem.ptr().add(at), REF_SLOTS),
            ref_consumer(mem.ptr().add(at), REF_SLOTS),
        )
    };
    (
        RefTx {
            ring: p,
            _mem: mem.clone(),
        },
        RefRx {
            ring: c,
            _mem: mem.clone(),
        },
    )
}

/// The child's loop: takes messages; answers batch ends (streaming) or every message
/// (`echo`); stops at QUIT.
fn serve(rx: &mut dyn Rx, ack: &mut dyn Tx, echo: bool) {
    loop {
        let seq = rx.take();
        if seq & QUIT != 0 {
            return;
        }
        if echo || seq & END != 0 {
            ack.put(seq, 8);
        }
    }
}

/// A peer of a bench: a thread or a child process, serving until it gets QUIT.
enum Peer {
    Thread(std::thread::JoinHandle<()>),
    Process(Child),
}

/// The parent's ends and its peer.
struct Pair {
    tx: Box<dyn Tx>,
    ack: Box<dyn Rx>,
    peer: Option<Peer>,
}

impl Pair {
    /// Sends `n` messages of `size` bytes and waits until the peer has taken them all.
    fn stream(&mut self, n: u64, size: usize) -> Duration {
        let t0 = Instant::now();
        for i in 0..n {
            self.tx.put(i, size);
        }
        self.tx.put(END, size);
        assert_eq!(self.ack.take(), END);
        t0.elapsed()
    }

    /// `n` round trips of 8 bytes (the peer echoes).
    fn round_trips(&mut self, n: u64) -> Duration {
        let t0 = Instant::now();
        for i in 0..n {
            self.tx.put(i, 8);
            assert_eq!(self.ack.take(), i);
        }
        t0.elapsed()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.tx.put(QUIT, 8);
        match self.peer.take() {
            Some(Peer::Thread(h)) => h.join().expect("peer thread"),
            Some(Peer::Process(mut c)) => {
                let status = c.wait().expect("wait for child");
                assert!(status.success(), "child failed: {status}");
            }
            None => {}
        }
    }
}

/// The two CPUs of the benches (the parent on the first, its peer on the second), chosen
/// in `main` before the parent pins itself.
static CPUS: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();

fn cpus() -> Option<(usize, usize)> {
    *CPUS.get().expect("chosen in main")
}

/// Two threads: `kind` for the data, a copy ring (or a reference ring) for the answers.
fn threads(kind: Kind, size: usize, echo: bool, strategy: WaitStrategy) -> Pair {
    let (tx, mut rx, mut ack_tx, ack) = if kind == Kind::Reference {
        let mem = Arc::new(SharedMem::create(2 * REF_BYTES).expect("memfd"));
        let (t, r) = ref_ends(&mem, 0);
        let (at, ar) = ref_ends(&mem, REF_BYTES);
        (
            Box::new(t) as Box<dyn Tx>,
            Box::new(r) as Box<dyn Rx>,
            Box::new(at) as Box<dyn Tx>,
            Box::new(ar) as Box<dyn Rx>,
        )
    } else {
        let (t, r) = heap_pair(capacity_for(size), strategy, 0);
        let (at, ar) = heap_pair(1 << 16, strategy, 0);
        (
            ring_tx(kind, t),
            ring_rx(kind, r),
            ring_tx(Kind::Copy, at),
            ring_rx(Kind::Copy, ar),
        )
    };
    let cpus = cpus();
    let h = std::thread::spawn(move || {
        if let Some((_, b)) = cpus {
            pin::pin(b).expect("pin");
        }
        serve(rx.as_mut(), ack_tx.as_mut(), echo);
    });
    Pair {
        tx,
        ack,
        peer: Some(Peer::Thread(h)),
    }
}

/// Two processes: this binary again, told what to be through `IPCRING_BENCH_CHILD`
/// (`kind:echo:park:name-or-memfd`).
fn processes(kind: Kind, size: usize, echo: bool, strategy: WaitStrategy) -> Pair {
    static SESSIONS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    // Relaxed: a counter for unique names, nothing else.
    let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("crit-{}-{n}", std::process::id());
    let park = strategy == WaitStrategy::Park;
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    if let Some((_, b)) = cpus() {
        cmd.env(CPU_ENV, b.to_string());
    }
    let (tx, ack, names): (Box<dyn Tx>, Box<dyn Rx>, Vec<String>) = if kind == Kind::Reference {
        let mem = Arc::new(SharedMem::create(2 * REF_BYTES).expect("memfd"));
        let fd: RawFd = mem.fd();
        cmd.env(CHILD_ENV, format!("{}:{echo}:{park}:{fd}", kind.name()));
        // SAFETY: fcntl is async-signal-safe; it clears close-on-exec of the memfd only in
        // the child.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let (t, _) = ref_ends(&mem, 0);
        let (_, a) = ref_ends(&mem, REF_BYTES);
        (Box::new(t), Box::new(a), Vec::new())
    } else {
        let opts = |n: &str, cap| {
            Builder::new(n)
                .capacity(cap)
                .populate(true)
                .wait_strategy(strategy)
        };
        let (a, b) = (format!("{name}-a"), format!("{name}-b"));
        let t = opts(&a, capacity_for(size))
            .create_producer()
            .expect("create");
        let r = opts(&b, 1 << 16).create_consumer().expect("create");
        cmd.env(CHILD_ENV, format!("{}:{echo}:{park}:{name}", kind.name()));
        (ring_tx(kind, t), ring_rx(Kind::Copy, r), vec![a, b])
    };
    let child = cmd.spawn().expect("spawn the bench child");
    let mut pair = Pair {
        tx,
        ack,
        peer: Some(Peer::Process(child)),
    };
    // The child answers a first message once it is attached: the names can go.
    pair.tx.put(END, 8);
    assert_eq!(pair.ack.take(), END);
    for n in names {
        ipcring::unlink(&n).expect("unlink");
    }
    pair
}

/// The child process of [`processes`].
fn child_main(spec: &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    let [kind, echo, park, at] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec}");
    };
    let kind = Kind::parse(kind);
    let strategy = if park == "true" {
        WaitStrategy::Park
    } else {
        WaitStrategy::BusySpin
    };
    if let Ok(cpu) = std::env::var(CPU_ENV) {
        pin::pin(cpu.parse().expect("a CPU number")).expect("pin");
    }
    let (mut rx, mut ack): (Box<dyn Rx>, Box<dyn Tx>) = if kind == Kind::Reference {
        let fd: RawFd = at.parse().expect("memfd");
        // SAFETY: the parent passed this memfd to us alone.
        let m = Arc::new(unsafe { SharedMem::from_fd(fd, 2 * REF_BYTES) }.expect("map"));
        let (_, r) = ref_ends(&m, 0);
        let (a, _) = ref_ends(&m, REF_BYTES);
        (Box::new(r), Box::new(a))
    } else {
        let opts = |n: String| Builder::new(&n).wait_strategy(strategy);
        let r = opts(format!("{at}-a")).open_consumer().expect("open");
        let a = opts(format!("{at}-b")).open_producer().expect("open");
        (ring_rx(kind, r), ring_tx(Kind::Copy, a))
    };
    serve(rx.as_mut(), ack.as_mut(), echo == "true");
}

/// Streaming throughput, 8 B to 1 MiB, copy and zero-copy, threads and processes, with
/// the reference ring at 8 B in the same run.
fn throughput(c: &mut Criterion) {
    type Make = fn(Kind, usize, bool, WaitStrategy) -> Pair;
    for (mode, make) in [
        ("threads", threads as Make),
        ("processes", processes as Make),
    ] {
        let mut g = c.benchmark_group(format!("spsc-throughput/{mode}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let kinds: &[Kind] = if size == 8 {
                &[Kind::Reference, Kind::Copy, Kind::ZeroCopy]
            } else {
                &[Kind::Copy, Kind::ZeroCopy]
            };
            for &kind in kinds {
                let mut pair = make(kind, size, false, WaitStrategy::BusySpin);
                g.bench_with_input(BenchmarkId::new(kind.name(), size), &size, |b, &size| {
                    b.iter_custom(|n| pair.stream(n, size))
                });
            }
        }
        g.finish();
    }
}

/// 8-byte round trips, busy-spin, next to the reference ring.
fn round_trip(c: &mut Criterion) {
    type Make = fn(Kind, usize, bool, WaitStrategy) -> Pair;
    let mut g = c.benchmark_group("spsc-round-trip");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    for (mode, make) in [
        ("threads", threads as Make),
        ("processes", processes as Make),
    ] {
        for kind in [Kind::Reference, Kind::Copy] {
            let mut pair = make(kind, 8, true, WaitStrategy::BusySpin);
            g.bench_function(BenchmarkId::new(kind.name(), mode), |b| {
                b.iter_custom(|n| pair.round_trips(n))
            });
        }
    }
    g.finish();
}

/// Wake-up latency: a round trip to a process parked on the futex (each side parks at
/// once; 200 us of silence before each message make sure it sleeps).
fn wakeup(c: &mut Criterion) {
    let mut g = c.benchmark_group("spsc-wakeup");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(500));
    let mut pair = processes(Kind::Copy, 8, true, WaitStrategy::Park);
    g.bench_function("parked-round-trip/processes", |b| {
        b.iter_custom(|n| {
            (0..n)
                .map(|_| {
                    std::thread::sleep(Duration::from_micros(200));
                    pair.round_trips(1)
                })
                .sum()
        })
    });
    g.finish();
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child_main(&spec);
        return;
    }
    let pair = pin::choose(None).expect("sched_getaffinity");
    CPUS.set(pair).expect("set once");
    if let Some((a, _)) = pair {
        pin::pin(a).expect("pin");
    }
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    round_trip(&mut c);
    wakeup(&mut c);
    c.final_summary();
}
