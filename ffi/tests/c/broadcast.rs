//! The broadcast C API from C, against Rust, in real processes: a C client takes part in a
//! Rust chat room (examples/chat.c with two Rust clients, all seeing one sequence), and
//! the C program of statuses and bad input of broadcast topics.

use super::{leftovers, programs, run_checks, text, Rings, Running};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::{RecvError, SendError};
use std::process::Command;
use std::time::{Duration, Instant};

/// The room of examples/chat.c: its slots, its largest line.
const ROOM_SLOTS: usize = 4096;
const MAX_LINE: usize = 96;
const CLIENTS: u64 = 3;
const LINES: u64 = 1000;
const WORDS: [&str; 9] = [
    "hello", "anyone", "here?", "yes", "lunch", "at", "noon", "ok", "bye",
];

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Line `n` of client `id`, as examples/chat.c makes it.
fn line(id: u64, n: u64) -> String {
    let h = mix(id << 32 | n);
    let w = |s: u32| WORDS[((h >> s) % 9) as usize];
    format!("client{id} #{n}: {} {} {}", w(0), w(8), w(16))
}

/// A client in Rust, as examples/chat.c: says its lines (reading what waits whenever the
/// room is full for it), then reads until it has seen every line; returns the digest
/// line chat.c prints.
fn client(room: &str, id: u64) -> String {
    let b = || {
        Builder::new(room)
            .capacity(ROOM_SLOTS)
            .slot_size(MAX_LINE)
            .publishers(16)
            .max_subscribers(16)
            .from_oldest(true)
    };
    let mut rx: Subscriber = b().open_or_create_subscriber().expect("join the room");
    let mut tx: Publisher = b().open_or_create_publisher().expect("open the room");
    let mut seen = Seen {
        next: [0; CLIENTS as usize],
        lines: 0,
        digest: 0xcbf2_9ce4_8422_2325,
    };
    let mut buf = Vec::new();
    for n in 0..LINES {
        let msg = line(id, n);
        loop {
            match tx.try_send(msg.as_bytes()) {
                Ok(()) => break,
                Err(SendError::Full) => loop {
                    match rx.try_recv_into(&mut buf) {
                        Ok(_) => seen.note(&buf),
                        Err(RecvError::Empty) => break,
                        Err(e) => panic!("read the room: {e}"),
                    }
                },
                Err(e) => panic!("say a line: {e}"),
            }
        }
    }
    drop(tx);
    // Every publisher may be gone for a while: the other clients may have said all their
    // lines and left before a slow one (chat.c, started last, on a loaded machine) joined.
    let until = Instant::now() + Duration::from_secs(60);
    while seen.lines < CLIENTS * LINES {
        match rx.recv_timeout_into(&mut buf, Duration::from_secs(30)) {
            Ok(_) => seen.note(&buf),
            Err(RecvError::Disconnected) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("read the room: {e}"),
        }
    }
    format!("digest {:016x} lines {}", seen.digest, seen.lines)
}

/// The conversation as one client sees it, as in examples/chat.c.
struct Seen {
    /// The next line number of each client.
    next: [u64; CLIENTS as usize],
    lines: u64,
    /// FNV-1a over every line and a separator.
    digest: u64,
}

impl Seen {
    /// Checks and notes one line of the room: the next line of some client.
    fn note(&mut self, msg: &[u8]) {
        let text = std::str::from_utf8(msg).expect("a UTF-8 line");
        let from: u64 = text["client".len()..]
            .split(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("a client's line");
        let n = &mut self.next[from as usize];
        assert_eq!(text, line(from, *n), "client {from}'s next line");
        *n += 1;
        self.lines += 1;
        for &b in msg.iter().chain([&0xff]) {
            self.digest = (self.digest ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

#[test]
fn a_c_client_takes_part_in_a_rust_chat_room() {
    let rings = Rings::new("chat");
    let room = rings.name("room");
    let c = Running::spawn(
        Command::new(&programs().chat).args([&room, "2", "3", "1000"]),
        "chat.c",
    );
    let rust: Vec<_> = (0..2)
        .map(|id| {
            let room = room.clone();
            std::thread::spawn(move || client(&room, id))
        })
        .collect();
    let mut digests: Vec<String> = rust
        .into_iter()
        .map(|t| t.join().expect("a Rust client"))
        .collect();
    let out = c.finish();
    assert!(out.status.success(), "chat.c failed:\n{}", text(&out));
    digests.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    assert!(digests[0].ends_with(&format!("lines {}", CLIENTS * LINES)));
    assert!(
        digests.windows(2).all(|w| w[0] == w[1]),
        "every client saw the same sequence: {digests:?}"
    );
    ipcring::unlink(&room).expect("remove the room");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn broadcast_statuses_and_bad_input_from_c() {
    run_checks(&programs().broadcast_input, "bcast");
}
