//! `ipcring send` and `ipcring recv`: a shell's end of a ring. Each takes a role like any
//! process (a producer or consumer; a publisher or subscriber of a topic) and gives it back
//! on every way out, Ctrl-C included, so that the ring never shows a holder that died.

use super::target::Target;
use super::{interrupted, units, Failure, SLICE};
use clap::{Args, ValueEnum};
use ipcring::survey::Kind;
use ipcring::{broadcast, mpmc, spsc, RecvError, SendError};
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a stream of bytes is cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framing {
    /// One message a line; the newline is not part of the message.
    Lines,
    /// `send`: all of standard input is one message; `recv`: messages back to back.
    Raw,
    /// Each message after its length, a 4-byte little-endian unsigned integer.
    Length,
}

/// Options of `ipcring send`.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// The ring to send to (it must exist: see `ipcring create`): its name, or the path
    /// of a file-backed ring (an argument with a `/`: `./orders.ring`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// Send this message (instead of reading standard input).
    #[arg(long, short, conflicts_with = "file")]
    pub message: Option<String>,
    /// Send the whole file as one message.
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Send the message of --message or --file this many times.
    #[arg(long, short, default_value_t = 1)]
    pub count: u64,
    /// How standard input is cut into messages.
    #[arg(long, value_enum, default_value = "lines")]
    pub format: Framing,
    /// Wait at most this long for room for each message (default: as long as it takes).
    #[arg(long, value_parser = units::duration)]
    pub timeout: Option<Duration>,
    /// Never wait for room: fail at the first message that finds the ring full.
    #[arg(long, conflicts_with = "timeout")]
    pub no_wait: bool,
}

/// Options of `ipcring recv`.
#[derive(Debug, Clone, Args)]
pub struct RecvArgs {
    /// The ring to receive from: its name, or the path of a file-backed ring (an argument
    /// with a `/`: `./orders.ring`).
    #[arg(value_name = "NAME|PATH")]
    pub name: String,
    /// Receive this many messages, waiting for them (an error if the writers leave or
    /// --timeout passes first).
    #[arg(long, short)]
    pub count: Option<u64>,
    /// Keep receiving until Ctrl-C (or --count), also while no writer is attached.
    #[arg(long, short = 'F')]
    pub follow: bool,
    /// Without --count: stop after this long without a message; with --count: fail.
    /// Without either option, recv takes what the ring holds and stops.
    #[arg(long, value_parser = units::duration)]
    pub timeout: Option<Duration>,
    /// How messages are written to standard output.
    #[arg(long, value_enum, default_value = "lines")]
    pub format: Framing,
    /// Topics: start at the oldest message the topic holds, not the next one published.
    #[arg(long)]
    pub from_oldest: bool,
}

/// A ring of a kind that this build's `send` and `recv` cannot take a role in.
fn unsupported(name: &str, kind: Kind) -> Failure {
    let instead = match kind {
        Kind::Blackboard => " (`ipcring set` and `get` do)",
        Kind::Event => " (`ipcring notify` and `listen` do)",
        _ => "",
    };
    Failure::quiet(format!(
        "{name}: send and recv do not serve {kind} segments{instead}"
    ))
}

/// The sending end of any kind of ring.
enum Tx {
    Spsc(spsc::Producer),
    Mpmc(mpmc::Producer),
    Topic(broadcast::Publisher),
}

impl Tx {
    fn open(at: Target<'_>) -> Result<Tx, Failure> {
        let ring = |e| Failure::ring(at.arg(), e);
        Ok(match at.inspect().map_err(ring)?.kind {
            Kind::Spsc => Tx::Spsc(at.builder::<spsc::Shape>().open_producer().map_err(ring)?),
            Kind::Mpmc => Tx::Mpmc(at.builder::<mpmc::Shape>().open_producer().map_err(ring)?),
            Kind::Broadcast => {
                let publisher = at.builder::<broadcast::Shape>().open_publisher();
                Tx::Topic(publisher.map_err(ring)?)
            }
            other => return Err(unsupported(at.arg(), other)),
        })
    }

