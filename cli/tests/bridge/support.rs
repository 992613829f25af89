//! What the bridge tests share: a nats-server per test, bridge processes that are killed
//! when dropped, the messages (every byte derived from a sequence number) and a checker
//! that takes them out of a ring in order, counting redeliveries.

use crate::common::{ipcring, DEADLINE};
use ipcring::spsc::{Consumer, Producer};
use ipcring::{RecvError, SendError};
use ipcring_bench_support::nats::NatsServer;
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest a whole test may take: it fails past it (its guards kill the processes and
/// the server, and remove the rings and the store).
pub const LIMIT: Duration = Duration::from_secs(120);

/// Set (by `.ci/run`) to fail the bridge tests when `nats-server` is not installed; they
/// are skipped otherwise, saying so, so that the README's test command passes on a
/// machine without it.
const REQUIRE_VAR: &str = "IPCRING_REQUIRE_NATS";

/// A server for one test; `None`, said loudly, when it is not installed and `REQUIRE_VAR`
/// is not set.
pub fn server() -> Option<NatsServer> {
    match NatsServer::start("ipcring-bridge-test") {
        Ok(s) => Some(s),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && std::env::var_os(REQUIRE_VAR).is_none() =>
        {
            eprintln!("SKIPPED, NOT RUN: {e} (set {REQUIRE_VAR}=1 to fail instead; .ci/run does)");
            None
        }
        Err(e) => panic!("{e} ({REQUIRE_VAR} is set: .ci/run installs it)"),
    }
}

/// A subject, a stream and a durable consumer's name unique to this process and `tag`.
pub fn names(tag: &str) -> (String, String, String) {
    let pid = std::process::id();
    (
        format!("bridge.{pid}.{tag}"),
        format!("S{pid}_{tag}"),
        format!("D{pid}_{tag}"),
    )
}

/// An `ipcring bridge ...` process, killed when dropped; its standard error goes to a
/// file that is removed then.
pub struct Bridge {
    child: Child,
    what: String,
    log: PathBuf,
}

impl Bridge {
    /// Starts `ipcring bridge ARGS`, with `env` added to its environment.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Bridge {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let log =
            std::env::temp_dir().join(format!("ipcring-bridge-{}-{n}.log", std::process::id()));
        let child = ipcring()
            .arg("bridge")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("start ipcring bridge");
        Bridge {
            child,
            what: format!("ipcring bridge {}", args.join(" ")),
            log,
        }
    }

    /// What it wrote to its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test if the process has ended.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("wait") {
            panic!("`{}` ended ({status}): {}", self.what, self.log());
        }
    }

    /// `kill -9`, then reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits (until `DEADLINE`) for the process to end by itself.
    pub fn wait(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "`{}` did not end in {DEADLINE:?}: {}",
                self.what,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Ctrl-C (`SIGINT`), then waits for the end; returns the exit status.
    pub fn interrupt(mut self) -> ExitStatus {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
        self.wait()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The length of message `seq`: 1 to 8 bytes for one in 16, 1 KiB to 6 KiB for another
/// one in 16, 8 to 263 bytes for the rest.
pub fn len_of(seq: u64) -> usize {
    let h = scramble(seq) as usize;
    match seq % 16 {
        0 => 1 + h % 8,
        1 => 1024 + h % (5 * 1024 + 1),
        _ => 8 + h % 256,
    }
}

/// Message `seq`: its sequence number (as much of its 8 little-endian bytes as fit), then
/// bytes of a sequence that starts at a point given by `seq`.
pub fn message(seq: u64) -> Vec<u8> {
    let len = len_of(seq);
    let start = scramble(seq.wrapping_add(1));
    let mut m: Vec<u8> = (0..len as u64)
        .map(|i| (start.wrapping_add(i.wrapping_mul(0x9e37_79b9)) >> 24) as u8)
        .collect();
    let head = len.min(8);
    m[..head].copy_from_slice(&seq.to_le_bytes()[..head]);
    m
}

/// The splitmix64 finaliser.
fn scramble(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Sends messages `0..n` into `tx` from a thread of its own. While the ring is full and
/// its consumer is dead (a bridge between two lives), it waits for the next one.
pub fn produce(mut tx: Producer, n: u64) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let start = Instant::now();
        for seq in 0..n {
            let m = message(seq);
            loop {
                match tx.send_timeout(&m, Duration::from_millis(100)) {
                    Ok(()) => break,
                    Err(SendError::Timeout | SendError::Disconnected) => {
                        assert!(start.elapsed() < LIMIT, "the producer waited {LIMIT:?}");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) => panic!("send {seq}: {e}"),
                }
            }
        }
    })
}

/// Takes messages out of a ring and checks each against the next one expected, in order;
/// a message that repeats an earlier one is counted as a redelivery. Or, made
/// [`Checker::in_any_order`], takes them in any order within [`REACH`] of the first one
/// missing.
pub struct Checker {
    rx: Consumer,
    /// The next message expected (unordered: the first one missing).
    pub next: u64,
    /// Messages that arrived again.
    pub duplicates: u64,
    /// Unordered: which messages arrived, from the first one missing on.
    seen: Option<std::collections::VecDeque<bool>>,
    started: Instant,
    buf: Vec<u8>,
}

/// How far from the message expected a redelivered (or, unordered, any) message may be.
const REACH: u64 = 1 << 17;

impl Checker {
    /// A checker of `rx` that expects message `next` first.
    pub fn new(rx: Consumer, next: u64) -> Checker {
        Checker {
            rx,
            next,
            duplicates: 0,
            seen: None,
            started: Instant::now(),
            buf: Vec::new(),
        }
    }

