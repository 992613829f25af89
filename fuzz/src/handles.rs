//! Every kind's sending and receiving handles behind one interface, each call timed (see
//! [`crate::timed`]) and each message lent in place read through every accessor of its
//! view, which must agree.

use crate::timed;
use ipcring::{broadcast, mpmc, spsc, OpenError, RecvError, SendError, SharedBytes};
use std::time::Duration;

/// A sending handle of any kind, through calls that cannot block for long.
pub trait Sender: Sized {
    /// Opens ring `name` as a new sender of this kind.
    ///
    /// # Errors
    /// Those of the kind's `open`.
    fn open(name: &str) -> Result<Self, OpenError>;
    /// The largest message.
    fn max_message(&self) -> usize;
    /// `try_send`.
    ///
    /// # Errors
    /// Those of `try_send`.
    fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError>;
    /// `send_timeout`.
    ///
    /// # Errors
    /// Those of `send_timeout`.
    fn send_timeout(&mut self, msg: &[u8], wait: Duration) -> Result<(), SendError>;
    /// `try_send_value` of a `u64`.
    ///
    /// # Errors
    /// Those of `try_send_value`.
    fn try_send_value(&mut self, value: u64) -> Result<(), SendError>;
    /// `try_reserve(room.len())`, then writes `room` in two pieces (the first `split` bytes,
    /// rounded down to a multiple of 8, then the rest) and commits its first `commit`
    /// bytes (at most `room.len()`), or drops the grant without committing (`None`).
    ///
    /// # Errors
    /// Those of `try_reserve`, and of the commit of kinds whose commit can fail.
    fn try_reserve(
        &mut self,
        room: &[u8],
        split: usize,
        commit: Option<usize>,
    ) -> Result<(), SendError>;
    /// `try_send_batch` of `msgs`, for kinds that have it (`None` otherwise).
    fn try_send_batch(&mut self, _msgs: &[Vec<u8>]) -> Option<Result<usize, SendError>> {
        None
    }
}

/// A receiving handle of any kind, through calls that cannot block for long.
pub trait Receiver: Sized {
    /// Opens ring `name` as a new receiver of this kind; `from_oldest` asks a broadcast
    /// subscriber to start at the oldest message the topic holds.
    ///
    /// # Errors
    /// Those of the kind's `open`.
    fn open(name: &str, from_oldest: bool) -> Result<Self, OpenError>;
    /// The largest message.
    fn max_message(&self) -> usize;
    /// `try_recv_into`.
    ///
    /// # Errors
    /// Those of `try_recv_into`.
    fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError>;
    /// `recv_timeout_into`.
    ///
    /// # Errors
    /// Those of `recv_timeout_into`.
    fn recv_timeout_into(&mut self, buf: &mut Vec<u8>, wait: Duration) -> Result<usize, RecvError>;
    /// `try_recv_value` of a `u64`.
    ///
    /// # Errors
    /// Those of `try_recv_value`.
    fn try_recv_value(&mut self) -> Result<u64, RecvError>;
    /// `try_read` (`wait` `None`) or `read_timeout`; returns a copy of the message, and
    /// keeps it (`ReadGrant::keep`) rather than releasing it if `keep`.
    ///
    /// # Errors
    /// Those of `try_read` or `read_timeout`.
    fn read(&mut self, wait: Option<Duration>, keep: bool) -> Result<Vec<u8>, RecvError>;
    /// `try_read_batch` of at most `max` messages, for kinds that have it (`None`
    /// otherwise).
    fn try_read_batch(&mut self, _max: usize) -> Option<Result<Vec<Vec<u8>>, RecvError>> {
        None
    }
}

/// What a kind's `WriteGrant::commit` returns, as a result.
trait Committed {
    fn result(self) -> Result<(), SendError>;
}

impl Committed for () {
    fn result(self) -> Result<(), SendError> {
        Ok(())
    }
}

impl Committed for Result<(), SendError> {
    fn result(self) -> Result<(), SendError> {
        self
    }
}

/// Copies a lent message out through each accessor of its view, checks that they agree,
/// and returns the copy. (The fuzzer writes the segment only between calls, so the bytes
/// hold still while the view is looked at.)
fn copy_checked(view: &SharedBytes<'_>) -> Vec<u8> {
    let v = view.to_vec();
    assert_eq!(view.len(), v.len(), "len() and to_vec() disagree");
    assert_eq!(
        view.is_empty(),
        v.is_empty(),
        "is_empty() and to_vec() disagree"
    );
    assert!(*view == v[..], "== and to_vec() disagree");
    let mut exact = vec![0; v.len()];
    view.copy_to_slice(&mut exact);
    assert_eq!(exact, v, "copy_to_slice() and to_vec() disagree");
    let word = <[u8; 8]>::try_from(&v[..]).ok().map(u64::from_le_bytes);
    assert_eq!(view.value::<u64>(), word, "value() and to_vec() disagree");
    v
}