    fn send(&mut self, msg: &[u8], wait: Option<Duration>) -> Result<(), SendError> {
        match (self, wait) {
            (Tx::Spsc(t), None) => t.try_send(msg),
            (Tx::Mpmc(t), None) => t.try_send(msg),
            (Tx::Topic(t), None) => t.try_send(msg),
            (Tx::Spsc(t), Some(w)) => t.send_timeout(msg, w),
            (Tx::Mpmc(t), Some(w)) => t.send_timeout(msg, w),
            (Tx::Topic(t), Some(w)) => t.send_timeout(msg, w),
        }
    }
}

/// The receiving end of any kind of ring.
enum Rx {
    Spsc(spsc::Consumer),
    Mpmc(mpmc::Consumer),
    Topic(broadcast::Subscriber),
}

impl Rx {
    fn open(at: Target<'_>, from_oldest: bool) -> Result<Rx, Failure> {
        let ring = |e| Failure::ring(at.arg(), e);
        Ok(match at.inspect().map_err(ring)?.kind {
            Kind::Spsc => Rx::Spsc(at.builder::<spsc::Shape>().open_consumer().map_err(ring)?),
            Kind::Mpmc => Rx::Mpmc(at.builder::<mpmc::Shape>().open_consumer().map_err(ring)?),
            Kind::Broadcast => Rx::Topic(
                at.builder::<broadcast::Shape>()
                    .from_oldest(from_oldest)
                    .open_subscriber()
                    .map_err(ring)?,
            ),
            other => return Err(unsupported(at.arg(), other)),
        })
    }

    fn recv(&mut self, buf: &mut Vec<u8>, wait: Option<Duration>) -> Result<usize, RecvError> {
        match (self, wait) {
            (Rx::Spsc(r), None) => r.try_recv_into(buf),
            (Rx::Mpmc(r), None) => r.try_recv_into(buf),
            (Rx::Topic(r), None) => r.try_recv_into(buf),
            (Rx::Spsc(r), Some(w)) => r.recv_timeout_into(buf, w),
            (Rx::Mpmc(r), Some(w)) => r.recv_timeout_into(buf, w),
            (Rx::Topic(r), Some(w)) => r.recv_timeout_into(buf, w),
        }
    }
}

/// Where `send` takes its messages from.
enum Source {
    /// One message, `count` times.
    Repeat(Vec<u8>, u64),
    /// Standard input, cut by a framing.
    Input(io::BufReader<io::Stdin>, Framing),
}

impl Source {
    /// The next message into `buf`; `false` at the end.
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        match self {
            Source::Repeat(_, 0) => Ok(false),
            Source::Repeat(msg, n) => {
                *n -= 1;
                buf.extend_from_slice(msg);
                Ok(true)
            }
            Source::Input(input, Framing::Lines) => {
                if input.read_until(b'\n', buf)? == 0 {
                    return Ok(false);
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                Ok(true)
            }
            Source::Input(input, Framing::Raw) => {
                input.read_to_end(buf)?;
                // All of standard input once: then the end.
                *self = Source::Repeat(Vec::new(), 0);
                Ok(true)
            }
            Source::Input(input, Framing::Length) => {
                let mut len = [0u8; 4];
                match input.read_exact(&mut len) {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                    r => r?,
                }
                let len = u32::from_le_bytes(len) as u64;
                if input.by_ref().take(len).read_to_end(buf)? as u64 != len {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the input ends inside a message",
                    ));
                }
                Ok(true)
            }
        }
    }
}

