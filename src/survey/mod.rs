//! Looking at rings from outside: what `ipcring list`, `inspect` and `watch` show.
//!
//! A survey maps a segment read-only and reads its header, its role slots and (for an SPSC
//! ring) the record headers between the consumer and the producer. It takes no role and
//! no lock: the holders of a ring cannot tell that somebody looks. Liveness is asked of the
//! kernel (`F_OFD_GETLK` on each slot's lock byte), which tests a lock without taking it.
//!
//! Everything read is a snapshot of memory that the ring's processes keep changing, and
//! that a peer may have scribbled over: values are reported as found, each validated
//! where it is used (the geometry as an opener validates it; positions only ever bound
//! loops), and a report is never used to decide anything about the ring's protocol.
//!
//! ```
//! # let name = format!("doc-survey-{}", std::process::id());
//! use ipcring::survey::{self, Holder, Kind};
//! let mut tx = ipcring::spsc::Producer::create(&name, 4096)?;
//! tx.send(b"hello")?;
//! let ring = survey::inspect(&name)?;
//! assert_eq!(ring.kind, Kind::Spsc);
//! assert_eq!(ring.messages, 1);
//! assert_eq!(ring.slots[0].holder, Holder::Alive);
//! assert_eq!(ring.slots[1].holder, Holder::Never);
//! # drop(tx);
//! # ipcring::unlink(&name)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod listing;
mod removal;
mod state;

pub use crate::layout::Kind;
pub use listing::{list, list_dir, Entry};
pub use removal::{collect_garbage, collect_garbage_in, remove_unused, remove_unused_file};
pub use removal::{Garbage, Reason, Removal};
pub use state::{BoardEntry, EntryState, EventCount};

use crate::anonymous::RingFd;
use crate::cells::Shape;
use crate::error::OpenError;
use crate::layout::Counters as SharedCounters;
use crate::namespace::Place;
use crate::region::Region;
use crate::role::Role;
use crate::roles::{Class, Slots};
use crate::segment::{Segment, Source, Spec};
use crate::sync::Ordering;
use rustix::fs::Stat;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a ring's capacity and fill count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes of a data area of variable-length records (SPSC).
    Bytes,
    /// Messages, one a slot (MPMC, broadcast).
    Messages,
    /// Entries of a table (a blackboard's entries, an event segment's ids).
    Entries,
}

/// A ring's geometry, fixed at create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Geometry {
    /// Size of the data area, in `unit`s.
    pub capacity: u64,
    /// What `capacity` counts.
    pub unit: Unit,
    /// Bytes of one slot (kinds of fixed-size slots).
    pub slot_size: Option<u64>,
    /// Largest message, in bytes.
    pub max_message: u64,
    /// Broadcast topics: whether publishers overwrite the oldest messages.
    pub lossy: Option<bool>,
    /// Lossless topics: how long a live subscriber may hold publishers up.
    pub max_lag: Option<Duration>,
    /// How long readers wait for a live writer's commit before they pass its claim.
    pub stall_timeout: Option<Duration>,
}

impl Geometry {
    /// The geometry of a ring of cells (an MPMC queue, a topic), before the kind adds its
    /// own options.
    pub(crate) fn of_cells(cells: &Shape, stall_timeout: Option<Duration>) -> Geometry {
        Geometry {
            capacity: cells.capacity as u64,
            unit: Unit::Messages,
            slot_size: Some(cells.slot_size as u64),
            max_message: cells.slot_size as u64,
            lossy: None,
            max_lag: None,
            stall_timeout,
        }
    }
}

impl Geometry {
    /// The geometry of a table of `n` entries (a blackboard's entries, an event
    /// segment's ids).
    pub(crate) fn of_entries(n: usize) -> Geometry {
        Geometry {
            capacity: n as u64,
            unit: Unit::Entries,
            slot_size: None,
            max_message: 0,
            lossy: None,
            max_lag: None,
            stall_timeout: None,
        }
    }
}

/// The two roles of a ring of cells, with the kind's names for them.
pub(crate) fn cell_roles(cells: &Shape, names: [&'static str; 2]) -> [(&'static str, Class); 2] {
    [
        (names[0], cells.class(Role::Producer)),
        (names[1], cells.class(Role::Consumer)),
    ]
}

/// A position of a ring, by name (`"tail"`, `"head"`, `"read"`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// What the position is.
    pub name: &'static str,
    /// Its value, as found.
    pub value: u64,
}

/// Who holds a role slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Nobody ever attached to the slot.
    Never,
    /// A holder attached and detached gracefully.
    Left,
    /// A live process holds it (the kernel says its lock is held).
    Alive,
    /// Its holder died without detaching (its lock is free, its flag still set).
    Dead,
}

