//! The receiving half of a two-terminal demo: prints every message of the SPSC ring NAME
//! as a line, until the producer is gone.
//!
//! ```text
//! terminal 1:  cargo run --example consumer -- NAME
//! terminal 2:  cargo run --example producer -- NAME
//! ```
//!
//! Whichever of the two starts first creates the ring (1 MiB), the other opens it. The
//! consumer waits for a producer, prints what it sends (invalid UTF-8 is shown lossily),
//! and once the producer has ended (end of input, Ctrl-C or a crash) and everything it sent
//! was printed, it removes the ring and exits 0. On Ctrl-C it removes the ring too (exit
//! status 130); on an error it prints the error and exits 1.

use ipcring::spsc::{Builder, Consumer};
use ipcring::RecvError;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const USAGE: &str = "usage: consumer NAME";

/// Set by the SIGINT handler.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::Relaxed);
}

fn catch_ctrl_c() {
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe, and it
    // stays valid for the life of the process.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

enum End {
    /// The producer is gone and the ring is drained.
    Done(u64),
    /// Ctrl-C.
    Interrupted(u64),
    Failed(String),
}

fn print_messages(rx: &mut Consumer) -> End {
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::new();
    let mut count = 0;
    loop {
        // Wake up now and then to notice Ctrl-C.
        match rx.recv_timeout_into(&mut buf, Duration::from_millis(100)) {
            Ok(_) => {
                count += 1;
                let line = String::from_utf8_lossy(&buf);
                if let Err(e) = writeln!(out, "{line}") {
                    return End::Failed(format!("cannot write to stdout: {e}"));
                }
            }
            Err(RecvError::Timeout) => {}
            Err(RecvError::Disconnected) => return End::Done(count),
            Err(e) => return End::Failed(format!("cannot receive: {e}")),
        }
        if INTERRUPTED.load(Ordering::Relaxed) {
            return End::Interrupted(count);
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(name), None) = (args.next(), args.next()) else {
        eprintln!("consumer: expected exactly one argument\n{USAGE}");
        return ExitCode::from(2);
    };
    let mut rx = match Builder::new(&name)
        .capacity(1 << 20)
        .open_or_create_consumer()
    {
        Ok(rx) => rx,
        Err(e) => {
            eprintln!("consumer: cannot attach to ring {name:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    catch_ctrl_c();
    eprintln!("consumer: attached to {name:?}, waiting for messages (Ctrl-C stops)");
    let end = print_messages(&mut rx);
    drop(rx);
    if let Err(e) = ipcring::unlink(&name) {
        eprintln!("consumer: cannot remove ring {name:?}: {e}");
    }
    match end {
        End::Done(n) => {
            eprintln!("consumer: producer gone after {n} messages; ring removed");
            ExitCode::SUCCESS
        }
        End::Interrupted(n) => {
            eprintln!("consumer: interrupted after {n} messages; ring removed");
            ExitCode::from(130)
        }
        End::Failed(e) => {
            eprintln!("consumer: {e}");
            ExitCode::FAILURE
        }
    }
}
