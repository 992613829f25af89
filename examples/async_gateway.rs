//! An async gateway: a tokio process `select!`s over two rings fed by two producer
//! processes and a TCP connection on 127.0.0.1, and forwards everything to a third ring,
//! read by a collector process.
//!
//! ```text
//! cargo run --release --example async_gateway --features tokio
//! ```
//!
//! The producers send 20 000 messages each (24 to 224 bytes), sleeping 20 to 40 µs after
//! each, so that the gateway's task mostly waits and is woken (by ipcring's helper thread,
//! not by a worker thread of the runtime sleeping in a syscall); a TCP client sends 10 000
//! framed messages the same way. Every message carries its origin, its number and the time it was sent; the
//! gateway adds the time it forwarded it. The collector checks that every message of every
//! origin arrives once and in order, and prints the latency the gateway added (sent →
//! forwarded) for ring messages and for TCP messages, and the hop after it. Exit status
//! 0, or 1 if the invariant does not hold; nothing is left in /dev/shm, also after
//! Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::RecvError;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use support::{mix, percentile, Run};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const RING_MESSAGES: u64 = 20_000;
const TCP_MESSAGES: u64 = 10_000;
/// The origins: the two rings and the TCP connection.
const ORIGINS: [&str; 3] = ["ring A", "ring B", "tcp"];
/// A message's header: origin, number, time sent (ns of CLOCK_MONOTONIC).
const HEADER: usize = 24;

fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Message `n` of `origin`: the header, then 0 to 200 bytes that depend on both.
fn message(origin: u64, n: u64) -> Vec<u8> {
    let len = (mix(origin << 32 | n) % 201) as usize;
    let mut v = Vec::with_capacity(HEADER + len);
    v.extend_from_slice(&origin.to_le_bytes());
    v.extend_from_slice(&n.to_le_bytes());
    v.extend_from_slice(&now_ns().to_le_bytes());
    v.extend((0..len).map(|i| (n as usize + i) as u8 ^ origin as u8));
    v
}

fn word(msg: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(msg[i * 8..i * 8 + 8].try_into().expect("a header word"))
}

/// Child: a producer of ring `name` for `origin`, pacing its messages.
fn producer(name: &str, origin: u64) -> ExitCode {
    let mut tx = Producer::open(name).expect("open the producer");
    for n in 0..RING_MESSAGES {
        tx.send(&message(origin, n)).expect("send");
        std::thread::sleep(Duration::from_micros(20 + mix(n) % 20));
    }
    ExitCode::SUCCESS
}

/// Child: the TCP client; each message is framed by its length (4 bytes, little-endian).
fn tcp_client(port: &str) -> ExitCode {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port.parse().expect("a port")))
        .expect("connect to the gateway");
    s.set_nodelay(true).expect("TCP_NODELAY");
    for n in 0..TCP_MESSAGES {
        let m = message(2, n);
        s.write_all(&(m.len() as u32).to_le_bytes()).expect("write");
        s.write_all(&m).expect("write");
        std::thread::sleep(Duration::from_micros(20 + mix(n) % 20));
    }
    ExitCode::SUCCESS
}

/// Child: reads the gateway's ring until it ends, checks every message, and prints
/// `stats` with the counts and latencies.
fn collector(name: &str) -> ExitCode {
    let mut rx = Consumer::open(name).expect("open the collector");
    println!("ready");
    let mut next = [0u64; 3];
    let mut added: [Vec<u64>; 3] = Default::default();
    let mut after = Vec::new();
    let mut buf = Vec::new();
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => {}
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("receive: {e}"),
        }
        let got = now_ns();
        let (origin, n, sent, forwarded) =
            (word(&buf, 0), word(&buf, 1), word(&buf, 2), word(&buf, 3));
        let o = origin as usize;
        if o >= 3 || n != next[o] {
            println!("bad message from origin {origin}: number {n}");
            return ExitCode::FAILURE;
        }
        let mut original = buf[..HEADER].to_vec();
        original.extend_from_slice(&buf[HEADER + 8..]);
        let expected = message(origin, n);
        if original[HEADER..] != expected[HEADER..] {
            println!("message {n} from {} is damaged", ORIGINS[o]);
            return ExitCode::FAILURE;
        }
        next[o] += 1;
        added[o].push(forwarded.saturating_sub(sent));
        after.push(got.saturating_sub(forwarded));
    }
    let [a, b, t] = next;
    let rings: Vec<u64> = added[0].iter().chain(&added[1]).copied().collect();
    let (mut rings, mut tcp) = (rings, std::mem::take(&mut added[2]));
    println!(
        "stats {a} {b} {t} {} {} {} {} {} {}",
        percentile(&mut rings, 0.5),
        percentile(&mut rings, 0.99),
        percentile(&mut tcp, 0.5),
        percentile(&mut tcp, 0.99),
        percentile(&mut after, 0.5),
        percentile(&mut after, 0.99),
    );
    ExitCode::SUCCESS
}