/// The calls that the three kinds' senders share; `$extra` adds the kind's own.
macro_rules! sender {
    ($t:ty, $open:path, $($extra:tt)*) => {
        impl Sender for $t {
            fn open(name: &str) -> Result<Self, OpenError> {
                $open(name)
            }

            fn max_message(&self) -> usize {
                <$t>::max_message(self)
            }

            fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError> {
                timed("try_send", Duration::ZERO, || <$t>::try_send(self, msg))
            }

            fn send_timeout(&mut self, msg: &[u8], wait: Duration) -> Result<(), SendError> {
                timed("send_timeout", wait, || <$t>::send_timeout(self, msg, wait))
            }

            fn try_send_value(&mut self, value: u64) -> Result<(), SendError> {
                timed("try_send_value", Duration::ZERO, || {
                    <$t>::try_send_value(self, &value)
                })
            }

            fn try_reserve(
                &mut self,
                room: &[u8],
                split: usize,
                commit: Option<usize>,
            ) -> Result<(), SendError> {
                let mut g = timed("try_reserve", Duration::ZERO, || {
                    <$t>::try_reserve(self, room.len())
                })?;
                assert_eq!(g.len(), room.len(), "a grant of another length");
                let split = split.min(room.len()) / 8 * 8;
                g.write_at(0, &room[..split]);
                g.write_at(split, &room[split..]);
                match commit {
                    Some(n) => timed("commit", Duration::ZERO, || g.commit(n)).result(),
                    None => {
                        timed("abort", Duration::ZERO, || drop(g));
                        Ok(())
                    }
                }
            }

            $($extra)*
        }
    };
}

/// The calls that the three kinds' receivers share; `$extra` adds the kind's own.
macro_rules! receiver {
    ($t:ty, |$name:ident, $oldest:ident| $open:expr, $($extra:tt)*) => {
        impl Receiver for $t {
            fn open($name: &str, $oldest: bool) -> Result<Self, OpenError> {
                $open
            }

            fn max_message(&self) -> usize {
                <$t>::max_message(self)
            }

            fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
                timed("try_recv_into", Duration::ZERO, || <$t>::try_recv_into(self, buf))
            }

            fn recv_timeout_into(
                &mut self,
                buf: &mut Vec<u8>,
                wait: Duration,
            ) -> Result<usize, RecvError> {
                timed("recv_timeout_into", wait, || {
                    <$t>::recv_timeout_into(self, buf, wait)
                })
            }

            fn try_recv_value(&mut self) -> Result<u64, RecvError> {
                timed("try_recv_value", Duration::ZERO, || <$t>::try_recv_value(self))
            }

            fn read(&mut self, wait: Option<Duration>, keep: bool) -> Result<Vec<u8>, RecvError> {
                let limit = wait.unwrap_or_default();
                timed("read", limit, || {
                    let g = match wait {
                        None => <$t>::try_read(self)?,
                        Some(w) => <$t>::read_timeout(self, w)?,
                    };
                    let v = copy_checked(&g);
                    if keep {
                        g.keep();
                    }
                    Ok(v)
                })
            }

            $($extra)*
        }
    };
}

sender!(
    spsc::Producer,
    spsc::Producer::open,
    fn try_send_batch(&mut self, msgs: &[Vec<u8>]) -> Option<Result<usize, SendError>> {
        let r = timed("try_send_batch", Duration::ZERO, || {
            spsc::Producer::try_send_batch(self, msgs.iter().map(|m| &m[..]))
        });
        Some(r)
    }
);
sender!(mpmc::Producer, mpmc::Producer::open,);
sender!(broadcast::Publisher, broadcast::Publisher::open,);

receiver!(
    spsc::Consumer,
    |name, _oldest| spsc::Consumer::open(name),
    fn try_read_batch(&mut self, max: usize) -> Option<Result<Vec<Vec<u8>>, RecvError>> {
        let mut got = Vec::new();
        let r = timed("try_read_batch", Duration::ZERO, || {
            spsc::Consumer::try_read_batch(self, max, |m| got.push(copy_checked(m)))
        });
        Some(r.map(|n| {
            assert_eq!(n, got.len(), "try_read_batch counted other than it lent");
            got
        }))
    }
);
receiver!(mpmc::Consumer, |name, _oldest| mpmc::Consumer::open(name),);
receiver!(broadcast::Subscriber, |name, oldest| {
    broadcast::Builder::new(name)
        .from_oldest(oldest)
        .open_subscriber()
},);
