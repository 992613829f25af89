//! Chat room: three client processes subscribe to one broadcast topic and each publish
//! 1 000 lines to it; every client sees all 3 000 lines, in the same order as the others.
//!
//! ```text
//! cargo run --release --example chat_room
//! ```
//!
//! Each client runs two threads, as a chat client does: one publishes its lines, the other
//! reads the room (the topic is lossless, so a client that stopped reading would hold the
//! others up). The room opens with a `go` line from the host once every client has
//! joined, so that nobody misses a line. Each client checks every line it reads (sender,
//! number, text) and that each sender's lines come in the order they were sent, and prints
//! a digest of the whole sequence; the host checks that the three digests are equal.
//! Exit status 0, or 1 if an invariant does not hold; nothing is left in /dev/shm, also
//! after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::broadcast::{Builder, Publisher, Subscriber};
use std::process::ExitCode;
use std::time::Instant;
use support::{mix, Run};

const CLIENTS: u64 = 3;
const LINES: u64 = 1_000;
/// Longest line.
const SLOT: usize = 128;

/// Line `n` of client `c`.
fn line(c: u64, n: u64) -> String {
    let words = [
        "hello", "anyone", "here?", "yes", "lunch", "at", "noon", "ok", "bye",
    ];
    let w = |i: u64| words[(mix(c << 32 | n) >> (8 * i)) as usize % words.len()];
    format!("client{c} #{n}: {} {} {}", w(0), w(1), w(2))
}

/// Client `c`: joins, then publishes its lines while it reads the room.
fn client(room: &str, c: u64) -> ExitCode {
    let mut rx = Subscriber::open(room).expect("join the room");
    let mut tx = Publisher::open(room).expect("open the room for writing");
    println!("ready");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("the opening line");
    assert_eq!(buf, b"go", "the room opens with go");
    let talk = std::thread::spawn(move || {
        for n in 0..LINES {
            tx.send(line(c, n).as_bytes()).expect("say a line");
        }
    });
    let mut next = [0u64; CLIENTS as usize];
    let mut digest = 0u64;
    for _ in 0..CLIENTS * LINES {
        rx.recv_into(&mut buf).expect("read the room");
        let text = std::str::from_utf8(&buf).expect("a UTF-8 line");
        let from: u64 = text
            .strip_prefix("client")
            .and_then(|r| r.split(' ').next())
            .and_then(|r| r.parse().ok())
            .expect("a line of a client");
        let n = next[from as usize];
        assert_eq!(text, line(from, n), "client {from}'s line {n}");
        next[from as usize] += 1;
        digest = (digest ^ mix(from << 32 | n)).wrapping_mul(0x100_0000_01b3);
    }
    talk.join().expect("the talking thread");
    println!("digest {digest:016x}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        return match role.as_str() {
            "client" => client(&args[0], args[1].parse().expect("a client number")),
            other => panic!("unknown role {other}"),
        };
    }
    let run = Run::start("chat_room");
    let room = run.queue("room");
    let mut host = Builder::new(&room)
        .capacity(256)
        .slot_size(SLOT)
        .publishers(CLIENTS as usize + 1)
        .max_subscribers(CLIENTS as usize)
        .create_publisher()
        .expect("create the room");
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|c| run.spawn("client", [room.clone(), c.to_string()]))
        .collect();
    for c in &mut clients {
        c.expect("ready");
    }
    let started = Instant::now();
    host.send(b"go").expect("open the room");
    let mut digests = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        let (lines, status) = c.finish();
        run.check(status.success(), &format!("client {i} failed"));
        let d = lines.iter().find_map(|l| l.strip_prefix("digest "));
        digests.push(
            d.unwrap_or_else(|| run.fail("a client did not report"))
                .to_owned(),
        );
    }
    let took = started.elapsed();
    let stats = host.stats();
    println!("chat_room: {CLIENTS} clients x {LINES} lines on one lossless topic");
    for (i, d) in digests.iter().enumerate() {
        println!("  client {i}: {} lines, digest {d}", CLIENTS * LINES);
    }
    run.check(
        digests.windows(2).all(|w| w[0] == w[1]),
        "the clients saw different sequences",
    );
    let total = CLIENTS * LINES + 1;
    run.check(stats.published == total, "published count");
    run.check(stats.received == CLIENTS * total, "received count");
    println!(
        "  the same {} lines in the same order for all, in {took:.2?}; {} futex wake-ups",
        CLIENTS * LINES,
        stats.publisher_wakeups + stats.subscriber_wakeups
    );
    ExitCode::SUCCESS
}
