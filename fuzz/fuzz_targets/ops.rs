//! Sequences of operations on a live ring: the input picks a kind and a small geometry
//! (positions from 0 or just before they wrap), then sends and receives through every API
//! family (bytes, value, grant, batch where the kind has it), by two senders and two
//! receivers where the kind allows, replaces handles, and scribbles over the segment's
//! file between calls as a peer with a bug would.
//!
//! Until the first scribble, everything received must be exactly what the model says
//! (`ipcring_fuzz::model`): the messages committed, in order, none lost (the ring is
//! drained at the end), no error but `Full`, `Empty`, `Timeout`, `TooLarge`, a wrong-size
//! value, and `Lagged` in a lossy topic. After one, any error or message is fine, as long
//! as no call panics, touches memory out of bounds, outstays its deadline, returns more
//! than the largest message, or goes back on a `Corrupted` it reported.

#![no_main]

use ipcring::{broadcast, mpmc, spsc, OpenError, RecvError, SendError};
use ipcring_fuzz::handles::{Receiver, Sender};
use ipcring_fuzz::model::{Delivery, Model};
use ipcring_fuzz::shm::Scribbler;
use ipcring_fuzz::{deadline, message, unique_name};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Plan {
    ring: Ring,
    ops: Vec<Op>,
}

/// The ring to create: `size` picks the capacity, `slot` the slot size of a ring of cells.
#[derive(Arbitrary, Debug)]
struct Ring {
    kind: Kind,
    size: u8,
    slot: u8,
    near_wrap: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    Spsc,
    Mpmc,
    Broadcast { lossy: bool },
}

/// `who` picks one of the two handles of a role (SPSC has one).
#[derive(Arbitrary, Debug)]
enum Op {
    Send {
        who: u8,
        len: u8,
        how: SendHow,
    },
    Recv {
        who: u8,
        how: RecvHow,
    },
    Reopen {
        who: u8,
        sender: bool,
        from_oldest: bool,
    },
    Scribble {
        at: u16,
        bytes: Vec<u8>,
    },
    Poke {
        word: u16,
        value: u64,
    },
    Nudge {
        word: u16,
        delta: i8,
    },
}

