//! Creating and opening MPMC queues: the kind's part of [`crate::Builder`], and the
//! shortcuts on the handles.

use super::layout::{Geometry, Mpmc};
use super::queue::{init, Queue};
use super::{Consumer, Producer};
use crate::builder::Cellular;
use crate::cells::Shape as Cells;
use crate::durability::with_policy;
use crate::error::OpenError;
use crate::role::Role;
use std::time::Duration;

/// Slots of [`Builder`] when none are given.
pub const DEFAULT_CAPACITY: usize = 1024;
/// Slot size of [`Builder`] when none is given, in bytes.
pub const DEFAULT_SLOT_SIZE: usize = 256;
/// Producer and consumer slots of [`Builder`] when none are given.
pub const DEFAULT_ROLE_SLOTS: usize = 16;

/// The MPMC part of a [`Builder`]: cells, their size, role slots, stall timeout.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    geo: Geometry,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            geo: Geometry {
                cells: Cells {
                    capacity: DEFAULT_CAPACITY,
                    slot_size: DEFAULT_SLOT_SIZE,
                    producers: DEFAULT_ROLE_SLOTS,
                    consumers: DEFAULT_ROLE_SLOTS,
                },
                stall: None,
            },
        }
    }
}

impl Cellular for Shape {
    fn set_capacity(&mut self, slots: usize) {
        self.geo.cells.capacity = slots;
    }

    fn set_slot_size(&mut self, bytes: usize) {
        self.geo.cells.slot_size = bytes;
    }
}

/// Options of an MPMC queue, and the six ways to attach to one. The options every kind
/// shares (mode, populate, wait strategy) are those of [`crate::Builder`].
///
/// ```
/// # let name = format!("doc-mpmc-builder-{}", std::process::id());
/// use ipcring::mpmc::Builder;
/// let mut web = Builder::new(&name)
///     .capacity(4096)          // slots, a power of two
///     .slot_size(512)          // bytes per message at most
///     .producers(8)            // producer processes at once, at most
///     .consumers(4)            // consumer processes at once, at most
///     .create_producer()?;
/// let mut worker = Builder::new(&name).open_consumer()?;
/// web.try_send(b"mail user 42")?;
/// assert_eq!(&*worker.read()?, b"mail user 42");
/// # drop((web, worker));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// How many producers may be attached at once when creating: 1 to 64.
    pub fn producers(mut self, n: usize) -> Builder {
        self.kind.geo.cells.producers = n;
        self
    }

    /// How many consumers may be attached at once when creating: 1 to 64.
    pub fn consumers(mut self, n: usize) -> Builder {
        self.kind.geo.cells.consumers = n;
        self
    }

    /// When creating: let consumers pass a claim that a *live* producer holds longer than
    /// `timeout` without committing (by default they wait for a live producer however
    /// long it takes, and pass only the claims of dead ones). The stalled producer's
    /// commit then fails with [`crate::SendError::Skipped`] and its message is never
    /// delivered; its slot stays out of use until it returns or dies.
    pub fn stall_timeout(mut self, timeout: Duration) -> Builder {
        self.kind.geo.stall = Some(timeout);
        self
    }

    /// Creates the queue and attaches as a producer.
    ///
    /// # Errors
    /// See [`Producer::create`].
    pub fn create_producer(self) -> Result<Producer, OpenError> {
        with_policy(
            Producer::attach(self.create(Role::Producer)?, self.strategy),
            self.sync,
            Producer::set_sync_policy,
        )
    }

    /// Opens the queue as a producer.
    ///
    /// # Errors
    /// See [`Producer::open`].
    pub fn open_producer(self) -> Result<Producer, OpenError> {
        with_policy(
            Producer::attach(self.open(Role::Producer)?, self.strategy),
            self.sync,
            Producer::set_sync_policy,
        )
    }

    /// Opens the queue as a producer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Producer::create`] and [`Producer::open`].
    pub fn open_or_create_producer(self) -> Result<Producer, OpenError> {
        let q = self.open_or_create(|b| b.open(Role::Producer), |b| b.create(Role::Producer))?;
        with_policy(
            Producer::attach(q, self.strategy),
            self.sync,
            Producer::set_sync_policy,
        )
    }

    /// Creates the queue and attaches to no role: it waits, empty, for processes to open
    /// its roles (what `ipcring create` does).
    ///
    /// # Errors
    /// As the other `create_*` calls.
    pub fn create_detached(self) -> Result<(), OpenError> {
        let geo = self.kind.geo.check()?;
        self.create_detached_region::<Mpmc>(&geo, |r| init(r, &geo, self.start))
    }

    /// Creates the queue and attaches as a consumer.
    ///
    /// # Errors
    /// See [`Consumer::create`].
    pub fn create_consumer(self) -> Result<Consumer, OpenError> {
        Ok(Consumer::attach(
            self.create(Role::Consumer)?,
            self.strategy,
        ))
    }

    /// Opens the queue as a consumer.
    ///
    /// # Errors
    /// See [`Consumer::open`].
    pub fn open_consumer(self) -> Result<Consumer, OpenError> {
        Ok(Consumer::attach(self.open(Role::Consumer)?, self.strategy))
    }

    /// Opens the queue as a consumer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Consumer::create`] and [`Consumer::open`].
    pub fn open_or_create_consumer(self) -> Result<Consumer, OpenError> {
        let q = self.open_or_create(|b| b.open(Role::Consumer), |b| b.create(Role::Consumer))?;
        Ok(Consumer::attach(q, self.strategy))
    }

    fn create(&self, role: Role) -> Result<Queue, OpenError> {
        let geo = self.kind.geo.check()?;
        let region = self.create_region::<Mpmc>(&geo)?;
        init(&region, &geo, self.start);
        // Attach before READY, so that no opener can take our slot first.
        let mut q = Queue::attach(region, role, geo)?;
        q.publish::<Mpmc>()?;
        Ok(q)
    }

    fn open(&self, role: Role) -> Result<Queue, OpenError> {
        let (region, geo) = self.open_region::<Mpmc>()?;
        Queue::attach(region, role, geo)
    }
}