    /// From now on, takes the messages from the first one missing on in any order (a
    /// message that arrived already is counted as a redelivery).
    pub fn in_any_order(&mut self) {
        self.seen = Some(std::collections::VecDeque::new());
    }

    /// Receives until message `upto - 1` has arrived; fails past the test's `LIMIT`, on a
    /// message out of order, on a byte that differs, or when one of the `running` bridges
    /// has ended.
    pub fn take_until(&mut self, upto: u64, running: &mut [&mut Bridge]) {
        while self.next < upto {
            match self
                .rx
                .recv_timeout_into(&mut self.buf, Duration::from_millis(100))
            {
                Ok(_) => self.check(),
                // No producer between two lives of the in-bridge.
                Err(RecvError::Timeout | RecvError::Disconnected) => {
                    assert!(
                        self.started.elapsed() < LIMIT,
                        "only {} of {upto} messages arrived in {LIMIT:?}",
                        self.next
                    );
                    running.iter_mut().for_each(|b| b.assert_running());
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("receive: {e}"),
            }
        }
    }

    /// Receives (and checks) until nothing arrives for `quiet`.
    pub fn drain(&mut self, quiet: Duration) {
        loop {
            match self.rx.recv_timeout_into(&mut self.buf, quiet) {
                Ok(_) => self.check(),
                Err(RecvError::Timeout | RecvError::Disconnected) => return,
                Err(e) => panic!("receive: {e}"),
            }
        }
    }

    /// Fails if any message arrives within `window`.
    pub fn expect_silence(&mut self, window: Duration) {
        match self.rx.recv_timeout_into(&mut self.buf, window) {
            Err(RecvError::Timeout | RecvError::Disconnected) => {}
            Ok(n) => panic!("a message of {n} bytes after the last one ({})", self.next),
            Err(e) => panic!("receive: {e}"),
        }
    }

    /// Takes the message as the next one (ordered), or the first one not seen yet that it
    /// equals (unordered), or else as a redelivery of one seen.
    fn check(&mut self) {
        let candidates = self.candidates();
        let next = self.next;
        let Some(seen) = self.seen.as_mut() else {
            match candidates.iter().find(|&&seq| seq <= next) {
                Some(&seq) if seq == next => self.next += 1,
                Some(_) => self.duplicates += 1,
                None => self.unexpected(),
            }
            return;
        };
        // Unordered: `seen[i]` says whether message `next + i` arrived.
        let fresh = candidates.iter().find_map(|&seq| {
            let i = seq.checked_sub(next)? as usize;
            (!seen.get(i).copied().unwrap_or(false)).then_some(i)
        });
        match fresh {
            Some(i) => {
                if seen.len() <= i {
                    seen.resize(i + 1, false);
                }
                seen[i] = true;
                while seen.front() == Some(&true) {
                    seen.pop_front();
                    self.next += 1;
                }
            }
            None if !candidates.is_empty() => self.duplicates += 1,
            None => self.unexpected(),
        }
    }

    /// The messages within [`REACH`] of the next one expected that the message received
    /// equals byte for byte, the next one first, then up, then down: a message starts
    /// with as many of its number's low bytes as fit (a short one may equal others).
    fn candidates(&self) -> Vec<u64> {
        let buf = &self.buf;
        let k = buf.len().min(8);
        let mut head = [0u8; 8];
        head[..k].copy_from_slice(&buf[..k]);
        let low_bits = u64::from_le_bytes(head);
        let (low, high) = (self.next.saturating_sub(REACH), self.next + REACH);
        // The numbers in reach that end in those bytes.
        let seqs: Box<dyn Iterator<Item = u64>> = if k == 8 {
            Box::new(core::iter::once(low_bits))
        } else {
            let step = 1u64 << (8 * k);
            let mut first = low - low % step + low_bits;
            if first < low {
                first += step;
            }
            Box::new((first..high).step_by(step as usize))
        };
        let mut found: Vec<u64> = seqs
            .filter(|&seq| (low..high).contains(&seq) && *buf == message(seq))
            .collect();
        found.sort_by_key(|&seq| (seq < self.next, seq.abs_diff(self.next)));
        found
    }

    fn unexpected(&self) -> ! {
        panic!(
            "message {} expected ({} bytes), got {} bytes starting {:?}",
            self.next,
            len_of(self.next),
            self.buf.len(),
            &self.buf[..self.buf.len().min(16)]
        )
    }
}

/// The reply of JetStream's API `api` to an empty request, parsed.
fn info(server: &NatsServer, api: &str) -> serde_json::Value {
    let reply = server.jetstream(api, "").expect(api);
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{api}: {e}: {reply}"))
}

/// A number at `path` in `v`.
fn number(v: &serde_json::Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(v, |v, key| &v[key])
        .as_u64()
        .unwrap_or_else(|| panic!("no {} in {v}", path.join(".")))
}

/// The number of messages the stream holds (`STREAM.INFO`).
pub fn stream_messages(server: &NatsServer, stream: &str) -> u64 {
    number(
        &info(server, &format!("STREAM.INFO.{stream}")),
        &["state", "messages"],
    )
}

/// A durable consumer's acknowledged floor: the stream sequence up to which every message
/// is acknowledged (`CONSUMER.INFO`).
pub fn ack_floor(server: &NatsServer, stream: &str, durable: &str) -> u64 {
    let v = info(server, &format!("CONSUMER.INFO.{stream}.{durable}"));
    number(&v, &["ack_floor", "stream_seq"])
}
