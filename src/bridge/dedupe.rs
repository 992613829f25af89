//! What `dedupe` of the inbound bridge remembers: which stream sequences it committed
//! into the ring, in a small file of its own.
//!
//! JetStream numbers a stream's messages in one growing sequence. The bridge commits them
//! one at a time, mostly in that order, but not always: a message that the server
//! delivered to a bridge that died before it committed it, or that was lost on a broken
//! connection, is delivered again only after the consumer's `ack_wait`, while later
//! messages go to the next bridge at once. So "the highest sequence committed" would drop
//! such a message; the set of sequences committed does not. A message already committed
//! comes again when the server did not get (or lost) its acknowledgement, and that can be
//! long after: a server killed loses the acknowledgements it had not written to its store
//! yet, and delivers those messages again an `ack_wait` after its restart, thousands of
//! commits later.
//!
//! So the state is the consumer's **ack floor** as the bridge last saw it (the server
//! answers it: every message of the consumer up to it is acknowledged, and the bridge
//! acknowledges a message only after its commit, so all of them are committed; the
//! bridge keeps the highest floor it saw, as a restarted server may answer an older one),
//! and the set of the sequences committed **above** that floor, none forgotten (but past
//! [`MOST_ABOVE`] of them, the lowest: a floor held down for minutes at a high rate). The
//! floor rises as the server acknowledges; what it passes is dropped from the set.
//!
//! The file: the stream's fingerprint (its name and creation time, and the consumer's
//! creation time: a stream or a consumer deleted and created again numbers from the start
//! again, and its messages must not pass for committed), the floor, then the sequences
//! committed, 8 bytes each, appended after each commit. A write reaches the kernel's page
//! cache, which keeps it when the bridge is killed: it costs about a microsecond, against
//! the tens of a message through NATS. It is not synced to disk (see the delivery
//! contract for what a machine crash does). When the sequences the floor passed are most
//! of the file, it is written again without them, to a new file renamed over it (a kill
//! leaves one or the other whole). A bridge holds an exclusive lock on its file: a second
//! one on the same file is an error at start.

use super::BridgeError;
use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Most committed sequences remembered above the floor.
pub(crate) const MOST_ABOVE: usize = 1 << 20;

/// Bytes before the sequences: the fingerprint and the floor.
const HEAD: u64 = 16;
/// Where the floor is.
const FLOOR_AT: u64 = 8;
/// Bytes of a sequence.
const ENTRY: u64 = 8;
/// Sequences in the file past twice those remembered before it is written again.
const SLACK: u64 = 4096;

/// The stream sequences committed, kept in a file.
#[derive(Debug)]
pub(crate) struct Dedupe {
    path: PathBuf,
    file: File,
    /// Every sequence up to it is committed.
    floor: u64,
    /// The sequences committed above `floor`.
    above: BTreeSet<u64>,
    /// The sequences in the file.
    logged: u64,
}

/// What [`Dedupe::open`] found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing: a new file, or one cut short.
    Nothing,
    /// The state of the same stream and consumer.
    Same,
    /// The state of another stream or consumer (or of one deleted since): not used, and
    /// started over.
    Other,
}

