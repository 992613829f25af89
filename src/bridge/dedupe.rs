//! What `dedupe` of the inbound bridge remembers: the stream sequences of the last
//! [`RECENT`] messages it committed into the ring, in a small file of its own.
//!
//! JetStream numbers a stream's messages in one growing sequence. The bridge commits them
//! one at a time, mostly in that order, but not always: a message that the server
//! delivered to a bridge that died before it committed it, or that was lost on a broken
//! connection, is delivered again only after the consumer's `ack_wait`, while later
//! messages go to the next bridge at once. So "the highest sequence committed" would drop
//! such a message; the set of sequences committed does not, and the recent ones suffice:
//! a message comes again only while it is unacknowledged, shortly after its delivery.
//!
//! The file: the stream's fingerprint (its name and creation time: a stream deleted and
//! created again numbers from 1 again, and its messages must not pass for committed), then
//! [`RECENT`] slots written in turn, each a commit's number and its stream sequence, 16
//! bytes written in place after each commit. A write reaches the kernel's page cache,
//! which keeps it when the bridge is killed: it costs about a microsecond, against the
//! tens of a message through NATS. It is not synced to disk (see the delivery contract
//! for what a machine crash does).

use super::BridgeError;
use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// How many committed sequences the state remembers.
pub(crate) const RECENT: usize = 4096;

/// Bytes before the slots: the fingerprint and a word kept at 0.
const HEAD: u64 = 16;
/// Bytes of a slot: the commit's number and the stream sequence.
const SLOT: u64 = 16;

/// The stream sequences committed recently, kept in a file.
#[derive(Debug)]
pub(crate) struct Dedupe {
    path: PathBuf,
    file: File,
    /// The sequence in each slot (0: none; sequences start at 1).
    slots: Vec<u64>,
    /// The sequences of `slots`.
    committed: HashSet<u64>,
    /// The slot the next commit takes, and that commit's number.
    next: usize,
    number: u64,
}

/// What [`Dedupe::open`] found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing: a new file, or one cut short.
    Nothing,
    /// The state of the same stream.
    Same,
    /// The state of another stream (or of one deleted since): not used, and started over.
    Other,
}

impl Dedupe {
    /// Opens (or creates) the state at `path` for the stream of `fingerprint`.
    pub(crate) fn open(path: &Path, fingerprint: u64) -> Result<(Dedupe, Found), BridgeError> {
        let failed = |source| BridgeError::State {
            path: path.to_owned(),
            source,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(failed)?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut &file, &mut bytes).map_err(failed)?;
        let word = |at: usize| {
            let w = bytes.get(at..at + 8)?;
            Some(u64::from_le_bytes(w.try_into().ok()?))
        };
        let found = match word(0) {
            None => Found::Nothing,
            Some(f) if f == fingerprint => Found::Same,
            Some(_) => Found::Other,
        };
        let mut dedupe = Dedupe {
            path: path.to_owned(),
            file,
            slots: vec![0; RECENT],
            committed: HashSet::new(),
            next: 0,
            number: 0,
        };
        if found == Found::Same {
            dedupe.load(|i| {
                let at = (HEAD + SLOT * i as u64) as usize;
                Some((word(at)?, word(at + 8)?))
            });
        } else {
            // The slots of another stream must not be read as this one's later.
            dedupe.file.set_len(0).map_err(failed)?;
            let mut head = [0u8; HEAD as usize];
            head[..8].copy_from_slice(&fingerprint.to_le_bytes());
            dedupe.file.write_all_at(&head, 0).map_err(failed)?;
        }
        Ok((dedupe, found))
    }

    /// Takes the slots that `slot` reads (a commit's number and its sequence; `None` past
    /// the end of the file), and continues after the latest commit.
    fn load(&mut self, slot: impl Fn(usize) -> Option<(u64, u64)>) {
        let mut latest = None;
        for i in 0..RECENT {
            let Some((number, seq)) = slot(i) else { break };
            if seq == 0 {
                continue;
            }
            self.slots[i] = seq;
            self.committed.insert(seq);
            if latest.map_or(true, |(n, _)| number > n) {
                latest = Some((number, i));
            }
        }
        if let Some((number, i)) = latest {
            self.number = number;
            self.next = (i + 1) % RECENT;
        }
    }