/// Deadlines are in units of 4 µs (see `ipcring_fuzz::deadline`).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum SendHow {
    Try,
    Timeout(u8),
    Value,
    Reserve { split: u8, commit: u8 },
    Abandon,
    Batch(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RecvHow {
    Try,
    Timeout(u8),
    Value,
    Read { keep: bool },
    ReadTimeout { wait: u8, keep: bool },
    Batch(u8),
}

/// Where positions start when a ring is made near their wrap: a few messages past it.
const NEAR_WRAP: u64 = u64::MAX - 255;

fuzz_target!(|plan: Plan| {
    let r = &plan.ring;
    let name = unique_name("ops");
    let start = if r.near_wrap { NEAR_WRAP } else { 0 };
    let cells = 1 << (r.size % 4);
    let slot = 1 + usize::from(r.slot) % 40;
    match r.kind {
        Kind::Spsc => {
            let b = spsc::Builder::new(&name).capacity(64 << (r.size % 4));
            let tx = b.start_position(start).create_producer();
            Harness::<_, spsc::Consumer>::new(&name, 1, tx, Delivery::Stream).run(&plan.ops);
        }
        Kind::Mpmc => {
            let b = mpmc::Builder::new(&name).capacity(cells).slot_size(slot);
            let tx = b
                .producers(2)
                .consumers(2)
                .start_position(start)
                .create_producer();
            Harness::<_, mpmc::Consumer>::new(&name, 2, tx, Delivery::Queue).run(&plan.ops);
        }
        Kind::Broadcast { lossy } => {
            let b = broadcast::Builder::new(&name)
                .capacity(cells)
                .slot_size(slot);
            let b = b.publishers(2).max_subscribers(2).lossy(lossy);
            let tx = b.start_position(start).create_publisher();
            let delivery = Delivery::Topic {
                lossy,
                capacity: cells,
            };
            Harness::<_, broadcast::Subscriber>::new(&name, 2, tx, delivery).run(&plan.ops);
        }
    }
    ipcring::unlink(&name).expect("remove the ring");
});

/// A handle, and whether it reported `Corrupted` (final for the handle: every later call
/// must say so too, but for a message that is too large, which a sender refuses first).
struct Held<T> {
    handle: T,
    corrupted: bool,
}

impl<T> Held<T> {
    fn new(handle: T) -> Held<T> {
        Held {
            handle,
            corrupted: false,
        }
    }

    fn saw<V, E: PartialEq + core::fmt::Debug>(&mut self, r: &Result<V, E>, corrupted: E) {
        let is = matches!(r, Err(e) if *e == corrupted);
        if self.corrupted && !is {
            let now = r.as_ref().map(drop);
            panic!("a handle that reported {corrupted:?} went on to return {now:?}");
        }
        self.corrupted |= is;
    }
}

struct Harness<S, R> {
    name: String,
    /// Handles per role: 1 (SPSC) or 2.
    roles: usize,
    senders: [Option<Held<S>>; 2],
    receivers: [Option<Held<R>>; 2],
    scribbler: Scribbler,
    model: Model,
    /// The number of the next message.
    seq: u64,
}

impl<S: Sender, R: Receiver> Harness<S, R> {
    /// The ring `name` that `first` created, with the other handles of its roles opened.
    fn new(name: &str, roles: usize, first: Result<S, OpenError>, d: Delivery) -> Self {
        let first = first.expect("create the ring");
        let mut h = Harness {
            name: name.to_owned(),
            roles,
            senders: [Some(Held::new(first)), None],
            receivers: [None, None],
            scribbler: Scribbler::open(name).expect("open the segment for scribbling"),
            model: Model::new(d),
            seq: 0,
        };
        for who in 0..roles {
            h.reopen(who, false, false);
            if who > 0 {
                h.reopen(who, true, false);
            }
        }
        h
    }

    fn run(mut self, ops: &[Op]) {
        for op in ops {
            match *op {
                Op::Send { who, len, how } => self.send(usize::from(who) % self.roles, len, how),
                Op::Recv { who, how } => {
                    self.recv(usize::from(who) % self.roles, how);
                }
                Op::Reopen {
                    who,
                    sender,
                    from_oldest,
                } => self.reopen(usize::from(who) % self.roles, sender, from_oldest),
                Op::Scribble { at, ref bytes } => {
                    self.scribbler.write(at.into(), bytes);
                    self.model.scribbled();
                }
                Op::Poke { word, value } => {
                    self.scribbler.poke(word.into(), value);
                    self.model.scribbled();
                }
                Op::Nudge { word, delta } => {
                    self.scribbler.nudge(word.into(), delta.into());
                    self.model.scribbled();
                }
            }
        }
        if self.model.checking() {
            self.drain();
        }
    }

    /// Replaces sender or receiver `who` by a new one.
    fn reopen(&mut self, who: usize, sender: bool, from_oldest: bool) {
        let name = &self.name;
        let opened = if sender {
            self.senders[who] = None;
            S::open(name).map(|s| self.senders[who] = Some(Held::new(s)))
        } else {
            self.receivers[who] = None;
            R::open(name, from_oldest).map(|r| self.receivers[who] = Some(Held::new(r)))
        };
        match opened {
            Ok(()) if !sender => self.model.rejoined(who, from_oldest),
            Ok(()) => {}
            Err(e) => assert!(!self.model.checking(), "open of an intact ring: {e:?}"),
        }
    }

    fn send(&mut self, who: usize, len: u8, how: SendHow) {
        let Some(h) = &mut self.senders[who] else {
            return;
        };
        let max = h.handle.max_message();
        let len = usize::from(len) % (max + 2);
        self.seq += 1;
        let seq = self.seq;
        let msg = match how {
            SendHow::Value => seq.to_le_bytes().to_vec(),
            _ => message(seq, len),
        };
        let len = msg.len();
        let tx = &mut h.handle;
        // What the model gets if the call succeeds: the messages committed, or a claim
        // given back.
        let (r, committed): (_, Vec<Vec<u8>>) = match how {
            SendHow::Try => (tx.try_send(&msg), vec![msg]),
            SendHow::Timeout(t) => (tx.send_timeout(&msg, deadline(t)), vec![msg]),
            SendHow::Value => (tx.try_send_value(seq), vec![msg]),
            SendHow::Reserve { split, commit } => {
                let n = usize::from(commit) % (len + 1);
                let r = tx.try_reserve(&msg, split.into(), Some(n));
                (r, vec![msg[..n].to_vec()])
            }
            SendHow::Abandon => (tx.try_reserve(&msg, 0, None), Vec::new()),
            SendHow::Batch(count) => {
                // Lengths up to the largest: a batch with a message too large in it does
                // not say how many went before it.
                let msgs: Vec<_> = (0..u64::from(count % 4) + 1)
                    .map(|i| message(seq + i, (len + 7 * i as usize) % (max + 1)))
                    .collect();
                self.seq += msgs.len() as u64;
                let Some(r) = tx.try_send_batch(&msgs) else {
                    return;
                };
                h.saw(&r, SendError::Corrupted);
                if let Ok(n) = r {
                    assert!(n <= msgs.len(), "try_send_batch sent {n} of {}", msgs.len());
                    msgs.into_iter()
                        .take(n)
                        .for_each(|m| self.model.committed(m));
                } else {
                    self.sent_error(r.map(drop), len, max);
                }
                return;
            }
        };
        if !matches!(r, Err(SendError::TooLarge { .. })) {
            h.saw(&r, SendError::Corrupted);
        }
        match r {
            Ok(()) => {
                assert!(len <= max, "a message of {len} bytes sent, over {max}");
                if committed.is_empty() {
                    self.model.abandoned();
                }
                committed.into_iter().for_each(|m| self.model.committed(m));
            }
            r => self.sent_error(r, len, max),
        }
    }

    fn sent_error(&self, r: Result<(), SendError>, len: usize, max: usize) {
        match r {
            Err(SendError::TooLarge { len: l, max: m }) => {
                assert!(
                    l == len && m == max && len > max,
                    "TooLarge {l}/{m} for {len}/{max}"
                );
            }
            Ok(()) | Err(SendError::Full | SendError::Timeout) => {}
            Err(e) => assert!(!self.model.checking(), "a send to an intact ring: {e:?}"),
        }
    }

    /// Receives as `how` says; returns whether there was something to receive (a message,
    /// or the news of lost ones).
    fn recv(&mut self, who: usize, how: RecvHow) -> bool {
        let Some(h) = &mut self.receivers[who] else {
            return false;
        };
        let max = h.handle.max_message();
        let rx = &mut h.handle;
        let mut buf = Vec::new();
        let (r, keep) = match how {
            RecvHow::Try => (rx.try_recv_into(&mut buf).map(|_| vec![buf]), false),
            RecvHow::Timeout(t) => {
                let r = rx.recv_timeout_into(&mut buf, deadline(t));
                (r.map(|_| vec![buf]), false)
            }
            RecvHow::Value => {
                let r = rx.try_recv_value().map(|v| vec![v.to_le_bytes().to_vec()]);
                (r, false)
            }
            RecvHow::Read { keep } => (rx.read(None, keep).map(|m| vec![m]), keep),
            RecvHow::ReadTimeout { wait, keep } => {
                (rx.read(Some(deadline(wait)), keep).map(|m| vec![m]), keep)
            }
            RecvHow::Batch(most) => match rx.try_read_batch(usize::from(most % 4) + 1) {
                Some(r) => (r, false),
                None => return false,
            },
        };
        h.saw(&r, RecvError::Corrupted);
        let some = matches!(r, Ok(_) | Err(RecvError::Lagged { .. }));
        match r {
            Ok(msgs) => {
                for m in msgs {
                    assert!(m.len() <= max, "received {} bytes, over {max}", m.len());
                    if keep {
                        self.model.stays(who, m.len(), Some(&m));
                    } else {
                        self.model.received(who, &m);
                    }
                }
            }
            Err(RecvError::Empty | RecvError::Timeout) => self.model.empty(who),
            Err(RecvError::Lagged { missed }) => self.model.lagged(who, missed),
            Err(RecvError::WrongSize { found, expected }) => {
                assert!(expected == 8 && found != 8, "WrongSize {found}/{expected}");
                assert!(found <= max, "a {found}-byte message, over {max}");
                self.model.stays(who, found, None);
            }
            Err(e) => assert!(
                !self.model.checking(),
                "a receive from an intact ring: {e:?}"
            ),
        }
        some
    }

    /// Receives everything left: every committed message must come out.
    fn drain(&mut self) {
        for who in 0..self.roles {
            let mut n = 0;
            while self.recv(who, RecvHow::Try) {
                n += 1;
                assert!(n < 100_000, "receiver {who} never ran dry");
            }
        }
    }
}