impl Producer {
    /// Creates the queue `name` with `capacity` slots of `slot_size` bytes (and the
    /// default role slots: 16 producers, 16 consumers) and attaches as a producer. See
    /// [`Builder`] for options.
    ///
    /// # Errors
    /// `InvalidName`, `InvalidGeometry`, `AlreadyExists`, `NoSpace`, `PermissionDenied`,
    /// `Io`.
    pub fn create(name: &str, capacity: usize, slot_size: usize) -> Result<Producer, OpenError> {
        Builder::new(name)
            .capacity(capacity)
            .slot_size(slot_size)
            .create_producer()
    }

    /// Opens the existing queue `name` as a producer.
    ///
    /// # Errors
    /// `NotFound`, `RoleTaken` (every producer slot is held), any validation error of the
    /// segment (`NotIpcring`, `KindMismatch`, `VersionMismatch`, `Truncated`...).
    pub fn open(name: &str) -> Result<Producer, OpenError> {
        Builder::new(name).open_producer()
    }
}

impl Consumer {
    /// Creates the queue `name` with `capacity` slots of `slot_size` bytes and attaches
    /// as a consumer. See [`Builder`] for options.
    ///
    /// # Errors
    /// As [`Producer::create`].
    pub fn create(name: &str, capacity: usize, slot_size: usize) -> Result<Consumer, OpenError> {
        Builder::new(name)
            .capacity(capacity)
            .slot_size(slot_size)
            .create_consumer()
    }

    /// Opens the existing queue `name` as a consumer.
    ///
    /// # Errors
    /// As [`Producer::open`].
    pub fn open(name: &str) -> Result<Consumer, OpenError> {
        Builder::new(name).open_consumer()
    }
}
