//! The sending half of a two-terminal demo: sends each line of stdin (or N numbered
//! messages) into the SPSC ring NAME.
//!
//! ```text
//! terminal 1:  cargo run --example consumer -- NAME
//! terminal 2:  cargo run --example producer -- NAME               # type lines, Ctrl-D ends
//!              cargo run --example producer -- NAME --count 1000  # "message 1" .. "message 1000"
//! ```
//!
//! Whichever of the two starts first creates the ring (1 MiB), the other opens it. `send`
//! waits while the ring is full. When the producer ends (end of input, Ctrl-C, or a crash),
//! the consumer receives what is left, then `Disconnected`, and removes the ring.
//!
//! Exit status: 0 when everything was sent, 1 on an error (a line longer than the ring's
//! maximum message is reported and skipped, and makes the status 1), 2 on bad arguments.

use ipcring::spsc::{Builder, Producer};
use std::io::BufRead;
use std::process::ExitCode;

const USAGE: &str = "usage: producer NAME [--count N]";

/// What to send.
enum Source {
    Stdin,
    Numbered(u64),
}

fn parse_args() -> Result<(String, Source), String> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("missing ring NAME")?;
    let source = match args.next().as_deref() {
        None => Source::Stdin,
        Some("--count") => {
            let n = args.next().ok_or("--count needs a number")?;
            Source::Numbered(n.parse().map_err(|e| format!("bad count {n:?}: {e}"))?)
        }
        Some(other) => return Err(format!("unexpected argument {other:?}")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok((name, source)),
    }
}

fn send_lines(tx: &mut Producer) -> Result<bool, String> {
    let mut all_sent = true;
    for (i, line) in std::io::stdin().lock().split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        match tx.send(&line) {
            Ok(()) => {}
            Err(e @ ipcring::SendError::TooLarge { .. }) => {
                eprintln!("producer: line {} skipped: {e}", i + 1);
                all_sent = false;
            }
            Err(e) => return Err(format!("cannot send: {e}")),
        }
    }
    Ok(all_sent)
}

fn send_numbered(tx: &mut Producer, count: u64) -> Result<bool, String> {
    for i in 1..=count {
        tx.send(format!("message {i}").as_bytes())
            .map_err(|e| format!("cannot send message {i}: {e}"))?;
    }
    Ok(true)
}

fn main() -> ExitCode {
    let (name, source) = match parse_args() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("producer: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut tx = match Builder::new(&name)
        .capacity(1 << 20)
        .open_or_create_producer()
    {
        Ok(tx) => tx,
        Err(e) => {
            eprintln!("producer: cannot attach to ring {name:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "producer: attached to {name:?} (messages up to {} bytes)",
        tx.max_message()
    );
    let sent = match source {
        Source::Stdin => send_lines(&mut tx),
        Source::Numbered(n) => send_numbered(&mut tx, n),
    };
    let stats = tx.stats();
    eprintln!(
        "producer: {} messages sent to the ring in total",
        stats.sent
    );
    match sent {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("producer: {e}");
            ExitCode::FAILURE
        }
    }
}
