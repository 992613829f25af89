//! Creating and opening event segments: the kind's part of [`crate::Builder`], and the
//! shortcuts on the handles.

use super::layout::{Event, Geometry};
use super::shared::{init, Events};
use super::{Listener, Notifier};
use crate::error::OpenError;
use crate::role::Role;

/// Event ids of [`Builder`] when none are given.
pub const DEFAULT_IDS: usize = 64;
/// Notifier and listener slots of [`Builder`] when none are given.
pub const DEFAULT_ROLE_SLOTS: usize = 16;

/// The event part of a [`Builder`]: ids and role slots.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    geo: Geometry,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            geo: Geometry {
                ids: DEFAULT_IDS,
                notifiers: DEFAULT_ROLE_SLOTS,
                listeners: DEFAULT_ROLE_SLOTS,
            },
        }
    }
}

/// Options of an event segment, and the seven ways to attach to one. The options every
/// kind shares (mode, populate, wait strategy) are those of [`crate::Builder`].
///
/// ```
/// # let name = format!("doc-event-builder-{}", std::process::id());
/// use ipcring::event::Builder;
/// let mut rx = Builder::new(&name)
///     .ids(256)              // event ids 0 to 255
///     .notifiers(8)          // notifier handles at once, at most
///     .listeners(4)          // listener handles at once, at most
///     .create_listener()?;
/// let mut tx = Builder::new(&name).open_notifier()?;
/// tx.notify(200)?;
/// assert_eq!(rx.wait()?.count(200), 1);
/// # drop((rx, tx));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// How many event ids when creating: 1 to 4096 (ids are 0 to `n - 1`).
    pub fn ids(mut self, n: usize) -> Builder {
        self.kind.geo.ids = n;
        self
    }

    /// How many notifiers may be attached at once when creating: 1 to 64.
    pub fn notifiers(mut self, n: usize) -> Builder {
        self.kind.geo.notifiers = n;
        self
    }

    /// How many listeners may be attached at once when creating: 1 to 64.
    pub fn listeners(mut self, n: usize) -> Builder {
        self.kind.geo.listeners = n;
        self
    }

    /// Creates the segment and attaches as a notifier.
    ///
    /// # Errors
    /// See [`Notifier::create`].
    pub fn create_notifier(self) -> Result<Notifier, OpenError> {
        Ok(Notifier::attach(self.create(Role::Producer)?))
    }

    /// Opens the segment as a notifier.
    ///
    /// # Errors
    /// See [`Notifier::open`].
    pub fn open_notifier(self) -> Result<Notifier, OpenError> {
        Ok(Notifier::attach(self.open(Role::Producer)?))
    }

    /// Opens the segment as a notifier, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Notifier::create`] and [`Notifier::open`].
    pub fn open_or_create_notifier(self) -> Result<Notifier, OpenError> {
        let ev = self.open_or_create(|b| b.open(Role::Producer), |b| b.create(Role::Producer))?;
        Ok(Notifier::attach(ev))
    }

    /// Creates the segment and attaches as a listener.
    ///
    /// # Errors
    /// See [`Listener::create`].
    pub fn create_listener(self) -> Result<Listener, OpenError> {
        Ok(Listener::attach(
            self.create(Role::Consumer)?,
            self.strategy,
        ))
    }

    /// Opens the segment as a listener.
    ///
    /// # Errors
    /// See [`Listener::open`].
    pub fn open_listener(self) -> Result<Listener, OpenError> {
        Ok(Listener::attach(self.open(Role::Consumer)?, self.strategy))
    }

    /// Opens the segment as a listener, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Listener::create`] and [`Listener::open`].
    pub fn open_or_create_listener(self) -> Result<Listener, OpenError> {
        let ev = self.open_or_create(|b| b.open(Role::Consumer), |b| b.create(Role::Consumer))?;
        Ok(Listener::attach(ev, self.strategy))
    }

    /// Creates the segment and attaches to no role: it waits for processes to open its
    /// roles (what `ipcring create` does).
    ///
    /// # Errors
    /// As the other `create_*` calls.
    pub fn create_detached(self) -> Result<(), OpenError> {
        let geo = self.kind.geo.check()?;
        self.create_detached_region::<Event>(&geo, |r| init(r, &geo, self.start))
    }

    fn create(&self, role: Role) -> Result<Events, OpenError> {
        let geo = self.kind.geo.check()?;
        let region = self.create_region::<Event>(&geo)?;
        init(&region, &geo, self.start);
        // Attach before READY, so that no opener can take our slot first.
        let mut ev = Events::attach(region, role, geo)?;
        ev.publish()?;
        Ok(ev)
    }

    fn open(&self, role: Role) -> Result<Events, OpenError> {
        let (region, geo) = self.open_region::<Event>()?;
        Events::attach(region, role, geo)
    }
}

impl Notifier {
    /// Creates the event segment `name` with `ids` event ids (0 to `ids - 1`; and the
    /// default role slots: 16 notifiers, 16 listeners) and attaches as a notifier. See
    /// [`Builder`] for options.
    ///
    /// # Errors
    /// `InvalidName`, `InvalidGeometry` (`ids` not from 1 to 4096), `AlreadyExists`,
    /// `NoSpace`, `PermissionDenied`, `Io`.
    pub fn create(name: &str, ids: usize) -> Result<Notifier, OpenError> {
        Builder::new(name).ids(ids).create_notifier()
    }

    /// Opens the existing event segment `name` as a notifier.
    ///
    /// # Errors
    /// `NotFound`, `RoleTaken` (every notifier slot is held), any validation error of the
    /// segment (`NotIpcring`, `KindMismatch`, `VersionMismatch`, `BadGeometry`,
    /// `Truncated`...).
    pub fn open(name: &str) -> Result<Notifier, OpenError> {
        Builder::new(name).open_notifier()
    }
}

impl Listener {
    /// Creates the event segment `name` with `ids` event ids and attaches as a listener.
    /// See [`Builder`] for options.
    ///
    /// # Errors
    /// As [`Notifier::create`].
    pub fn create(name: &str, ids: usize) -> Result<Listener, OpenError> {
        Builder::new(name).ids(ids).create_listener()
    }

    /// Opens the existing event segment `name` as a listener.
    ///
    /// # Errors
    /// As [`Notifier::open`].
    pub fn open(name: &str) -> Result<Listener, OpenError> {
        Builder::new(name).open_listener()
    }
}
