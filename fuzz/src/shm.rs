//! The files of segments in `/dev/shm`: one made from a fuzzer's bytes, and a writer that
//! scribbles over a live ring's segment as a peer with a bug would.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

/// The file of ring `name`: the POSIX shared-memory object `/ipcring.<name>`.
pub fn path_of(name: &str) -> PathBuf {
    PathBuf::from(format!("/dev/shm/ipcring.{name}"))
}

/// A segment file whose bytes are given, at a name of its own; removed when dropped.
#[derive(Debug)]
pub struct SegmentFile {
    name: String,
}

impl SegmentFile {
    /// Makes the file of ring `name` (which must not exist) with `bytes` as its contents
    /// and mode 0600, the mode of a ring that its creator has published.
    ///
    /// # Errors
    /// Those of creating and writing the file (it is removed again then).
    pub fn new(name: String, bytes: &[u8]) -> io::Result<SegmentFile> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path_of(&name))?;
        let seg = SegmentFile { name };
        f.write_all(bytes)?;
        Ok(seg)
    }

    /// The ring name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for SegmentFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(path_of(&self.name));
    }
}

/// Writes over the segment of a live ring through a descriptor of its own, never past the
/// segment's end (a segment that grew would be harmless; one that shrank kills its users
/// with SIGBUS, which the threat model leaves out).
#[derive(Debug)]
pub struct Scribbler {
    file: File,
    size: u64,
}

impl Scribbler {
    /// Opens the segment of ring `name` for scribbling.
    ///
    /// # Errors
    /// Those of opening the file.
    pub fn open(name: &str) -> io::Result<Scribbler> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path_of(name))?;
        let size = file.metadata()?.len();
        Ok(Scribbler { file, size })
    }

    /// Writes `bytes` at `at` (taken modulo the segment's size), cut at the segment's end.
    pub fn write(&self, at: u64, bytes: &[u8]) {
        if self.size == 0 {
            return;
        }
        let at = at % self.size;
        let n = bytes.len().min((self.size - at) as usize);
        self.file
            .write_all_at(&bytes[..n], at)
            .expect("scribble over the segment");
    }

    /// The 8-byte word number `word` (modulo the segment's words), little-endian.
    pub fn word(&self, word: u64) -> (u64, u64) {
        let at = word % (self.size / 8).max(1) * 8;
        let mut b = [0; 8];
        self.file
            .read_exact_at(&mut b, at)
            .expect("read a word of the segment");
        (at, u64::from_le_bytes(b))
    }

    /// Stores `value` in the 8-byte word number `word` (modulo the segment's words).
    pub fn poke(&self, word: u64, value: u64) {
        let (at, _) = self.word(word);
        self.write(at, &value.to_le_bytes());
    }

    /// Adds `delta` to the 8-byte word number `word`: a position or a state word moved by
    /// a little, which looks more plausible than random bytes.
    pub fn nudge(&self, word: u64, delta: i64) {
        let (at, old) = self.word(word);
        self.write(at, &old.wrapping_add_signed(delta).to_le_bytes());
    }
}
