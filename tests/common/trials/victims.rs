//! The victims of the trials: what a victim child is told to do ([`Orders`]), and where it
//! writes its progress so that it outlives the `kill -9` ([`Board`]).

use super::{waits, Log, Mode, Path, Trial, VICTIM};
use crate::common::{fill, say, seq_of, spawn, unique_name, ChildProc, RingGuard, XorShift};
use ipcring::{RecvError, SendError, WaitStrategy};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Duration;

/// A file in the temp directory on which a victim child writes its progress as it goes:
/// a count (messages committed, or released) and a mark byte per message, which are there
/// after its `kill -9`. The test's board removes the file.
#[derive(Debug)]
pub struct Board {
    path: PathBuf,
    file: File,
    owner: bool,
}

impl Board {
    pub fn create() -> Board {
        let name = format!("ipcring-{}", unique_name("board"));
        Board::at(std::env::temp_dir().join(name), true)
    }

    /// The board at `path`: made anew by its `owner`, the test; opened by the victim.
    fn at(path: PathBuf, owner: bool) -> Board {
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(owner)
            .open(&path)
            .expect("the board's file");
        Board { path, file, owner }
    }

    /// The count, 0 until the victim wrote one.
    pub fn count(&self) -> u64 {
        let mut w = [0; 8];
        match self.file.read_exact_at(&mut w, 0) {
            Ok(()) => u64::from_le_bytes(w),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => panic!("read the board: {e}"),
        }
    }

    pub fn set_count(&self, n: u64) {
        self.file
            .write_all_at(&n.to_le_bytes(), 0)
            .expect("write the board");
    }

    /// Marks message `n`.
    pub fn mark(&self, n: u64) {
        self.file.write_all_at(&[1], 8 + n).expect("mark");
    }

    /// Whether each of the messages `0..n` is marked.
    pub fn marks(&self, n: u64) -> Vec<bool> {
        let mut m = vec![0; n as usize];
        let got = self.file.read_at(&mut m, 8).expect("read the marks");
        m.truncate(got);
        m.resize(n as usize, 0);
        m.into_iter().map(|b| b == 1).collect()
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        if self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What a victim does: its wait strategy and mode, the seed of its own choices, and
/// after how many messages a receiver stops (to hold the next one until it is killed).
/// Derived from a seed, by the test and by the victim alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orders {
    pub wait: WaitStrategy,
    pub mode: Mode,
    pub seed: u64,
    pub stop_after: u64,
}

impl Orders {
    /// The orders of seed `seed`; a `receiver` stops after fewer than 300 messages in
    /// half the trials.
    fn from_seed(seed: u64, receiver: bool) -> Orders {
        let mut rng = XorShift::new(seed);
        Orders {
            wait: waits()[rng.below(3) as usize],
            mode: Mode::ALL[rng.below(3) as usize],
            seed: rng.next(),
            stop_after: match rng.below(600) {
                n if receiver && n < 300 => n,
                _ => u64::MAX,
            },
        }
    }

    /// Starts the victim of trial `t`, playing `role` on `ring` with `board`; `receiver`
    /// for a consumer or subscriber. Returns it and its orders.
    pub fn spawn(
        t: &mut Trial,
        role: &str,
        ring: &RingGuard,
        board: &Board,
        receiver: bool,
    ) -> (ChildProc, Orders) {
        let seed = t.seed();
        let orders = t.pick("victim", &[Orders::from_seed(seed, receiver)]);
        let path = board.path.to_str().expect("a UTF-8 temp path");
        let child = spawn(role, ring.name(), &format!("{path} {seed} {receiver}"));
        (child, orders)
    }

    /// In a victim: its orders and board, from its argument.
    pub fn of_victim(arg: &str) -> (Orders, Board) {
        let w: Vec<&str> = arg.split_whitespace().collect();
        let [path, seed, receiver] = w[..] else {
            panic!("a victim's argument: {arg:?}");
        };
        let seed = seed.parse().expect("a seed");
        let receiver = receiver.parse().expect("true or false");
        (
            Orders::from_seed(seed, receiver),
            Board::at(path.into(), false),
        )
    }
}

/// In a victim: says `ready` once the bytes that messages are cut from are made (which
/// takes milliseconds in a debug build: the kill must not land there).
fn ready() {
    crate::common::message(0, 0);
    say("ready", "");
}

/// In a victim: says `ready`, then sends the messages `make(0)`, `make(1)`... by the paths
/// of its mode through `send`, storing on the board after each how many it committed,
/// until it is killed. A pausing victim also holds each grant that it wrote for a while
/// (the `Duration` it gives `send`) before the commit: a kill then often finds it there.
pub fn victim_sends(
    (orders, board): &(Orders, Board),
    mut make: impl FnMut(u64) -> Vec<u8>,
    mut send: impl FnMut(Path, &[u8], Duration) -> Result<(), SendError>,
) -> ! {
    let mut rng = XorShift::new(orders.seed);
    ready();
    for n in 1.. {
        std::thread::sleep(orders.mode.pause(&mut rng));
        let msg = make(n - 1);
        let (path, hold) = (orders.mode.path(&mut rng), orders.mode.pause(&mut rng));
        if let Err(e) = send(path, &msg, hold) {
            panic!("the victim's send of message {}: {e}", n - 1);
        }
        board.set_count(n);
    }
    unreachable!("2^64 messages")
}

/// In a victim: says `ready`, then receives `stop_after` messages by the paths of its
/// mode through `recv` (checking message `n` with `check(n, bytes)`), storing on the
/// board after each how many it released. Returns then: the caller holds the next
/// message and waits to be killed.
pub fn victim_receives(
    (orders, board): &(Orders, Board),
    mut check: impl FnMut(u64, &[u8]),
    mut recv: impl FnMut(Path, &mut Vec<u8>) -> Result<usize, RecvError>,
) {
    let mut rng = XorShift::new(orders.seed);
    let mut buf = Vec::new();
    ready();
    for n in 0..orders.stop_after {
        std::thread::sleep(orders.mode.pause(&mut rng));
        if let Err(e) = recv(orders.mode.path(&mut rng), &mut buf) {
            panic!("the victim's receive of message {n}: {e}");
        }
        check(n, &buf);
        board.set_count(n + 1);
    }
}

/// In a victim: waits to be killed.
pub fn await_kill() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Asserts that the receivers got `got` messages of a victim sender whose count was
/// `committed` when it was killed (the count lags its last commit by at most one).
pub fn check_prefix(got: u64, committed: u64) {
    assert!(
        got == committed || got == committed + 1,
        "got {got} messages of the victim; it had committed {committed} (or one more)"
    );
}

/// The message numbers of sender `id` in `log`, in order.
pub fn numbers(log: &Log, id: u64) -> Vec<u64> {
    log.iter()
        .filter(|(seq, _)| seq >> 32 == id)
        .map(|(seq, _)| seq & 0xffff_ffff)
        .collect()
}

/// Asserts that the message numbers `ns` of sender `id` are 0, 1, 2...: none missing,
/// none twice, in order. Returns how many.
pub fn from_zero(id: u64, ns: &[u64]) -> u64 {
    if let Some(i) = (0..ns.len()).find(|&i| ns[i] != i as u64) {
        panic!("message {i} of sender {id}: got {} there", ns[i]);
    }
    ns.len() as u64
}

/// A stamped message of the victim sender: message `n`.
pub fn victim_message(n: u64) -> Vec<u8> {
    let seq = seq_of(VICTIM, n);
    let mut msg = vec![0; crate::common::len_of(seq)];
    fill(seq, &mut msg);
    msg
}
