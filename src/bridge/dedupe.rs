//! What `dedupe` of the inbound bridge remembers: the highest stream sequence committed
//! into the ring, in a small file of its own.
//!
//! JetStream numbers a stream's messages in one growing sequence, and the bridge commits
//! them in that order (one consumer, one message at a time), so one number says which
//! messages are in the ring: all up to it. The file holds it and a fingerprint of the
//! stream (its name and creation time: a stream deleted and created again numbers from 1
//! again, and its messages must not pass for committed), 16 bytes written in place after
//! each commit. A write reaches the kernel's page cache, which keeps it when the bridge is
//! killed: it costs about a microsecond, against the tens of a message through NATS.
//! It is not synced to disk (see the delivery contract for what a machine crash does).

use super::BridgeError;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The highest stream sequence committed, kept in a file.
#[derive(Debug)]
pub(crate) struct Dedupe {
    path: PathBuf,
    file: File,
    fingerprint: u64,
    /// The highest sequence committed, if any was under this fingerprint.
    last: Option<u64>,
}

/// What [`Dedupe::open`] found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing: a new file, or one cut short.
    Nothing,
    /// The state of the same stream.
    Same,
    /// The state of another stream (or of one deleted since): not used.
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
        let mut words = [0u8; 16];
        let (last, found) = match file.read_exact_at(&mut words, 0) {
            Ok(()) => {
                let word = |i: usize| u64::from_le_bytes(words[i..i + 8].try_into().unwrap());
                if word(0) == fingerprint {
                    (Some(word(8)), Found::Same)
                } else {
                    (None, Found::Other)
                }
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => (None, Found::Nothing),
            Err(e) => return Err(failed(e)),
        };
        let dedupe = Dedupe {
            path: path.to_owned(),
            file,
            fingerprint,
            last,
        };
        Ok((dedupe, found))
    }

    /// Whether the message of stream sequence `seq` was committed already.
    pub(crate) fn seen(&self, seq: u64) -> bool {
        self.last.is_some_and(|last| seq <= last)
    }

    /// Remembers that the message of sequence `seq` is committed.
    pub(crate) fn committed(&mut self, seq: u64) -> Result<(), BridgeError> {
        let mut words = [0u8; 16];
        words[..8].copy_from_slice(&self.fingerprint.to_le_bytes());
        words[8..].copy_from_slice(&seq.to_le_bytes());
        self.file
            .write_all_at(&words, 0)
            .map_err(|source| BridgeError::State {
                path: self.path.clone(),
                source,
            })?;
        self.last = Some(seq);
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
    use super::{fingerprint, Dedupe, Found};

    fn path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ipcring-dedupe-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_new_state_has_seen_nothing_and_remembers_what_it_is_told() {
        let p = path("new");
        let _ = std::fs::remove_file(&p);
        let (mut d, found) = Dedupe::open(&p, 7).unwrap();
        assert_eq!(found, Found::Nothing);
        assert!(!d.seen(1));
        d.committed(5).unwrap();
        assert!(d.seen(5) && d.seen(1) && !d.seen(6));
        drop(d);
        let (again, found) = Dedupe::open(&p, 7).unwrap();
        assert_eq!(found, Found::Same);
        assert!(again.seen(5) && !again.seen(6));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_state_of_another_stream_is_not_used() {
        let p = path("other");
        let (mut d, _) = Dedupe::open(&p, 1).unwrap();
        d.committed(u64::MAX).unwrap();
        let (other, found) = Dedupe::open(&p, 2).unwrap();
        assert_eq!(found, Found::Other);
        assert!(!other.seen(1));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn streams_differ_by_name_and_by_creation() {
        assert_ne!(fingerprint("A", 1), fingerprint("B", 1));
        assert_ne!(fingerprint("A", 1), fingerprint("A", 2));
        assert_eq!(fingerprint("A", 1), fingerprint("A", 1));
    }
}
