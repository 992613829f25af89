//! Creating and opening SPSC rings: the kind's part of [`crate::Builder`], and the
//! shortcuts on the handles.

use super::layout::{Geometry, Spsc, SpscHeader, CONSUMERS, PRODUCERS};
use super::shared::Ring;
use super::{Consumer, Producer};
use crate::durability::with_policy;
use crate::error::OpenError;
use crate::region::Region;
use crate::role::Role;
use crate::sync::Ordering;
use crate::wait;

/// Data area of [`Builder`] when no capacity is given (1 MiB).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// The SPSC part of a [`Builder`]: the size of the data area.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    capacity: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            capacity: DEFAULT_CAPACITY,
        }
    }
}

/// Options of an SPSC ring, and the six ways to attach to one. The options every kind
/// shares (mode, populate, wait strategy) are those of [`crate::Builder`].
///
/// ```
/// # let name = format!("doc-builder-{}", std::process::id());
/// use ipcring::spsc::Builder;
/// use ipcring::WaitStrategy;
/// let tx = Builder::new(&name)
///     .capacity(1 << 16)
///     .mode(0o660)
///     .wait_strategy(WaitStrategy::BusySpin)
///     .create_producer()?;
/// let rx = Builder::new(&name).open_or_create_consumer()?;
/// assert_eq!(rx.capacity(), 1 << 16);
/// # drop((tx, rx));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), ipcring::OpenError>(())
/// ```
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// Size of the data area in bytes when creating: a power of two from
    /// [`super::MIN_CAPACITY`] to [`super::MAX_CAPACITY`]. Messages may be up to a quarter of it.
    pub fn capacity(mut self, bytes: usize) -> Builder {
        self.kind.capacity = bytes;
        self
    }

    /// Creates the ring and attaches as its producer.
    ///
    /// # Errors
    /// See [`Producer::create`].
    pub fn create_producer(self) -> Result<Producer, OpenError> {
        let tx = Producer::attach(self.create(Role::Producer)?, self.strategy)?;
        with_policy(tx, self.sync, Producer::set_sync_policy)
    }

    /// Opens the ring as its producer.
    ///
    /// # Errors
    /// See [`Producer::open`].
    pub fn open_producer(self) -> Result<Producer, OpenError> {
        let tx = Producer::attach(self.open(Role::Producer)?, self.strategy)?;
        with_policy(tx, self.sync, Producer::set_sync_policy)
    }

    /// Opens the ring as its producer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Producer::create`] and [`Producer::open`].
    pub fn open_or_create_producer(self) -> Result<Producer, OpenError> {
        let ring = self.open_or_create(|b| b.open(Role::Producer), |b| b.create(Role::Producer))?;
        let tx = Producer::attach(ring, self.strategy)?;
        with_policy(tx, self.sync, Producer::set_sync_policy)
    }

    /// Creates the ring and attaches to no role: it waits, empty, for processes to open
    /// its roles (what `ipcring create` does).
    ///
    /// # Errors
    /// As the other `create_*` calls.
    pub fn create_detached(self) -> Result<(), OpenError> {
        let geo = Geometry::of(self.kind.capacity)?;
        self.create_detached_region::<Spsc>(&geo, |r| init(r, self.start))
    }

    /// Creates the ring and attaches as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::create`].
    pub fn create_consumer(self) -> Result<Consumer, OpenError> {
        Consumer::attach(self.create(Role::Consumer)?, self.strategy)
    }

    /// Opens the ring as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::open`].
    pub fn open_consumer(self) -> Result<Consumer, OpenError> {
        Consumer::attach(self.open(Role::Consumer)?, self.strategy)
    }

    /// Opens the ring as its consumer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Consumer::create`] and [`Consumer::open`].
    pub fn open_or_create_consumer(self) -> Result<Consumer, OpenError> {
        let ring = self.open_or_create(|b| b.open(Role::Consumer), |b| b.create(Role::Consumer))?;
        Consumer::attach(ring, self.strategy)
    }

    fn create(&self, role: Role) -> Result<Ring, OpenError> {
        let geo = Geometry::of(self.kind.capacity)?;
        let region = self.create_region::<Spsc>(&geo)?;
        init(&region, self.start);
        // Attach before READY, so that no opener can take our role first.
        let mut ring = Ring::attach(region, role, geo)?;
        ring.publish()?;
        Ok(ring)
    }

    fn open(&self, role: Role) -> Result<Ring, OpenError> {
        let (region, geo) = self.open_region::<Spsc>()?;
        Ring::attach(region, role, geo)
    }
}

/// Initialises the header of a new ring whose positions start at `start`: nothing has
/// been written, read or released before it.
pub(crate) fn init(region: &Region<SpscHeader>, start: u64) {
    let h = region.header();
    let slots = region.slots();
    // Relaxed: a segment's header is published by its READY store; a heap ring reaches
    // other threads only by being moved or cloned into them.
    h.read.0.pos.store(start, Ordering::Relaxed);
    for class in [PRODUCERS, CONSUMERS] {
        slots
            .get(class.first)
            .counters
            .0
            .mark
            .store(start, Ordering::Relaxed);
    }
    wait::prepare(&h.consumer_wait.0);
    wait::prepare(&h.producer_wait.0);
}

impl Producer {
    /// Creates the ring `name` with a data area of `capacity` bytes and attaches as its
    /// producer. See [`Builder`] for options.
    ///
    /// # Errors
    /// `InvalidName`, `InvalidCapacity`, `AlreadyExists`, `NoSpace`, `PermissionDenied`,
    /// `Io`.
    pub fn create(name: &str, capacity: usize) -> Result<Producer, OpenError> {
        Builder::new(name).capacity(capacity).create_producer()
    }

    /// Opens the existing ring `name` as its producer; continues after the last record
    /// that a previous producer committed.
    ///
    /// # Errors
    /// `NotFound`, `RoleTaken`, any validation error of the segment (`NotIpcring`,
    /// `VersionMismatch`, `Truncated`, `StillInitializing`...).
    pub fn open(name: &str) -> Result<Producer, OpenError> {
        Builder::new(name).open_producer()
    }
}

impl Consumer {
    /// Creates the ring `name` with a data area of `capacity` bytes and attaches as its
    /// consumer. See [`Builder`] for options.
    ///
    /// # Errors
    /// As [`Producer::create`].
    pub fn create(name: &str, capacity: usize) -> Result<Consumer, OpenError> {
        Builder::new(name).capacity(capacity).create_consumer()
    }

    /// Opens the existing ring `name` as its consumer; resumes after the last message a
    /// previous consumer released.
    ///
    /// # Errors
    /// As [`Producer::open`].
    pub fn open(name: &str) -> Result<Consumer, OpenError> {
        Builder::new(name).open_consumer()
    }
}