impl Dedupe {
    /// Opens (or creates) the state at `path` for the stream and consumer of
    /// `fingerprint`, and locks it.
    pub(crate) fn open(path: &Path, fingerprint: u64) -> Result<(Dedupe, Found), BridgeError> {
        let failed = |source| BridgeError::State {
            path: path.to_owned(),
            source,
        };
        let file = locked(path, false).map_err(failed)?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut &file, &mut bytes).map_err(failed)?;
        let word = |at: u64| {
            let at = at as usize;
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
            floor: 0,
            above: BTreeSet::new(),
            logged: 0,
        };
        if found == Found::Same {
            dedupe.floor = word(FLOOR_AT).unwrap_or(0);
            let mut at = HEAD;
            while let Some(seq) = word(at) {
                dedupe.remember(seq);
                dedupe.logged += 1;
                at += ENTRY;
            }
            // A sequence cut short by a crash of the machine is not one.
            dedupe.file.set_len(at).map_err(failed)?;
        } else {
            // The sequences of another stream must not be read as this one's later.
            dedupe.file.set_len(0).map_err(failed)?;
            dedupe
                .file
                .write_all_at(&head(fingerprint, 0), 0)
                .map_err(failed)?;
        }
        Ok((dedupe, found))
    }

    /// Whether the message of stream sequence `seq` was committed.
    pub(crate) fn seen(&self, seq: u64) -> bool {
        seq <= self.floor || self.above.contains(&seq)
    }

    /// Remembers that the message of sequence `seq` is committed.
    pub(crate) fn committed(&mut self, seq: u64) -> Result<(), BridgeError> {
        let at = HEAD + ENTRY * self.logged;
        self.file
            .write_all_at(&seq.to_le_bytes(), at)
            .map_err(|e| self.failed(e))?;
        self.logged += 1;
        self.remember(seq);
        Ok(())
    }

    /// Takes `floor`, the consumer's ack floor that the server answered, if it is above
    /// the one kept.
    pub(crate) fn raise_floor(&mut self, floor: u64) -> Result<(), BridgeError> {
        if floor <= self.floor {
            return Ok(());
        }
        self.file
            .write_all_at(&floor.to_le_bytes(), FLOOR_AT)
            .map_err(|e| self.failed(e))?;
        self.floor = floor;
        self.above = self.above.split_off(&(floor + 1));
        if self.logged >= 2 * self.above.len() as u64 + SLACK {
            self.rewrite().map_err(|e| self.failed(e))?;
        }
        Ok(())
    }

    /// Adds `seq` to the set, unless the floor covers it; forgets the lowest past
    /// [`MOST_ABOVE`].
    fn remember(&mut self, seq: u64) {
        if seq > self.floor && self.above.insert(seq) && self.above.len() > MOST_ABOVE {
            self.above.pop_first();
        }
    }

    /// Writes the file again with the sequences above the floor alone, as a new file
    /// (locked before it takes the name) renamed over the old one.
    fn rewrite(&mut self) -> io::Result<()> {
        let mut fresh = self.path.clone().into_os_string();
        fresh.push(".new");
        let fresh = PathBuf::from(fresh);
        let file = locked(&fresh, true)?;
        let mut bytes = Vec::with_capacity(HEAD as usize + 8 * self.above.len());
        let mut fingerprint = [0u8; 8];
        self.file.read_exact_at(&mut fingerprint, 0)?;
        bytes.extend_from_slice(&head(u64::from_le_bytes(fingerprint), self.floor));
        self.above
            .iter()
            .for_each(|seq| bytes.extend_from_slice(&seq.to_le_bytes()));
        file.write_all_at(&bytes, 0)?;
        std::fs::rename(&fresh, &self.path)?;
        self.file = file;
        self.logged = self.above.len() as u64;
        Ok(())
    }

    fn failed(&self, source: io::Error) -> BridgeError {
        BridgeError::State {
            path: self.path.clone(),
            source,
        }
    }
}

/// The file at `path`, opened for reading and writing (created if missing, emptied if
/// `empty`) and locked for this process alone.
fn locked(path: &Path, empty: bool) -> io::Result<File> {
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(empty)
        .open(path)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
        |e| match e {
            rustix::io::Errno::WOULDBLOCK => io::Error::new(
                io::ErrorKind::WouldBlock,
                "in use by another bridge (one bridge per durable consumer and ring)",
            ),
            e => e.into(),
        },
    )?;
    Ok(file)
}

/// The file's first bytes: `fingerprint`, then `floor`.
fn head(fingerprint: u64, floor: u64) -> [u8; HEAD as usize] {
    let mut head = [0u8; HEAD as usize];
    head[..8].copy_from_slice(&fingerprint.to_le_bytes());
    head[8..].copy_from_slice(&floor.to_le_bytes());
    head
}

