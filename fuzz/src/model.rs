//! What a ring must deliver, as long as nobody scribbled over it: a log of every position
//! a sender took, and where each receiver is in it.
//!
//! The three kinds read the log differently. An SPSC consumer reads it in order, once. MPMC
//! consumers share one head: each message goes to one of them, in order, but one that a
//! consumer keeps (`ReadGrant::keep`, or a value of the wrong size) is its own until it
//! releases it, and one kept by a consumer that detached floats: any consumer may get it at
//! any time (its successor in the role slot first, another one once its queue looks empty,
//! or a producer that needs its cell publishes it again). Each broadcast subscriber reads
//! the whole log from where it joined; in a lossy topic a subscriber that was overtaken
//! skips the positions it reports lost.
//!
//! Once the fuzzer has scribbled over the segment the model checks nothing more: the
//! handles may then answer anything but out-of-bounds lengths, which the target checks.

/// How a kind delivers its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// SPSC: one receiver reads every message.
    Stream,
    /// MPMC: every message goes to one of the receivers.
    Queue,
    /// Broadcast: every receiver reads every message; a topic holds its last `capacity`
    /// positions, and a `lossy` one overwrites them whether read or not.
    Topic {
        /// Publishers overwrite what subscribers have not read.
        lossy: bool,
        /// Positions the topic holds.
        capacity: usize,
    },
}

/// MPMC: the message a consumer keeps.
#[derive(Debug)]
enum Kept {
    /// This one.
    Known(Vec<u8>),
    /// One of the floating messages of this length: the consumer left a value of the
    /// wrong size when more than one message of its length could have been next.
    Floating(usize),
}

/// The expected state of one ring.
#[derive(Debug)]
pub struct Model {
    delivery: Delivery,
    /// Every position taken: a committed message, or a claim given back (`None`: MPMC
    /// and broadcast receivers pass it; an SPSC grant given back takes no position).
    log: Vec<Option<Vec<u8>>>,
    /// The next position of each receiver (SPSC and MPMC use the first only).
    cursor: [usize; 2],
    /// MPMC: the message each consumer keeps.
    kept: [Option<Kept>; 2],
    /// MPMC: messages that any consumer may get at any time.
    floating: Vec<Vec<u8>>,
    scribbled: bool,
}

impl Model {
    /// The model of a new, empty ring.
    pub fn new(delivery: Delivery) -> Model {
        Model {
            delivery,
            log: Vec::new(),
            cursor: [0; 2],
            kept: [None, None],
            floating: Vec::new(),
            scribbled: false,
        }
    }

    /// Whether the model still checks (nobody scribbled over the ring yet).
    pub fn checking(&self) -> bool {
        !self.scribbled
    }

    /// The segment was scribbled over: nothing is checked from now on.
    pub fn scribbled(&mut self) {
        self.scribbled = true;
    }

    /// `msg` was committed.
    pub fn committed(&mut self, msg: Vec<u8>) {
        self.log.push(Some(msg));
    }

    /// A write grant was dropped without a commit.
    pub fn abandoned(&mut self) {
        if self.delivery != Delivery::Stream {
            self.log.push(None);
        }
    }

    fn cursor(&mut self, who: usize) -> &mut usize {
        match self.delivery {
            Delivery::Topic { .. } => &mut self.cursor[who],
            Delivery::Stream | Delivery::Queue => &mut self.cursor[0],
        }
    }

    /// The position of the next message for receiver `who`, past given-back claims.
    fn next(&mut self, who: usize) -> Option<usize> {
        let mut at = *self.cursor(who);
        while self.log.get(at).is_some_and(Option::is_none) {
            at += 1;
        }
        *self.cursor(who) = at;
        (at < self.log.len()).then_some(at)
    }

    /// Receiver `who` received `got`: it must be the next message for it.
    pub fn received(&mut self, who: usize, got: &[u8]) {
        if self.scribbled {
            return;
        }
        match self.kept[who].take() {
            Some(Kept::Known(kept)) => {
                assert_eq!(
                    got, kept,
                    "receiver {who} did not get back the message it kept"
                );
                return;
            }
            Some(Kept::Floating(len)) => {
                assert_eq!(
                    got.len(),
                    len,
                    "receiver {who} kept a message of another length"
                );
                assert!(
                    self.take_floating(got),
                    "receiver {who} got {got:?}, kept by nobody"
                );
                return;
            }
            None => {}
        }
        if let Some(at) = self.next(who) {
            if self.log[at].as_deref() == Some(got) {
                *self.cursor(who) = at + 1;
                return;
            }
        }
        if self.take_floating(got) {
            return;
        }
        let at = self.next(who);
        panic!(
            "receiver {who} got {got:?}; expected position {at:?}: {:?}",
            at.and_then(|at| self.log[at].as_deref())
        );
    }

