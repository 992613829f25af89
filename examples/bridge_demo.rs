//! Rings across machines: a producer on "host A" writes into a ring there, a bridge
//! (`ipcring::bridge::Outbound`) publishes the ring's messages to NATS JetStream, a bridge
//! on "host B" (`Inbound`) commits them into a ring there, and a consumer reads them. The
//! two hosts are two processes whose rings live under two name prefixes
//! (`bridge_demo-PID-host-a-…`, `…-host-b-…`), with a `nats-server` between them that the
//! demo starts on a free loopback port.
//!
//! ```text
//! cargo run --release --example bridge_demo --features nats
//! cargo run --release --example bridge_demo --features nats -- --bench 5
//! ```
//!
//! Host A sends 2 000 messages of 128 bytes 200 µs apart, then 20 000 more as fast as the
//! path takes them; each carries its number and the instant it was sent. Host B checks
//! every message (all of them, in order, every byte) and measures the one-way latency of
//! the paced messages (with nothing queued ahead of them) and the throughput of the burst
//! (its first send to its last receipt). The
//! demo runs the bridged path and the plain ring between the two processes, and prints
//! what the bridge adds. With `--bench RUNS` it runs, in each of RUNS rounds, the plain
//! ring, core NATS publish/subscribe, JetStream publish (32 acknowledgements in flight,
//! the bridge's window) to an ordered consumer, and the bridge, and prints each round,
//! the medians, and the bridge's ratios to the others.
//!
//! Exit status 0, or 1 if a message is missing, out of order or altered; without
//! `nats-server` on the PATH it says so and exits 0. It leaves nothing behind (rings, the
//! server, its store), also after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use bytes::Bytes;
use futures_util::StreamExt;
use ipcring::bridge::{Inbound, Options, Outbound, RingAt};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::RecvError;
use ipcring_bench_support::nats::{self, NatsServer};
use std::collections::VecDeque;
use std::future::IntoFuture;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::Run;

/// Bytes per message: its number, its send instant, then bytes derived from its number.
const SIZE: usize = 128;
/// Messages sent `GAP` apart (the latency).
const PACED: u64 = 2_000;
/// Messages sent as fast as the path takes them after the paced ones (the throughput).
const BURST: u64 = 20_000;
const GAP: Duration = Duration::from_micros(200);
/// The rings' data areas.
const CAPACITY: usize = 1 << 20;
/// JetStream publishes in flight, as many as the bridge's default window.
const WINDOW: usize = 32;
/// The longest wait for one message.
const STALL: Duration = Duration::from_secs(20);

/// How host A's messages reach host B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// One ring between the two processes (one machine: the yardstick).
    Ring,
    /// Core NATS publish, a subscriber.
    Core,
    /// JetStream publish, acknowledged, to an ordered consumer.
    JetStream,
    /// Ring → `Outbound` → JetStream → `Inbound` → ring.
    Bridge,
}

impl Route {
    const ALL: [Route; 4] = [Route::Ring, Route::Core, Route::JetStream, Route::Bridge];