/// `ipcring send`: prints nothing; a failure says how many messages went out before it.
/// Standard input is read by a thread of its own, so that Ctrl-C stops a sender that
/// waits for input as well as one that waits for room.
pub fn send(a: &SendArgs) -> Result<(), Failure> {
    let stop = interrupted()?;
    let mut source = match (&a.message, &a.file) {
        (Some(m), _) => Source::Repeat(m.as_bytes().to_vec(), a.count),
        (None, Some(f)) => Source::Repeat(
            std::fs::read(f).map_err(|e| Failure::new(&f.display().to_string(), e))?,
            a.count,
        ),
        (None, None) => Source::Input(io::BufReader::new(io::stdin()), a.format),
    };
    let mut tx = Tx::open(Target::new(&a.name))?;
    let (feed, messages) = mpsc::sync_channel(256);
    std::thread::spawn(move || loop {
        let mut msg = Vec::new();
        let next = source.next(&mut msg).map(|more| more.then_some(msg));
        let end = !matches!(next, Ok(Some(_)));
        if feed.send(next).is_err() || end {
            return;
        }
    });
    let mut sent = 0u64;
    let failed = |sent: u64, e: &dyn std::fmt::Display| {
        Failure::quiet(format!("{}: {e} ({sent} sent)", a.name))
    };
    let interrupted =
        |sent: u64| Failure::interrupted(format!("{}: interrupted ({sent} sent)", a.name));
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(interrupted(sent));
        }
        let msg = match messages.recv_timeout(SLICE) {
            Ok(Ok(Some(msg))) => msg,
            Ok(Ok(None)) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Ok(Err(e)) => return Err(Failure::new("standard input", e)),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        };
        let started = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(interrupted(sent));
            }
            let wait = if a.no_wait {
                None
            } else {
                let left = a.timeout.map(|t| t.saturating_sub(started.elapsed()));
                Some(left.map_or(SLICE, |l| l.min(SLICE)))
            };
            match tx.send(&msg, wait) {
                Ok(()) => break,
                Err(SendError::Timeout) if a.timeout.is_none_or(|t| started.elapsed() < t) => {}
                Err(e) => return Err(failed(sent, &e)),
            }
        }
        sent += 1;
    }
}

/// `ipcring recv`.
pub fn recv(a: &RecvArgs) -> Result<(), Failure> {
    let stop = interrupted()?;
    let mut rx = Rx::open(Target::new(&a.name), a.from_oldest)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut buf = Vec::new();
    let mut got = 0u64;
    let mut idle = Instant::now();
    let failed = |got: u64, e: &dyn std::fmt::Display| {
        let of = a.count.map_or(String::new(), |n| format!(" of {n}"));
        Failure::quiet(format!("{}: {e} ({got}{of} received)", a.name))
    };
    while a.count.is_none_or(|n| got < n) && !stop.load(Ordering::Relaxed) {
        let waits = a.count.is_some() || a.follow || a.timeout.is_some();
        let wait = waits.then(|| {
            let left = a.timeout.map(|t| t.saturating_sub(idle.elapsed()));
            left.map_or(SLICE, |l| l.min(SLICE))
        });
        match rx.recv(&mut buf, wait) {
            Ok(_) => {
                write(&mut out, &buf, a.format).map_err(Failure::output)?;
                got += 1;
                idle = Instant::now();
                continue;
            }
            Err(RecvError::Lagged { missed }) => {
                eprintln!("ipcring: {}: overtaken, {missed} messages lost", a.name);
                continue;
            }
            Err(RecvError::Evicted) => {
                eprintln!("ipcring: {}: {}", a.name, RecvError::Evicted);
                continue;
            }
            Err(RecvError::Empty) => break,
            Err(RecvError::Timeout | RecvError::Disconnected)
                if a.timeout.is_some_and(|t| idle.elapsed() >= t) =>
            {
                if a.count.is_some() {
                    return Err(failed(got, &RecvError::Timeout));
                }
                break;
            }
            Err(RecvError::Timeout) => {}
            // Writers may come back: a follower waits for them.
            Err(RecvError::Disconnected) if a.follow => std::thread::sleep(SLICE),
            Err(RecvError::Disconnected) if a.count.is_none() => break,
            Err(e) => return Err(failed(got, &e)),
        }
        // About to wait: what we have is out first.
        out.flush().map_err(Failure::output)?;
    }
    out.flush().map_err(Failure::output)
}

fn write(out: &mut impl Write, msg: &[u8], framing: Framing) -> io::Result<()> {
    match framing {
        Framing::Lines => {
            out.write_all(msg)?;
            out.write_all(b"\n")
        }
        Framing::Raw => out.write_all(msg),
        Framing::Length => {
            let len = u32::try_from(msg.len())
                .map_err(|_| io::Error::other("message longer than 4 GiB"))?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(msg)
        }
    }
}