/// What one turn of the gateway's `select!` got.
enum Got {
    /// A receive from ring 0 or 1 (its message is in that ring's buffer).
    Ring(usize, Result<usize, RecvError>),
    /// A frame from the TCP connection, or its end.
    Tcp(Option<Vec<u8>>),
}

/// The gateway: forwards from both rings and the TCP connection to `out` until all
/// three ended; returns how many it forwarded from each.
async fn gateway(
    mut a: Consumer,
    mut b: Consumer,
    listener: TcpListener,
    mut out: Producer,
) -> [u64; 3] {
    // TCP frames come through a channel from a task of their own: reading a frame is not
    // cancel-safe, a channel's receive is (as is a ring's `recv_async`).
    let (frames, mut from_tcp) = tokio::sync::mpsc::channel::<Vec<u8>>(1024);
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept the TCP client");
        let mut len = [0u8; 4];
        while s.read_exact(&mut len).await.is_ok() {
            let mut m = vec![0u8; u32::from_le_bytes(len) as usize];
            s.read_exact(&mut m).await.expect("a whole frame");
            if frames.send(m).await.is_err() {
                break;
            }
        }
    });
    let mut counts = [0u64; 3];
    let mut open = [true; 3];
    let (mut buf_a, mut buf_b) = (Vec::new(), Vec::new());
    while open.iter().any(|&o| o) {
        let got = tokio::select! {
            r = a.recv_async(&mut buf_a), if open[0] => Got::Ring(0, r),
            r = b.recv_async(&mut buf_b), if open[1] => Got::Ring(1, r),
            m = from_tcp.recv(), if open[2] => Got::Tcp(m),
        };
        let (origin, msg): (usize, &[u8]) = match &got {
            Got::Ring(0, Ok(_)) => (0, &buf_a),
            Got::Ring(_, Ok(_)) => (1, &buf_b),
            Got::Ring(k, Err(RecvError::Disconnected)) => {
                open[*k] = false;
                continue;
            }
            Got::Ring(k, Err(e)) => panic!("receive from {}: {e}", ORIGINS[*k]),
            Got::Tcp(Some(m)) => (2, m),
            Got::Tcp(None) => {
                open[2] = false;
                continue;
            }
        };
        let mut m = Vec::with_capacity(msg.len() + 8);
        m.extend_from_slice(&msg[..HEADER]);
        m.extend_from_slice(&now_ns().to_le_bytes());
        m.extend_from_slice(&msg[HEADER..]);
        out.send_async(&m).await.expect("forward");
        counts[origin] += 1;
    }
    counts
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "producer" => producer(&args[0], args[1].parse().expect("an origin")),
            "tcp" => tcp_client(&args[0]),
            "collector" => collector(&args[0]),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("async_gateway");
    let names = [run.queue("a"), run.queue("b"), run.queue("out")];
    let ring = |name: &str| Builder::new(name).capacity(1 << 16);
    let a = ring(&names[0]).create_consumer().expect("create ring A");
    let b = ring(&names[1]).create_consumer().expect("create ring B");
    let out = ring(&names[2])
        .create_producer()
        .expect("create the out ring");
    let mut collector = run.spawn("collector", [&names[2]]);
    collector.expect("ready");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("listen on 127.0.0.1");
    let port = listener.local_addr().expect("the port").port().to_string();
    let children = [
        run.spawn("producer", [names[0].as_str(), "0"]),
        run.spawn("producer", [names[1].as_str(), "1"]),
        run.spawn("tcp", [port.as_str()]),
    ];
    let counts = rt.block_on(gateway(a, b, listener, out));
    for c in children {
        let (_, status) = c.finish();
        run.check(status.success(), "a sender failed");
    }
    let stats = collector.expect("stats");
    let (_, status) = collector.finish();
    run.check(status.success(), "the collector found a bad message");
    let v: Vec<u64> = stats
        .split_whitespace()
        .map(|w| w.parse().expect("a number"))
        .collect();
    let want = [RING_MESSAGES, RING_MESSAGES, TCP_MESSAGES];
    run.check(
        v[..3] == want && counts == want,
        &format!(
            "forwarded {counts:?}, collected {:?}, sent {want:?}",
            &v[..3]
        ),
    );
    println!(
        "async_gateway: forwarded {} + {} ring messages and {} TCP messages to one ring, each once and in order",
        v[0], v[1], v[2]
    );
    println!("  added by the gateway (sent -> forwarded): rings p50 {} ns, p99 {} ns; TCP p50 {} ns, p99 {} ns", v[3], v[4], v[5], v[6]);
    println!("  forwarded -> collected: p50 {} ns, p99 {} ns", v[7], v[8]);
    ExitCode::SUCCESS
}
