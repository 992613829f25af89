//! Blackboards from C, in real processes: the C program of statuses and bad input of
//! blackboards, a C writer to a Rust reader that acknowledges every value through a board
//! of its own (every byte checked on both sides), and examples/board.c.

use super::{leftovers, programs, run_checks, stream, text, Rings, Running, MESSAGE_TIMEOUT};
use ipcring::blackboard::{Builder, GetError, Reader};
use ipcring::OpenError;
use std::process::{Child, Command};
use std::time::Instant;

/// Rounds of the interop test: each one value of each side, checked by the other.
const ROUNDS: u64 = 3_000;
/// `BLOB` of tests/c/board_peer.c: the largest value of its entry "blob".
const BLOB: usize = 4096;

#[test]
fn board_input_from_c_gets_status_codes() {
    run_checks(&programs().board_input, "board");
}

/// Opens the board `name` that another process is creating.
fn open_when_made(name: &str) -> Reader {
    let deadline = Instant::now() + MESSAGE_TIMEOUT;
    loop {
        match Builder::new(name).open_reader() {
            Ok(r) => return r,
            Err(OpenError::NotFound { .. } | OpenError::StillInitializing { .. })
                if Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) => panic!("open the C writer's board: {e}"),
        }
    }
}

#[test]
fn c_writer_to_rust_reader_every_value_checked() {
    let rings = Rings::new("board");
    let (name, acks) = (rings.name("values"), rings.name("acks"));
    let mut ack_tx = Builder::new(&acks)
        .value::<u64>("ack")
        .create_writer()
        .expect("create the acknowledgement board");
    let peer = Running::spawn(
        Command::new(&programs().board_peer).args([&name, &acks, &ROUNDS.to_string()]),
        "C board writer",
    );
    let mut rx = open_when_made(&name);
    let blob = rx.key("blob").expect("an entry \"blob\"");
    let round = rx.key("round").expect("an entry \"round\"");
    assert_eq!(rx.max_size(blob), Some(BLOB));
    let ack = ack_tx.key("ack").expect("an entry \"ack\"");
    let mut buf = Vec::new();
    for i in 0..ROUNDS {
        // Round i is version i + 1 of both entries; the writer sets "blob" first.
        let v = rx
            .wait_changed(round, i, Some(MESSAGE_TIMEOUT))
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        assert_eq!(v, i + 1, "version of \"round\" in round {i}");
        assert_eq!(rx.get::<u64>(round), Ok((i, i + 1)), "round {i}");
        let v = rx
            .get_into(blob, &mut buf)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        assert_eq!(v, i + 1, "version of \"blob\" in round {i}");
        stream::check(i, &buf, BLOB);
        assert_eq!(ack_tx.set_value(ack, &i), Ok(i + 1));
    }
    let out = peer.finish();
    assert!(
        out.status.success(),
        "C board writer failed:\n{}",
        text(&out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("board_peer: {ROUNDS} rounds, 0 bad")),
        "{}",
        text(&out)
    );
    // The C writer is gone: nothing will change, and the newest values stay.
    assert_eq!(
        rx.wait_changed(round, ROUNDS, Some(MESSAGE_TIMEOUT)),
        Err(GetError::NoWriter)
    );
    assert_eq!(rx.get::<u64>(round), Ok((ROUNDS - 1, ROUNDS)));
    drop((rx, ack_tx));
    // The C writer removed its board; the acknowledgements are ours.
    ipcring::unlink(&acks).expect("remove the acknowledgement board");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn c_board_example_reads_what_it_wrote() {
    let board = Running::spawn(&mut Command::new(&programs().board), "C board example");
    // board names its board after its process id.
    let pid = board.child.as_ref().map_or(0, Child::id);
    let rings = Rings::with_prefix(format!("board-c-{pid}"));
    let out = board.finish();
    assert!(out.status.success(), "board failed:\n{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
    let said = String::from_utf8_lossy(&out.stdout);
    for line in ["reader: config ", "reader: last price 1000 at version 1000"] {
        assert!(said.contains(line), "no {line:?} in:\n{}", text(&out));
    }
}
