//! The paths by which the trials send and receive: every call of every kind, blocked,
//! polling or pausing, through macros that serve every kind.

use crate::common::XorShift;
use ipcring::WaitStrategy;
use std::time::Duration;

/// The wait strategies of trials.
pub fn waits() -> [WaitStrategy; 3] {
    [
        WaitStrategy::Park,
        WaitStrategy::BusySpin,
        WaitStrategy::default(),
    ]
}

/// How a process calls a ring: blocked in its calls, polling the non-blocking ones, or
/// pausing (0 to 200 µs) before each call, of any kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Blocking,
    Polling,
    Pausing,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Blocking, Mode::Polling, Mode::Pausing];

    /// The path of the next call.
    pub fn path(self, rng: &mut XorShift) -> Path {
        let from: &[Path] = match self {
            Mode::Blocking => &[Path::Copy, Path::CopyTimeout, Path::Lent, Path::LentDetour],
            Mode::Polling => &[Path::CopyPolling, Path::LentPolling],
            Mode::Pausing => &Path::ALL,
        };
        from[rng.below(from.len() as u64) as usize]
    }

    /// How long to pause before a call.
    pub fn pause(self, rng: &mut XorShift) -> Duration {
        match self {
            Mode::Pausing => Duration::from_micros(rng.below(200)),
            _ => Duration::ZERO,
        }
    }
}

/// The calls that send or receive one message, by the names that every kind shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `send` / `recv_into`.
    Copy,
    /// `send_timeout` / `recv_timeout_into`, again after each timeout.
    CopyTimeout,
    /// `try_send` / `try_recv_into`, again (after a yield) while full / empty.
    CopyPolling,
    /// `reserve` and `commit` / `read`.
    Lent,
    /// `try_reserve` / `try_read`, again (after a yield) while full / empty.
    LentPolling,
    /// `reserve` of the largest message and `commit` of fewer bytes / `read_timeout`
    /// (again after each timeout), `keep`, and `read` of the same message again.
    LentDetour,
}

impl Path {
    pub const ALL: [Path; 6] = [
        Path::Copy,
        Path::CopyTimeout,
        Path::CopyPolling,
        Path::Lent,
        Path::LentPolling,
        Path::LentDetour,
    ];
}

/// Sends the message `$msg` (a `&[u8]`) through the producer or publisher `$tx` by the
/// [`Path`] `$path`, on a lent path holding the written grant for `$hold` (a `Duration`,
/// zero if not given) before the commit; evaluates to `Result<(), SendError>`.
#[allow(unused_macros)] // not every test target uses each macro
macro_rules! send_by {
    ($tx:expr, $path:expr, $msg:expr) => {
        crate::common::trials::send_by!($tx, $path, $msg, std::time::Duration::ZERO)
    };
    ($tx:expr, $path:expr, $msg:expr, $hold:expr) => {{
        use crate::common::scribbler::Committed;
        use crate::common::trials::{Path, TIMEOUT};
        use ipcring::SendError;
        let msg: &[u8] = $msg;
        let hold: std::time::Duration = $hold;
        let tx = &mut $tx;
        match $path {
            Path::Copy => tx.send(msg),
            Path::CopyTimeout => loop {
                match tx.send_timeout(msg, TIMEOUT) {
                    Err(SendError::Timeout) => {}
                    r => break r,
                }
            },
            Path::CopyPolling => loop {
                match tx.try_send(msg) {
                    Err(SendError::Full) => std::thread::yield_now(),
                    r => break r,
                }
            },
            Path::Lent => tx.reserve(msg.len()).and_then(|mut g| {
                g.copy_from_slice(msg);
                std::thread::sleep(hold);
                g.commit(msg.len()).committed()
            }),
            Path::LentPolling => loop {
                match tx.try_reserve(msg.len()) {
                    Ok(mut g) => {
                        g.copy_from_slice(msg);
                        std::thread::sleep(hold);
                        break g.commit(msg.len()).committed();
                    }
                    Err(SendError::Full) => std::thread::yield_now(),
                    Err(e) => break Err(e),
                }
            },
            Path::LentDetour => tx.reserve(tx.max_message()).and_then(|mut g| {
                g.write_at(0, msg);
                std::thread::sleep(hold);
                g.commit(msg.len()).committed()
            }),
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use send_by;

/// Takes the next message from the consumer or subscriber `$rx` as a grant `$g` by the
/// lent variant of the [`Path`] `$path` (`read`, `try_read`, or `read_timeout`, `keep`
/// and `read`), and evaluates `$use` with it (which may drop it: the release); evaluates
/// to `Result<_, RecvError>`.
#[allow(unused_macros)] // not every test target uses each macro
macro_rules! read_by {
    ($rx:expr, $path:expr, |$g:ident| $use:expr) => {{
        use crate::common::trials::{Path, TIMEOUT};
        use ipcring::RecvError;
        let rx = &mut $rx;
        match $path {
            Path::Copy | Path::Lent => rx.read().map(|$g| $use),
            Path::CopyPolling | Path::LentPolling => loop {
                match rx.try_read() {
                    Ok($g) => break Ok($use),
                    Err(RecvError::Empty) => std::thread::yield_now(),
                    Err(e) => break Err(e),
                }
            },
            Path::CopyTimeout | Path::LentDetour => {
                let came = loop {
                    match rx.read_timeout(TIMEOUT) {
                        Ok(g) => break Ok(g.keep()),
                        Err(RecvError::Timeout) => {}
                        Err(e) => break Err(e),
                    }
                };
                came.and_then(|()| rx.read().map(|$g| $use))
            }
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use read_by;

/// Receives the next message from the consumer or subscriber `$rx` into `$buf` (a
/// `&mut Vec<u8>`) by the [`Path`] `$path`; evaluates to `Result<usize, RecvError>`.
#[allow(unused_macros)] // not every test target uses each macro
macro_rules! recv_by {
    ($rx:expr, $path:expr, $buf:expr) => {{
        use crate::common::trials::{Path, TIMEOUT};
        use ipcring::RecvError;
        let buf: &mut Vec<u8> = $buf;
        let rx = &mut $rx;
        match $path {
            Path::Copy => rx.recv_into(buf),
            Path::CopyTimeout => loop {
                match rx.recv_timeout_into(buf, TIMEOUT) {
                    Err(RecvError::Timeout) => {}
                    r => break r,
                }
            },
            Path::CopyPolling => loop {
                match rx.try_recv_into(buf) {
                    Err(RecvError::Empty) => std::thread::yield_now(),
                    r => break r,
                }
            },
            lent => crate::common::trials::read_by!(*rx, lent, |g| {
                g.copy_into(buf);
                g.len()
            }),
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use recv_by;