    fn name(self) -> &'static str {
        match self {
            Route::Ring => "ring",
            Route::Core => "core-nats",
            Route::JetStream => "jetstream",
            Route::Bridge => "bridge",
        }
    }

    fn parse(s: &str) -> Route {
        *Route::ALL
            .iter()
            .find(|r| r.name() == s)
            .unwrap_or_else(|| panic!("no route {s}"))
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for both processes.
fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Writes message `seq` into `m` (`SIZE` bytes), stamped now.
fn stamp(m: &mut [u8], seq: u64) {
    m[..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in m[16..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(i as u8);
    }
    m[8..16].copy_from_slice(&now_ns().to_le_bytes());
}

/// Host A's side of every route: the paced messages, then the burst.
fn emit(mut send: impl FnMut(&[u8])) {
    let mut m = vec![0; SIZE];
    for seq in 0..PACED + BURST {
        if seq < PACED {
            support::busy(GAP);
        }
        stamp(&mut m, seq);
        send(&m);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Child "host-a": sends over `route`; `ring` is the ring to write (host B's for the plain
/// ring, its own for the bridge).
fn host_a(route: Route, ring: &str, subject: &str, url: &str) -> ExitCode {
    let rt = runtime();
    // The NATS client's handles are made in the runtime's context.
    let _context = rt.enter();
    match route {
        Route::Ring => {
            let mut tx = Producer::open(ring).expect("open host B's ring");
            emit(|m| tx.send(m).expect("send"));
        }
        Route::Core => {
            let client = rt.block_on(async_nats::connect(url)).expect("connect");
            emit(|m| {
                rt.block_on(client.publish(subject.to_owned(), Bytes::copy_from_slice(m)))
                    .expect("publish")
            });
            rt.block_on(client.flush()).expect("flush");
        }
        Route::JetStream => {
            let client = rt.block_on(async_nats::connect(url)).expect("connect");
            let js = async_nats::jetstream::new(client);
            let mut acks = VecDeque::new();
            let settle = |acks: &mut VecDeque<async_nats::jetstream::context::PublishAckFuture>| {
                let ack = acks.pop_front().expect("a publish in flight");
                rt.block_on(ack.into_future()).expect("acknowledged");
            };
            emit(|m| {
                let ack = rt
                    .block_on(js.publish(subject.to_owned(), Bytes::copy_from_slice(m)))
                    .expect("publish");
                acks.push_back(ack);
                if acks.len() == WINDOW {
                    settle(&mut acks);
                }
            });
            while !acks.is_empty() {
                settle(&mut acks);
            }
        }
        Route::Bridge => {
            let mut tx = Builder::new(ring)
                .capacity(CAPACITY)
                .create_producer()
                .expect("host A's ring");
            let sent = Arc::new(AtomicBool::new(false));
            let producer = {
                let sent = Arc::clone(&sent);
                std::thread::spawn(move || {
                    emit(|m| tx.send(m).expect("send"));
                    sent.store(true, Ordering::Release);
                })
            };
            // The bridge stops once the producer is done and the ring is empty: every
            // message was acknowledged by JetStream (the bridge releases none before).
            let ring_name = ring.to_owned();
            let drained = async move {
                while !(sent.load(Ordering::Acquire)
                    && ipcring::survey::inspect(&ring_name).is_ok_and(|r| r.fill == 0))
                {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            };
            let summary = rt
                .block_on(
                    Outbound::new(RingAt::Name(ring.to_owned()), subject)
                        .options(Options::default().server(url))
                        .run(drained),
                )
                .expect("bridge out");
            producer.join().expect("the producer");
            println!("published {}", summary.messages);
        }
    }
    ExitCode::SUCCESS
}

/// Takes the messages from `next` (which fills its buffer, or says `false` after `STALL`),
/// checks every one, and prints the burst's throughput and the paced latencies.
fn absorb(mut next: impl FnMut(&mut Vec<u8>) -> bool) -> ExitCode {
    let mut m = Vec::new();
    let (mut first_sent, mut burst_end) = (0, 0);
    let mut latencies = Vec::with_capacity(PACED as usize);
    let mut expected = vec![0; SIZE];
    for seq in 0..PACED + BURST {
        if !next(&mut m) {
            eprintln!("host-b: message {seq} did not come in {STALL:?}");
            return ExitCode::FAILURE;
        }
        let received = now_ns();
        stamp(&mut expected, seq);
        if m.len() != SIZE || m[..8] != expected[..8] || m[16..] != expected[16..] {
            eprintln!(
                "host-b: message {seq} expected, got {:?}…",
                &m[..m.len().min(16)]
            );
            return ExitCode::FAILURE;
        }
        let sent = u64::from_le_bytes(m[8..16].try_into().expect("8 bytes"));
        if seq < PACED {
            latencies.push(received.saturating_sub(sent));
        } else if seq == PACED {
            first_sent = sent;
        }
        burst_end = received;
    }
    let rate = BURST as f64 / ((burst_end - first_sent) as f64 / 1e9);
    let p50 = support::percentile(&mut latencies, 0.5);
    let p99 = support::percentile(&mut latencies, 0.99);
    println!("result {rate:.0} {p50} {p99}");
    ExitCode::SUCCESS
}

/// Receives from a ring for `absorb`.
fn from_ring(mut rx: Consumer) -> impl FnMut(&mut Vec<u8>) -> bool {
    move |m| match rx.recv_timeout_into(m, STALL) {
        Ok(_) => true,
        Err(RecvError::Timeout) => false,
        Err(e) => panic!("receive: {e}"),
    }
}

/// Child "host-b": receives over `route`; `ring` is its ring (for the ring and the
/// bridge routes), `stream` the route's stream (and the name of the bridge's durable
/// consumer).
fn host_b(route: Route, ring: &str, subject: &str, url: &str, stream: &str) -> ExitCode {
    let rt = runtime();
    // The NATS client's handles are made in the runtime's context.
    let _context = rt.enter();
    let ours = || {
        Builder::new(ring)
            .capacity(CAPACITY)
            .create_consumer()
            .expect("host B's ring")
    };
    match route {
        Route::Ring => {
            let rx = ours();
            println!("ready");
            absorb(from_ring(rx))
        }
        Route::Core => {
            let client = rt.block_on(async_nats::connect(url)).expect("connect");
            let mut sub = rt
                .block_on(client.subscribe(subject.to_owned()))
                .expect("subscribe");
            rt.block_on(client.flush()).expect("flush");
            println!("ready");
            absorb(
                |m| match rt.block_on(tokio::time::timeout(STALL, sub.next())) {
                    Ok(Some(msg)) => {
                        m.clear();
                        m.extend_from_slice(&msg.payload);
                        true
                    }
                    _ => false,
                },
            )
        }
        Route::JetStream => {
            let js =
                async_nats::jetstream::new(rt.block_on(async_nats::connect(url)).expect("connect"));
            let mut messages = rt
                .block_on(async {
                    let stream = js.get_stream(stream).await?;
                    let consumer = stream
                        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                            filter_subject: subject.to_owned(),
                            ..Default::default()
                        })
                        .await?;
                    Ok::<_, async_nats::Error>(consumer.messages().await?)
                })
                .expect("an ordered consumer");
            println!("ready");
            absorb(
                |m| match rt.block_on(tokio::time::timeout(STALL, messages.next())) {
                    Ok(Some(Ok(msg))) => {
                        m.clear();
                        m.extend_from_slice(&msg.payload);
                        true
                    }
                    _ => false,
                },
            )
        }
        Route::Bridge => {
            let rx = ours();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let bridge = rt.spawn(
                Inbound::new(subject, RingAt::Name(ring.to_owned()), stream)
                    .options(Options::default().server(url))
                    .run(async {
                        let _ = stopped.await;
                    }),
            );
            println!("ready");
            let status = absorb(from_ring(rx));
            let _ = stop.send(());
            let summary = rt
                .block_on(bridge)
                .expect("the bridge's task")
                .expect("bridge in");
            println!("committed {}", summary.messages);
            status
        }
    }
}

/// One route, once: host B (ready first), then host A; host B's figures.
fn one(run: &Run, server: &NatsServer, route: Route, round: usize) -> (f64, u64, u64) {
    let url = server.url();
    let subject = format!("demo.{round}.{}", route.name());
    // The stream's name, and the durable consumer's of the bridge: one per round and route.
    let stream = format!("demo_{round}_{}", route.name().replace('-', "_"));
    if matches!(route, Route::JetStream | Route::Bridge) {
        server
            .create_stream(&stream, &[&subject])
            .expect("create the stream");
    }
    let ring_a = run.queue(&format!("host-a-{round}-{}", route.name()));
    let ring_b = run.queue(&format!("host-b-{round}-{}", route.name()));
    let mut b = run.spawn("host-b", [route.name(), &ring_b, &subject, &url, &stream]);
    b.expect("ready");
    let to = if route == Route::Ring {
        &ring_b
    } else {
        &ring_a
    };
    let a = run.spawn("host-a", [route.name(), to, &subject, &url]);
    let result = b.expect("result");
    let mut fields = result.split_whitespace();
    let mut field = || {
        fields
            .next()
            .expect("a figure")
            .parse::<f64>()
            .expect("a number")
    };
    let (rate, p50, p99) = (field(), field() as u64, field() as u64);
    let total = (PACED + BURST).to_string();
    let (a_lines, a_status) = a.finish();
    let (b_lines, b_status) = b.finish();
    run.check(a_status.success(), "host A failed");
    run.check(b_status.success(), "host B failed");
    if route == Route::Bridge {
        run.check(
            a_lines.iter().any(|l| *l == format!("published {total}")),
            "bridge out published every message once",
        );
        run.check(
            b_lines.iter().any(|l| *l == format!("committed {total}")),
            "bridge in committed every message once",
        );
    }
    (rate, p50, p99)
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        let route = Route::parse(&args[0]);
        return match role.as_str() {
            "host-a" => host_a(route, &args[1], &args[2], &args[3]),
            "host-b" => host_b(route, &args[1], &args[2], &args[3], &args[4]),
            other => panic!("unknown role {other}"),
        };
    }
    let mut args = std::env::args().skip(1);
    let rounds = match args.next().as_deref() {
        None => None,
        Some("--bench") => Some(args.next().map_or(3, |n| n.parse().expect("--bench RUNS"))),
        Some(other) => panic!("unknown argument {other} (--bench RUNS)"),
    };
    if !nats::installed() {
        println!("bridge_demo: skipped: nats-server is not installed (Debian: apt-get install nats-server)");
        return ExitCode::SUCCESS;
    }
    let run = Run::start("bridge_demo");
    run.deadline(Duration::from_secs(60 + 60 * rounds.unwrap_or(1) as u64));
    let server = NatsServer::start("bridge_demo").expect("start nats-server");
    run.kill_at_end(server.pid().expect("running"));
    run.remove_dir_at_end(server.dir().to_owned());
    let routes: &[Route] = match rounds {
        None => &[Route::Ring, Route::Bridge],
        Some(_) => &Route::ALL,
    };
    println!(
        "{PACED} messages of {SIZE} B every {GAP:?} (one-way latency), then {BURST} as fast as they go (throughput)"
    );
    println!(
        "{:<6} {:<10} {:>12} {:>10} {:>10}",
        "round", "route", "msg/s", "p50 µs", "p99 µs"
    );
    let mut figures = vec![Vec::new(); routes.len()];
    for round in 0..rounds.unwrap_or(1) {
        for (i, &route) in routes.iter().enumerate() {
            let (rate, p50, p99) = one(&run, &server, route, round);
            println!(
                "{round:<6} {:<10} {rate:>12.0} {:>10.1} {:>10.1}",
                route.name(),
                p50 as f64 / 1e3,
                p99 as f64 / 1e3
            );
            figures[i].push((rate, p50, p99));
        }
    }
    report(routes, &mut figures);
    println!("every message arrived, in order, byte-exact");
    ExitCode::SUCCESS
}

/// The medians of each route's rounds, and the bridge's ratios to every other route.
fn report(routes: &[Route], figures: &mut [Vec<(f64, u64, u64)>]) {
    let medians: Vec<(f64, u64, u64)> = figures
        .iter_mut()
        .map(|f| {
            let mut rates: Vec<u64> = f.iter().map(|x| x.0 as u64).collect();
            let mut p50s: Vec<u64> = f.iter().map(|x| x.1).collect();
            let mut p99s: Vec<u64> = f.iter().map(|x| x.2).collect();
            (
                support::percentile(&mut rates, 0.5) as f64,
                support::percentile(&mut p50s, 0.5),
                support::percentile(&mut p99s, 0.5),
            )
        })
        .collect();
    let bridge = medians[routes.len() - 1];
    println!("\nmedians, and the bridge's figure as a ratio of each route's");
    println!(
        "{:<10} {:>12} {:>10} {:>10} {:>14} {:>14}",
        "route", "msg/s", "p50 µs", "p99 µs", "bridge rate ×", "bridge p50 ×"
    );
    for (route, m) in routes.iter().zip(&medians) {
        println!(
            "{:<10} {:>12.0} {:>10.1} {:>10.1} {:>14.3} {:>14.2}",
            route.name(),
            m.0,
            m.1 as f64 / 1e3,
            m.2 as f64 / 1e3,
            bridge.0 / m.0,
            bridge.1 as f64 / m.1 as f64
        );
    }
    let ring = medians[0];
    println!(
        "the bridge adds {:.1} µs per message (p50 one-way, over the plain ring's {:.1} µs)",
        (bridge.1 as f64 - ring.1 as f64) / 1e3,
        ring.1 as f64 / 1e3
    );
}
