//! What every ring kind's non-blocking calls promise, checked through closures so that one
//! test body serves every kind: `Full` means full, `Empty` means empty, and a dead peer is
//! reported on the try paths without a blocking call.

use super::message;
use ipcring::{RecvError, SendError, SharedBytes};
use std::fmt::Debug;
use std::time::Duration;

/// The non-blocking calls of one sending and one receiving handle of a ring.
pub struct TryPair<S, R> {
    pub send: S,
    pub recv: R,
}

impl<S, R> TryPair<S, R>
where
    S: FnMut(&[u8]) -> Result<(), SendError>,
    R: FnMut(&mut Vec<u8>) -> Result<usize, RecvError>,
{
    /// Sends messages of `len` bytes until `Full`; returns how many went in.
    fn fill(&mut self, len: usize, first: u64) -> u64 {
        let mut n = 0;
        loop {
            match (self.send)(&message(first + n, len)) {
                Ok(()) => n += 1,
                Err(SendError::Full) => return n,
                Err(e) => panic!("try_send after {n} messages: {e:?}"),
            }
        }
    }

    /// Receives until `Empty`, checking that the messages are `first..` in order; returns
    /// how many came.
    fn drain(&mut self, len: usize, first: u64) -> u64 {
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            match (self.recv)(&mut buf) {
                Ok(got) => {
                    assert_eq!(got, len);
                    super::check(first + n, len, &buf);
                    n += 1;
                }
                Err(RecvError::Empty) => return n,
                Err(e) => panic!("try_recv after {n} messages: {e:?}"),
            }
        }
    }

    /// `Full` is exact for messages of `len` bytes: after each single receive from a full
    /// ring exactly one more message fits, a ring drained until `Empty` gave back every
    /// message and takes as many as a fresh one, and after `k` receives `k` fit.
    pub fn full_means_full(mut self, len: usize) {
        let fresh = self.fill(len, 0);
        assert!(
            fresh > 4,
            "a ring of {fresh} messages is too small for this test"
        );
        let mut sent = fresh;
        let mut received = 0;
        let mut buf = Vec::new();
        for round in 0..fresh + 3 {
            assert_eq!(
                (self.recv)(&mut buf),
                Ok(len),
                "receive {round} from a full ring"
            );
            super::check(received, len, &buf);
            received += 1;
            assert_eq!(
                (self.send)(&message(sent, len)),
                Ok(()),
                "round {round}: one message was received, so one fits"
            );
            sent += 1;
            assert_eq!(
                (self.send)(&message(sent, len)),
                Err(SendError::Full),
                "round {round}: the ring is full again"
            );
        }
        assert_eq!(self.drain(len, received), fresh, "a full ring drains whole");
        received += fresh;
        assert_eq!(
            self.fill(len, sent),
            fresh,
            "a drained ring takes as many as a fresh one"
        );
        sent += fresh;
        for k in [1, fresh / 3, fresh - 1] {
            for _ in 0..k {
                assert_eq!((self.recv)(&mut buf), Ok(len));
                super::check(received, len, &buf);
                received += 1;
            }
            assert_eq!(self.fill(len, sent), k, "{k} received, so {k} fit");
            sent += k;
        }
        assert_eq!(self.drain(len, received), fresh);
    }
}

/// Copies a message lent in place into `buf` (replacing its contents), for the `recv` of a
/// [`TryPair`] that reads with grants; returns its length.
pub fn copied(msg: &SharedBytes<'_>, buf: &mut Vec<u8>) -> usize {
    msg.copy_into(buf);
    msg.len()
}

/// How long a poll of [`polls_until`] sleeps: longer than the pacing of liveness checks
/// (at most about 4 ms), so that each poll after a death may ask the kernel.
pub const POLL_GAP: Duration = Duration::from_millis(5);

/// Calls `poll` every [`POLL_GAP`] until it returns `Some`, at most `limit` times; returns
/// its value and how many polls it took. Panics if none did.
pub fn polls_until<T>(limit: u32, mut poll: impl FnMut() -> Option<T>) -> (T, u32) {
    for n in 1..=limit {
        if let Some(t) = poll() {
            return (t, n);
        }
        std::thread::sleep(POLL_GAP);
    }
    panic!("nothing after {limit} polls of {POLL_GAP:?}");
}

/// Calls `call` (a `try_recv_into` right after the sender detached gracefully) every
/// [`POLL_GAP`] while it says `Empty`, and asserts that it then says `Disconnected`. The
/// detach flag says so at once, but a poll that also asks the kernel finds the sender's
/// role lock held for as long as a child that another test of this process is spawning has
/// not exec'd: it holds a copy of the descriptor that carries the lock.
pub fn disconnects(mut call: impl FnMut() -> Result<usize, RecvError>) {
    let (end, _) = polls_until(100, || match call() {
        Err(RecvError::Empty) => None,
        other => Some(other),
    });
    assert_eq!(end, Err(RecvError::Disconnected));
}

/// Calls `call` every [`POLL_GAP`] while it says `quiet` (`Empty` or `Full`: a peer was
/// just killed, and nothing is known yet), then asserts that what it says next is
/// `settled` and that it took at most 3 polls: each poll may ask the kernel about the
/// peer, since the pacing of those checks is far shorter than the gap. Returns the polls.
pub fn settles_within_a_few_polls<T: Debug + PartialEq, E: Debug + PartialEq>(
    quiet: E,
    settled: Result<T, E>,
    mut call: impl FnMut() -> Result<T, E>,
) -> u32 {
    let (end, polls) = polls_until(100, || match call() {
        Err(e) if e == quiet => None,
        other => Some(other),
    });
    assert_eq!(end, settled);
    assert!(polls <= 3, "settled after {polls} polls of {POLL_GAP:?}");
    polls
}