/// The counters of a role slot, carried on from one holder to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Counters {
    /// Messages committed.
    pub sent: u64,
    /// Messages received (released after reading).
    pub received: u64,
    /// Non-blocking sends refused because the ring was full.
    pub rejected: u64,
    /// Futex wake calls made.
    pub wakeups: u64,
    /// Claims of dead (or stalled) writers turned into skips.
    pub skipped: u64,
    /// Messages of dead readers delivered again.
    pub redelivered: u64,
    /// The largest fill this holder saw.
    pub high_water: u64,
    /// Messages lost to being overtaken (lossy subscribers).
    pub missed: u64,
    /// Subscribers evicted (publishers), or times evicted (subscribers).
    pub evicted: u64,
    /// Payload bytes of the messages counted in `sent` (writers) or `received` (readers).
    pub bytes: u64,
}

impl Counters {
    fn read(c: &SharedCounters) -> Counters {
        // Relaxed: statistics, each counter on its own.
        let r = |a: &crate::sync::AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            sent: r(&c.sent),
            received: r(&c.received),
            rejected: r(&c.rejected),
            wakeups: r(&c.wakeups),
            skipped: r(&c.skipped),
            redelivered: r(&c.redelivered),
            high_water: r(&c.high_water),
            missed: r(&c.missed),
            evicted: r(&c.evicted),
            bytes: r(&c.bytes),
        }
    }
}

/// One role slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Slot {
    /// The role, as the kind names it (`"producer"`, `"subscriber"`...).
    pub role: &'static str,
    /// The slot's index among the ring's slots.
    pub index: usize,
    /// Attaches so far (0: never held).
    pub generation: u32,
    /// Who holds it.
    pub holder: Holder,
    /// Its counters.
    pub counters: Counters,
    /// Broadcast subscribers: messages published that the subscriber has not read yet.
    pub lag: Option<u64>,
}

/// The object behind a ring's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Object {
    /// Bytes.
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// When its creator gave it its final mode: when it became ready.
    pub changed: SystemTime,
}

impl Object {
    fn of(st: &Stat) -> Object {
        let since = Duration::new(st.st_ctime as u64, st.st_ctime_nsec as u32);
        Object {
            size: st.st_size as u64,
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            changed: UNIX_EPOCH + since,
        }
    }
}

/// What a survey found of a ring.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ring {
    /// The ring's name (without the `ipcring.` prefix of its object).
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// The ABI minor version of its creator.
    pub abi_minor: u32,
    /// A random word drawn when the ring was created (0 if its creator's ABI minor is 0):
    /// a ring removed and created again under the same name has another one.
    pub incarnation: u64,
    /// Whether a handle found it corrupted (no handle opens it any more).
    pub broken: bool,
    /// Its geometry.
    pub geometry: Geometry,
    /// What it holds now, in the geometry's unit.
    pub fill: u64,
    /// Messages it holds now.
    pub messages: u64,
    /// Its positions.
    pub positions: Vec<Position>,
    /// Its role slots, the first role's first.
    pub slots: Vec<Slot>,
    /// A blackboard's entries (empty for other kinds).
    pub entries: Vec<BoardEntry>,
    /// An event segment's counters, one an id (empty for other kinds).
    pub events: Vec<EventCount>,
    /// The object behind the name.
    pub object: Object,
    /// Device and inode of the object, for a remover that checks that the name still
    /// refers to it.
    id: (u64, u64),
}

impl Ring {
    /// The fill as a share of the capacity, from 0 to 1.
    pub fn fill_ratio(&self) -> f64 {
        self.fill as f64 / self.geometry.capacity.max(1) as f64
    }

    /// The slots of `role` (a name of [`Slot::role`]).
    pub fn slots_of<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a Slot> + 'a {
        self.slots.iter().filter(move |s| s.role == role)
    }

    /// Whether a live process holds any slot.
    pub fn in_use(&self) -> bool {
        self.slots.iter().any(|s| s.holder == Holder::Alive)
    }
}