    /// Removes `msg` from the floating messages; whether it was there.
    fn take_floating(&mut self, msg: &[u8]) -> bool {
        let found = self.floating.iter().position(|m| m == msg);
        found.map(|i| self.floating.swap_remove(i)).is_some()
    }

    /// Receiver `who` got a message of `len` bytes and left it in the ring (kept it, or
    /// it had the wrong size for a value): its next receive returns it again. `bytes`:
    /// the message, where the receiver saw it.
    pub fn stays(&mut self, who: usize, len: usize, bytes: Option<&[u8]>) {
        if self.scribbled {
            return;
        }
        let fits = |m: &[u8]| m.len() == len && bytes.is_none_or(|b| b == m);
        if let Some(kept) = &self.kept[who] {
            let ok = match kept {
                Kept::Known(m) => fits(m),
                Kept::Floating(l) => *l == len,
            };
            assert!(
                ok,
                "receiver {who} left another message than the one it kept"
            );
            return;
        }
        let next = self.next(who);
        let next = next.filter(|&at| self.log[at].as_deref().is_some_and(fits));
        if self.delivery != Delivery::Queue {
            assert!(
                next.is_some(),
                "receiver {who} left a message that is not the next"
            );
            return;
        }
        let floating = self.floating.iter().filter(|m| fits(m)).count();
        self.kept[who] = Some(match (next, floating) {
            (Some(at), 0) => {
                *self.cursor(who) = at + 1;
                Kept::Known(self.log[at].clone().expect("a committed message"))
            }
            (None, 1) => {
                let i = self.floating.iter().position(|m| fits(m));
                Kept::Known(self.floating.swap_remove(i.expect("counted")))
            }
            (None, 0) => panic!("receiver {who} left a {len}-byte message that is nobody's"),
            // It may be either: the next one floats too from now on.
            (next, _) => {
                if let Some(at) = next {
                    *self.cursor(who) = at + 1;
                    self.floating.extend(self.log[at].clone());
                }
                Kept::Floating(len)
            }
        });
    }

    /// Receiver `who` found nothing to receive: nothing committed may wait for it
    /// (a floating message may still be on its way).
    pub fn empty(&mut self, who: usize) {
        if self.scribbled {
            return;
        }
        assert!(
            self.kept[who].is_none(),
            "receiver {who} lost the message it kept"
        );
        let next = self.next(who);
        assert!(
            next.is_none(),
            "receiver {who} found the ring empty with position {next:?} committed"
        );
    }

    /// Receiver `who` was overtaken and lost `missed` positions.
    pub fn lagged(&mut self, who: usize, missed: u64) {
        if self.scribbled {
            return;
        }
        let lossy = matches!(self.delivery, Delivery::Topic { lossy: true, .. });
        assert!(
            lossy,
            "receiver {who} lagged in a ring that does not overwrite"
        );
        let len = self.log.len();
        let cursor = self.cursor(who);
        assert!(
            missed > 0 && *cursor as u64 + missed <= len as u64,
            "receiver {who} at position {cursor} of {len} missed {missed}"
        );
        *cursor += missed as usize;
    }

    /// Receiver `who` was replaced by a new one: a subscriber joins at the next position
    /// or at the oldest the topic holds; a consumer's kept message floats.
    pub fn rejoined(&mut self, who: usize, from_oldest: bool) {
        match self.delivery {
            Delivery::Topic { capacity, .. } => {
                let len = self.log.len();
                self.cursor[who] = if from_oldest {
                    len.saturating_sub(capacity)
                } else {
                    len
                };
            }
            Delivery::Queue => {
                if let Some(Kept::Known(m)) = self.kept[who].take() {
                    self.floating.push(m);
                }
            }
            Delivery::Stream => {}
        }
    }
}