/// The fingerprint of a stream and a consumer of it: FNV-1a over the stream's name and
/// the creation times of both.
pub(crate) fn fingerprint(name: &str, stream_created: i128, consumer_created: i128) -> u64 {
    let mut parts: Vec<u64> = name.bytes().map(u64::from).collect();
    for t in [stream_created, consumer_created] {
        parts.push(t as u64);
        parts.push((t >> 64) as u64);
    }
    crate::layout::hash(&parts)
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, Dedupe, Found, HEAD, SLACK};

    fn path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ipcring-dedupe-{name}-{}", std::process::id()))
    }

    fn size(p: &std::path::Path) -> u64 {
        std::fs::metadata(p).unwrap().len()
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

    /// However many commits follow it, a commit above the floor is remembered: a server
    /// that lost its acknowledgement delivers it again long after.
    #[test]
    fn commits_above_the_floor_are_never_forgotten() {
        let p = path("many");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        let last = 100_000;
        for seq in 1..=last {
            d.committed(seq).unwrap();
        }
        drop(d);
        let (d, _) = Dedupe::open(&p, 1).unwrap();
        assert!((1..=last).all(|seq| d.seen(seq)) && !d.seen(last + 1));
        std::fs::remove_file(&p).unwrap();
    }

    /// Below the floor everything counts as committed, gaps too; the floor never goes
    /// down (a restarted server may answer an older one), and survives a reopen.
    #[test]
    fn the_floor_covers_what_is_below_it_and_only_rises() {
        let p = path("floor");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        for seq in [1, 2, 4, 7] {
            d.committed(seq).unwrap();
        }
        d.raise_floor(4).unwrap();
        assert!(d.seen(3) && d.seen(4) && !d.seen(5) && d.seen(7));
        d.raise_floor(2).unwrap();
        assert!(d.seen(3));
        drop(d);
        let (d, _) = Dedupe::open(&p, 1).unwrap();
        assert!(d.seen(3) && !d.seen(5) && !d.seen(6) && d.seen(7) && !d.seen(8));
        std::fs::remove_file(&p).unwrap();
    }

    /// When the floor passed most of the file's sequences, the file is written again
    /// with the others alone; what it says stays the same.
    #[test]
    fn the_file_sheds_what_the_floor_passed() {
        let p = path("shed");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        let n = 3 * SLACK;
        for seq in 1..=n {
            d.committed(seq).unwrap();
        }
        assert_eq!(size(&p), HEAD + 8 * n);
        d.raise_floor(n - 10).unwrap();
        assert_eq!(size(&p), HEAD + 8 * 10);
        d.committed(n + 2).unwrap();
        assert_eq!(size(&p), HEAD + 8 * 11);
        drop(d);
        let (d, found) = Dedupe::open(&p, 1).unwrap();
        assert_eq!(found, Found::Same);
        assert!(d.seen(1) && d.seen(n) && !d.seen(n + 1) && d.seen(n + 2));
        let mut fresh = p.clone().into_os_string();
        fresh.push(".new");
        assert!(!std::path::Path::new(&fresh).exists());
        std::fs::remove_file(&p).unwrap();
    }

    /// A sequence cut short at the end of the file (a machine crash mid-write) is not
    /// read as one.
    #[test]
    fn a_sequence_cut_short_is_dropped() {
        let p = path("short");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        d.committed(9).unwrap();
        d.committed(10).unwrap();
        drop(d);
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(HEAD + 8 + 3).unwrap();
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        assert!(d.seen(9) && !d.seen(10));
        d.committed(11).unwrap();
        drop(d);
        let (d, _) = Dedupe::open(&p, 1).unwrap();
        assert!(d.seen(9) && !d.seen(10) && d.seen(11));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_second_bridge_on_the_same_state_is_refused() {
        let p = path("twice");
        let (d, _) = Dedupe::open(&p, 1).unwrap();
        let err = Dedupe::open(&p, 1).unwrap_err();
        let why = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            why.as_deref().is_some_and(|w| w.contains("another bridge")),
            "{err}: {why:?}"
        );
        drop(d);
        Dedupe::open(&p, 1).unwrap();
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_state_of_another_stream_is_dropped() {
        let p = path("other");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        d.committed(9).unwrap();
        d.raise_floor(5).unwrap();
        drop(d);
        let (other, found) = Dedupe::open(&p, 2).unwrap();
        assert_eq!(found, Found::Other);
        assert!(!other.seen(9) && !other.seen(1));
        drop(other);
        let (back, found) = Dedupe::open(&p, 1).unwrap();
        assert_eq!(found, Found::Other);
        assert!(!back.seen(9));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn streams_and_consumers_differ_by_name_and_by_creation() {
        assert_ne!(fingerprint("A", 1, 1), fingerprint("B", 1, 1));
        assert_ne!(fingerprint("A", 1, 1), fingerprint("A", 2, 1));
        assert_ne!(fingerprint("A", 1, 1), fingerprint("A", 1, 2));
        assert_eq!(fingerprint("A", 1, 1), fingerprint("A", 1, 1));
    }
}
