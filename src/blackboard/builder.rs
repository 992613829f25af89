//! Creating and opening blackboards: the kind's part of [`crate::Builder`], and the
//! shortcuts on the handles.

use super::board::{geometry, Board, NewEntry};
use super::layout::Blackboard;
use super::{Reader, Writer};
use crate::durability::with_policy;
use crate::error::OpenError;

/// The blackboard part of a [`Builder`]: the entries and the writer slots.
#[derive(Debug, Clone)]
pub struct Shape {
    entries: Vec<NewEntry>,
    writers: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            entries: Vec::new(),
            writers: 1,
        }
    }
}

/// Options of a blackboard, and the ways to attach to one. The options every kind shares
/// (mode, populate, wait strategy) are those of [`crate::Builder`].
///
/// Entries are fixed at create, in the order they are added; each is addressed by its
/// index, and may have a key (a name) that [`Reader::key`] turns into its index.
///
/// ```
/// # let name = format!("doc-board-builder-{}", std::process::id());
/// use ipcring::blackboard::Builder;
/// let mut config = Builder::new(&name)
///     .entry("log_level", 16)        // a value of up to 16 bytes
///     .value::<u64>("max_clients")   // a plain-old-data value
///     .create_writer()?;
/// let mut reader = Builder::new(&name).open_reader()?;
/// let max = reader.key("max_clients").unwrap();
/// config.set_value(max, &500u64)?;
/// assert_eq!(reader.get::<u64>(max)?, (500, 1));
/// # drop((config, reader));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// Adds an entry with key `key` (up to 32 bytes, unique; empty for none) whose values
    /// are up to `max_size` bytes (1 byte to 256 MiB).
    pub fn entry(mut self, key: &str, max_size: usize) -> Builder {
        self.kind.entries.push(NewEntry {
            key: key.to_owned(),
            max: max_size,
        });
        self
    }

    /// Adds `n` entries without keys, of up to `max_size` bytes each.
    pub fn entries(mut self, n: usize, max_size: usize) -> Builder {
        let entry = NewEntry {
            key: String::new(),
            max: max_size,
        };
        self.kind.entries.extend(core::iter::repeat(entry).take(n));
        self
    }

    /// Adds an entry with key `key` that holds a `T`.
    pub fn value<T: bytemuck::Pod>(self, key: &str) -> Builder {
        self.entry(key, core::mem::size_of::<T>())
    }

    /// How many writers may be attached at once when creating: 1 (the default) to 64.
    /// With more than one, each write claims its entry (a compare-and-swap), so that two
    /// writers never write one entry at once.
    pub fn writers(mut self, n: usize) -> Builder {
        self.kind.writers = n;
        self
    }

    /// Creates the board and attaches as a writer.
    ///
    /// # Errors
    /// `InvalidName`, `InvalidGeometry` (no entries, more than 4096, a value size out of
    /// range, a key too long or repeated), `AlreadyExists`, `NoSpace`, `PermissionDenied`,
    /// `Io`.
    pub fn create_writer(self) -> Result<Writer, OpenError> {
        let mut w = Writer::attach(self.create()?, self.strategy)?;
        w.publish()?;
        with_policy(w, self.sync, Writer::set_sync_policy)
    }

    /// Opens the board as a writer.
    ///
    /// # Errors
    /// `NotFound`, `RoleTaken` (every writer slot is held), any validation error of the
    /// segment (`NotIpcring`, `KindMismatch`, `VersionMismatch`, `Truncated`...).
    pub fn open_writer(self) -> Result<Writer, OpenError> {
        let w = Writer::attach(self.open()?, self.strategy)?;
        with_policy(w, self.sync, Writer::set_sync_policy)
    }

    /// Opens the board as a writer, creating it if it does not exist.
    ///
    /// # Errors
    /// As [`Builder::create_writer`] and [`Builder::open_writer`].
    pub fn open_or_create_writer(self) -> Result<Writer, OpenError> {
        self.open_or_create(|b| b.clone().open_writer(), |b| b.clone().create_writer())
    }

    /// Opens the board as a reader (readers take no slot: any number may read).
    ///
    /// # Errors
    /// As [`Builder::open_writer`], but `RoleTaken`.
    pub fn open_reader(self) -> Result<Reader, OpenError> {
        Ok(Reader::new(self.open()?, self.strategy))
    }

    /// Creates the board and attaches to no role: its entries wait, unset, for a writer.
    ///
    /// # Errors
    /// As [`Builder::create_writer`].
    pub fn create_detached(self) -> Result<(), OpenError> {
        self.create()?.publish()
    }

    fn create(&self) -> Result<Board, OpenError> {
        let geo = geometry(&self.kind.entries, self.kind.writers)?;
        let region = self.create_region::<Blackboard>(&geo)?;
        Board::new(region, geo, None, Some(&self.kind.entries))
    }

    fn open(&self) -> Result<Board, OpenError> {
        let (region, geo) = self.open_region::<Blackboard>()?;
        Board::new(region, geo, None, None)
    }
}

impl Writer {
    /// Creates the board `name` with `entries` entries (indices `0..entries`, no keys) of
    /// up to `max_size` bytes each, and attaches as its writer. See [`Builder`] for keys,
    /// typed entries and more writers.
    ///
    /// # Errors
    /// See [`Builder::create_writer`].
    pub fn create(name: &str, entries: usize, max_size: usize) -> Result<Writer, OpenError> {
        Builder::new(name)
            .entries(entries, max_size)
            .create_writer()
    }

    /// Opens the existing board `name` as a writer.
    ///
    /// # Errors
    /// See [`Builder::open_writer`].
    pub fn open(name: &str) -> Result<Writer, OpenError> {
        Builder::new(name).open_writer()
    }
}

impl Reader {
    /// Opens the existing board `name` as a reader.
    ///
    /// # Errors
    /// See [`Builder::open_reader`].
    pub fn open(name: &str) -> Result<Reader, OpenError> {
        Builder::new(name).open_reader()
    }
}