    /// Whether the message of stream sequence `seq` was committed (recently).
    pub(crate) fn seen(&self, seq: u64) -> bool {
        self.committed.contains(&seq)
    }

    /// Remembers that the message of sequence `seq` is committed, in place of the oldest
    /// commit remembered.
    pub(crate) fn committed(&mut self, seq: u64) -> Result<(), BridgeError> {
        let number = self.number.wrapping_add(1);
        let mut slot = [0u8; SLOT as usize];
        slot[..8].copy_from_slice(&number.to_le_bytes());
        slot[8..].copy_from_slice(&seq.to_le_bytes());
        let at = HEAD + SLOT * self.next as u64;
        self.file
            .write_all_at(&slot, at)
            .map_err(|source| BridgeError::State {
                path: self.path.clone(),
                source,
            })?;
        let old = core::mem::replace(&mut self.slots[self.next], seq);
        self.committed.remove(&old);
        self.committed.insert(seq);
        self.next = (self.next + 1) % RECENT;
        self.number = number;
        Ok(())
    }
}

/// The fingerprint of a stream: FNV-1a over its name and creation time.
pub(crate) fn fingerprint(name: &str, created_nanos: i128) -> u64 {
    let mut parts: Vec<u64> = name.bytes().map(u64::from).collect();
    parts.push(created_nanos as u64);
    parts.push((created_nanos >> 64) as u64);
    crate::layout::hash(&parts)
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, Dedupe, Found, RECENT};

    fn path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ipcring-dedupe-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_new_state_has_seen_nothing_and_remembers_across_opens() {
        let p = path("new");
        let _ = std::fs::remove_file(&p);
        let (mut d, found) = Dedupe::open(&p, 7).unwrap();
        assert_eq!(found, Found::Nothing);
        assert!(!d.seen(1));
        d.committed(5).unwrap();
        d.committed(3).unwrap();
        assert!(d.seen(5) && d.seen(3) && !d.seen(4) && !d.seen(6));
        drop(d);
        let (again, found) = Dedupe::open(&p, 7).unwrap();
        assert_eq!(found, Found::Same);
        assert!(again.seen(5) && again.seen(3) && !again.seen(4));
        std::fs::remove_file(&p).unwrap();
    }

    /// A message delivered again below the highest committed one, and never committed,
    /// is not taken for a duplicate.
    #[test]
    fn a_gap_below_the_highest_commit_is_not_seen() {
        let p = path("gap");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        for seq in [1, 2, 4, 5] {
            d.committed(seq).unwrap();
        }
        assert!(!d.seen(3));
        std::fs::remove_file(&p).unwrap();
    }

    /// The state keeps the last `RECENT` commits, reopened after it wrapped its slots.
    #[test]
    fn the_oldest_commits_give_way_and_a_reopen_continues_in_turn() {
        let p = path("wrap");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        let last = RECENT as u64 + 10;
        for seq in 1..=last {
            d.committed(seq).unwrap();
        }
        drop(d);
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        assert!(!d.seen(10) && d.seen(11) && d.seen(last));
        d.committed(last + 1).unwrap();
        assert!(!d.seen(11) && d.seen(12) && d.seen(last + 1));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_state_of_another_stream_is_dropped() {
        let p = path("other");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        d.committed(9).unwrap();
        let (other, found) = Dedupe::open(&p, 2).unwrap();
        assert_eq!(found, Found::Other);
        assert!(!other.seen(9));
        drop(other);
        let (back, found) = Dedupe::open(&p, 1).unwrap();
        assert_eq!(found, Found::Other);
        assert!(!back.seen(9));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn streams_differ_by_name_and_by_creation() {
        assert_ne!(fingerprint("A", 1), fingerprint("B", 1));
        assert_ne!(fingerprint("A", 1), fingerprint("A", 2));
        assert_eq!(fingerprint("A", 1), fingerprint("A", 1));
    }
}