/// What each kind tells a survey about itself.
pub(crate) trait Surveyed: Spec + Sized {
    /// The kind's two roles, their names and their slots.
    fn roles(g: &Self::Geometry) -> [(&'static str, Class); 2];
    /// The geometry as reported.
    fn geometry(g: &Self::Geometry) -> Geometry;
    /// Positions and fill as found now.
    fn now(region: &Region<Self::Header>, g: &Self::Geometry) -> Now;
}

/// What a kind found in a ring now.
#[derive(Debug, Default)]
pub(crate) struct Now {
    pub(crate) positions: Vec<Position>,
    /// In the geometry's unit.
    pub(crate) fill: u64,
    pub(crate) messages: u64,
    /// Messages each slot has still to read, for the kinds that track it (by slot index).
    pub(crate) lag: Vec<(usize, u64)>,
    /// The largest message, when the geometry alone does not tell it.
    pub(crate) max_message: Option<u64>,
    pub(crate) entries: Vec<BoardEntry>,
    pub(crate) events: Vec<EventCount>,
}

/// Reads the ring `name` read-only, whatever its kind.
///
/// # Errors
/// As an open: `NotFound`, `PermissionDenied`, `ForeignOwner`, `WorldWritable`,
/// `NotRegularFile`, `StillInitializing` (at once, without waiting), `NotIpcring`,
/// `VersionMismatch`, `LayoutMismatch`, `KindMismatch` (a kind this build does not know),
/// `Truncated`, `BadGeometry`, `HeaderSizeMismatch`, `Io`. A ring found corrupted is
/// read, and says so in [`Ring::broken`].
pub fn inspect(name: &str) -> Result<Ring, OpenError> {
    inspect_at(&Place::named(name)?, name)
}

/// Reads the file-backed ring at `path` (see [`crate::Builder::at`]) read-only, whatever
/// its kind; [`Ring::name`] is the path as given.
///
/// # Errors
/// As [`inspect`].
pub fn inspect_file(path: impl AsRef<Path>) -> Result<Ring, OpenError> {
    let path = path.as_ref();
    inspect_at(&Place::file(path)?, &path.display().to_string())
}

/// Reads the anonymous ring in the memfd `ring` (see [`crate::RingFd`]) read-only,
/// whatever its kind; [`Ring::name`] is `name`. A process may reach another's anonymous
/// ring through `/proc/PID/fd/N` (opened, the link followed, if the kernel lets it
/// inspect that process).
///
/// ```
/// use ipcring::{survey, RingFd};
/// let ring = RingFd::new("seen")?;
/// let mut tx = ipcring::spsc::Builder::fd(&ring).capacity(4096).create_producer()?;
/// tx.send(b"one")?;
/// let seen = survey::inspect_fd(&ring, "seen")?;
/// assert_eq!((seen.kind, seen.messages), (survey::Kind::Spsc, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`inspect`], with `NotSealed` for a descriptor that is not a sealed memfd.
pub fn inspect_fd(ring: &RingFd, name: &str) -> Result<Ring, OpenError> {
    inspect_source(&Source::Fd(ring.clone()), name)
}

fn inspect_at(place: &Place, name: &str) -> Result<Ring, OpenError> {
    inspect_source(&Source::Place(place.clone()), name)
}

fn inspect_source(place: &Source, name: &str) -> Result<Ring, OpenError> {
    use crate::blackboard::Blackboard;
    use crate::broadcast::Broadcast;
    use crate::event::Event;
    use crate::mpmc::Mpmc;
    use crate::spsc::Spsc;
    match read::<Spsc>(place, name) {
        Err(OpenError::KindMismatch { found, .. }) if found == Kind::Mpmc as u32 => {
            read::<Mpmc>(place, name)
        }
        Err(OpenError::KindMismatch { found, .. }) if found == Kind::Broadcast as u32 => {
            read::<Broadcast>(place, name)
        }
        Err(OpenError::KindMismatch { found, .. }) if found == Kind::Blackboard as u32 => {
            read::<Blackboard>(place, name)
        }
        Err(OpenError::KindMismatch { found, .. }) if found == Kind::Event as u32 => {
            read::<Event>(place, name)
        }
        other => other,
    }
}

fn read<S: Surveyed>(place: &Source, name: &str) -> Result<Ring, OpenError> {
    let (seg, geo) = Segment::open_read_only::<S>(place)?;
    let st = rustix::fs::fstat(seg.fd()).map_err(|e| OpenError::Io {
        op: "fstat",
        source: e.into(),
    })?;
    let region = Region::segment::<S>(seg, &geo);
    let now = S::now(&region, &geo);
    let slots = region.slots();
    let mut found = Vec::new();
    for (role, class) in S::roles(&geo) {
        for index in class.first..class.first + class.count {
            found.push(Slot {
                role,
                index,
                generation: generation(slots, index),
                holder: holder(slots, index),
                counters: Counters::read(&slots.get(index).counters.0),
                lag: now.lag.iter().find(|l| l.0 == index).map(|l| l.1),
            });
        }
    }
    let id = S::identity(region.header());
    Ok(Ring {
        name: name.to_owned(),
        kind: S::KIND,
        // Relaxed: ordered after the Acquire of READY in the open.
        abi_minor: id.abi_minor.load(Ordering::Relaxed),
        incarnation: region.incarnation(),
        broken: region.broken(),
        geometry: Geometry {
            max_message: now.max_message.unwrap_or(S::geometry(&geo).max_message),
            ..S::geometry(&geo)
        },
        fill: now.fill,
        messages: now.messages,
        positions: now.positions,
        slots: found,
        entries: now.entries,
        events: now.events,
        object: Object::of(&st),
        id: (st.st_dev, st.st_ino),
    })
}

fn generation(slots: Slots<'_>, index: usize) -> u32 {
    // Relaxed: a report.
    slots.get(index).state.0.generation.load(Ordering::Relaxed)
}

/// Who holds slot `index`: the kernel's lock says whether somebody does; the flag and the
/// generation tell a holder that left from one that died or never was.
fn holder(slots: Slots<'_>, index: usize) -> Holder {
    if slots.locked(index) {
        return Holder::Alive;
    }
    // Relaxed: a report; the lock above is the truth about liveness.
    let attached = slots.get(index).state.0.attached.load(Ordering::Relaxed) != 0;
    match (attached, generation(slots, index)) {
        (true, _) => Holder::Dead,
        (false, 0) => Holder::Never,
        (false, _) => Holder::Left,
    }
}
