//! Creating and opening broadcast topics: the kind's part of [`crate::Builder`], and the
//! shortcuts on the handles.

use super::layout::{Broadcast, Geometry};
use super::topic::{init, Join, Topic};
use super::{Publisher, Subscriber};
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
/// Publisher and subscriber slots of [`Builder`] when none are given.
pub const DEFAULT_ROLE_SLOTS: usize = 16;

/// The broadcast part of a [`Builder`]: cells, their size, role slots, mode, and where a
/// subscriber joins.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    geo: Geometry,
    join: Join,
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
                lossy: false,
                max_lag: None,
                start: 0,
                stall: None,
            },
            join: Join::Next,
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

/// Options of a broadcast topic, and the six ways to attach to one. The options every kind
/// shares (mode, populate, wait strategy) are those of [`crate::Builder`].
///
/// ```
/// # let name = format!("doc-broadcast-builder-{}", std::process::id());
/// use ipcring::broadcast::Builder;
/// let mut telemetry = Builder::new(&name)
///     .capacity(4096)          // slots: the messages the topic holds, a power of two
///     .slot_size(128)          // bytes per message at most
///     .max_subscribers(8)      // subscribers attached at once, at most
///     .lossy(true)             // overwrite the oldest rather than wait
///     .create_publisher()?;
/// let mut dashboard = Builder::new(&name).open_subscriber()?;
/// telemetry.send(b"cpu 42%")?;
/// let mut buf = Vec::new();
/// dashboard.recv_into(&mut buf)?;
/// assert_eq!(buf, b"cpu 42%");
/// # drop((telemetry, dashboard));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// How many publishers may be attached at once when creating: 1 to 64.
    pub fn publishers(mut self, n: usize) -> Builder {
        self.kind.geo.cells.producers = n;
        self
    }

    /// How many subscribers may be attached at once when creating: 1 to 64. One more
    /// gets [`OpenError::RoleTaken`].
    pub fn max_subscribers(mut self, n: usize) -> Builder {
        self.kind.geo.cells.consumers = n;
        self
    }

    /// When creating: `true` makes a lossy topic, whose publishers never wait and
    /// overwrite the oldest messages (a subscriber that falls a lap behind gets
    /// [`crate::RecvError::Lagged`]); `false` (the default) a lossless one, whose
    /// publishers wait for the slowest live subscriber. Fixed for the topic's life.
    pub fn lossy(mut self, yes: bool) -> Builder {
        self.kind.geo.lossy = yes;
        self
    }

    /// When creating a lossless topic: evict a live subscriber that keeps a publisher
    /// waiting on a full topic for `lag` (by default publishers wait for a live
    /// subscriber however long it takes; dead ones are always evicted). The evicted
    /// subscriber's next receive returns [`crate::RecvError::Evicted`]. Ignored by lossy
    /// topics.
    pub fn max_lag(mut self, lag: Duration) -> Builder {
        self.kind.geo.max_lag = Some(lag);
        self
    }

    /// When creating: let subscribers pass a claim that a *live* publisher holds longer
    /// than `timeout` without committing (by default they wait for a live publisher
    /// however long it takes, and pass only the claims of dead ones). The stalled
    /// publisher's commit then fails with [`crate::SendError::Skipped`] and its message is
    /// never delivered; its slot stays out of use until it returns or dies.
    pub fn stall_timeout(mut self, timeout: Duration) -> Builder {
        self.kind.geo.stall = Some(timeout);
        self
    }

    /// For a subscriber: start at the oldest message the topic still holds, rather than
    /// at the next one published (the default).
    pub fn from_oldest(mut self, yes: bool) -> Builder {
        self.kind.join = if yes { Join::Oldest } else { Join::Next };
        self
    }

    /// Creates the topic and attaches as a publisher.
    ///
    /// # Errors
    /// See [`Publisher::create`].
    pub fn create_publisher(self) -> Result<Publisher, OpenError> {
        with_policy(
            Publisher::attach(self.create(Role::Producer)?, self.strategy),
            self.sync,
            Publisher::set_sync_policy,
        )
    }

    /// Opens the topic as a publisher.
    ///
    /// # Errors
    /// See [`Publisher::open`].
    pub fn open_publisher(self) -> Result<Publisher, OpenError> {
        with_policy(
            Publisher::attach(self.open(Role::Producer)?, self.strategy),
            self.sync,
            Publisher::set_sync_policy,
        )
    }

    /// Opens the topic as a publisher, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Publisher::create`] and [`Publisher::open`].
    pub fn open_or_create_publisher(self) -> Result<Publisher, OpenError> {
        let t = self.open_or_create(|b| b.open(Role::Producer), |b| b.create(Role::Producer))?;
        with_policy(
            Publisher::attach(t, self.strategy),
            self.sync,
            Publisher::set_sync_policy,
        )
    }

    /// Creates the topic and attaches to no role: it waits, empty, for processes to open
    /// its roles (what `ipcring create` does).
    ///
    /// # Errors
    /// As the other `create_*` calls.
    pub fn create_detached(self) -> Result<(), OpenError> {
        let geo = self.geometry()?;
        self.create_detached_region::<Broadcast>(&geo, |r| init(r, &geo))
    }

    /// Creates the topic and attaches as a subscriber.
    ///
    /// # Errors
    /// See [`Subscriber::create`].
    pub fn create_subscriber(self) -> Result<Subscriber, OpenError> {
        let t = self.create(Role::Consumer)?;
        Ok(Subscriber::attach(t, self.strategy, self.kind.join))
    }

    /// Opens the topic as a subscriber.
    ///
    /// # Errors
    /// See [`Subscriber::open`].
    pub fn open_subscriber(self) -> Result<Subscriber, OpenError> {
        let t = self.open(Role::Consumer)?;
        Ok(Subscriber::attach(t, self.strategy, self.kind.join))
    }

    /// Opens the topic as a subscriber, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Subscriber::create`] and [`Subscriber::open`].
    pub fn open_or_create_subscriber(self) -> Result<Subscriber, OpenError> {
        let t = self.open_or_create(|b| b.open(Role::Consumer), |b| b.create(Role::Consumer))?;
        Ok(Subscriber::attach(t, self.strategy, self.kind.join))
    }

    /// The geometry of a topic to create, checked.
    fn geometry(&self) -> Result<Geometry, OpenError> {
        Geometry {
            start: self.start,
            ..self.kind.geo
        }
        .check()
    }

    fn create(&self, role: Role) -> Result<Topic, OpenError> {
        let geo = self.geometry()?;
        let region = self.create_region::<Broadcast>(&geo)?;
        init(&region, &geo);
        // Attach before READY, so that no opener can take our slot first.
        let mut t = Topic::attach(region, role, geo)?;
        t.publish::<Broadcast>()?;
        Ok(t)
    }

    fn open(&self, role: Role) -> Result<Topic, OpenError> {
        let (region, geo) = self.open_region::<Broadcast>()?;
        Topic::attach(region, role, geo)
    }
}

impl Publisher {
    /// Creates the lossless topic `name` with `capacity` slots of `slot_size` bytes (and
    /// the default role slots: 16 publishers, 16 subscribers) and attaches as a
    /// publisher. See [`Builder`] for options.
    ///
    /// # Errors
    /// `InvalidName`, `InvalidGeometry`, `AlreadyExists`, `NoSpace`, `PermissionDenied`,
    /// `Io`.
    pub fn create(name: &str, capacity: usize, slot_size: usize) -> Result<Publisher, OpenError> {
        Builder::new(name)
            .capacity(capacity)
            .slot_size(slot_size)
            .create_publisher()
    }

    /// Opens the existing topic `name` as a publisher.
    ///
    /// # Errors
    /// `NotFound`, `RoleTaken` (every publisher slot is held), any validation error of the
    /// segment (`NotIpcring`, `KindMismatch`, `VersionMismatch`, `Truncated`...).
    pub fn open(name: &str) -> Result<Publisher, OpenError> {
        Builder::new(name).open_publisher()
    }
}

impl Subscriber {
    /// Creates the lossless topic `name` with `capacity` slots of `slot_size` bytes and
    /// attaches as a subscriber. See [`Builder`] for options.
    ///
    /// # Errors
    /// As [`Publisher::create`].
    pub fn create(name: &str, capacity: usize, slot_size: usize) -> Result<Subscriber, OpenError> {
        Builder::new(name)
            .capacity(capacity)
            .slot_size(slot_size)
            .create_subscriber()
    }

    /// Opens the existing topic `name` as a subscriber, at the next message published.
    ///
    /// # Errors
    /// As [`Publisher::open`] (`RoleTaken`: the topic has its `max_subscribers`).
    pub fn open(name: &str) -> Result<Subscriber, OpenError> {
        Builder::new(name).open_subscriber()
    }
}
