//! The options that every kind of ring shares, and the one way to open or create.
//!
//! Each kind's `Builder` is this type with the kind's own options as `K` (for example
//! [`crate::spsc::Builder`] is `Builder<spsc::Shape>`): the setters below are written once,
//! the kind adds its geometry setters and its `create_*`/`open_*` calls.

use crate::anonymous::RingFd;
use crate::durability::SyncPolicy;
use crate::error::OpenError;
use crate::namespace::{self, Place};
use crate::region::Region;
use crate::segment::{CreateOptions, Segment, Source, Spec};
use crate::wait::WaitStrategy;
use std::path::{Path, PathBuf};

/// Options of a ring: where it lives and what every kind shares, plus the kind's own `K`.
///
/// A ring lives at a name ([`Builder::new`]: a POSIX shared-memory object, gone at
/// reboot), at a path on a file system ([`Builder::at`]: a file, whose committed
/// messages outlive every process and a reboot), or nowhere ([`Builder::fd`]: an
/// anonymous ring in a sealed memfd, reached only through its descriptor). Every place
/// gives the same handles, validated the same way.
#[derive(Debug, Clone)]
pub struct Builder<K> {
    target: Target,
    mode: u32,
    pub(crate) populate: bool,
    pub(crate) strategy: WaitStrategy,
    pub(crate) start: u64,
    pub(crate) kind: K,
    pub(crate) sync: SyncPolicy,
}

/// Where a builder's ring lives, as given (checked when the ring is created or opened).
#[derive(Debug, Clone)]
enum Target {
    Name(String),
    Path(PathBuf),
    Fd(RingFd),
}

impl<K: Default> Builder<K> {
    /// Options for the ring `name` (the shm object `/ipcring.<name>`, that is
    /// `/dev/shm/ipcring.<name>`).
    pub fn new(name: &str) -> Builder<K> {
        Builder::with_target(Target::Name(name.to_owned()))
    }

    /// Options for a file-backed ring: the regular file at `path`, on any file system
    /// with shared writable mappings (ext4, xfs, btrfs, tmpfs...). Its committed messages
    /// survive every process exiting or being killed (they are in the page cache, and
    /// written back by the kernel) and a clean reboot. Remove it with
    /// [`crate::remove_file_ring`].
    ///
    /// The file is created, opened, checked and locked as a named ring's object is: it
    /// must be a regular file (a symbolic link at `path` is refused), of this user or a
    /// group-mode file of one of its groups, and not writable by others. A relative path
    /// is taken against the current directory when the ring is created or opened.
    /// Directories above the file are followed and not checked: keep file rings in a
    /// directory that only their users may write to.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-at-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use ipcring::spsc::Builder;
    /// let path = dir.join("orders.ring");
    /// let mut tx = Builder::at(&path).capacity(4096).create_producer()?;
    /// tx.send(b"one")?;
    /// drop(tx);
    /// // Another process, or this one later: the message waits in the file.
    /// let mut rx = Builder::at(&path).open_consumer()?;
    /// let mut got = Vec::new();
    /// rx.recv_into(&mut got)?;
    /// assert_eq!(got, b"one");
    /// # drop(rx);
    /// ipcring::remove_file_ring(&path)?;
    /// # std::fs::remove_dir(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Durability
    ///
    /// Against a power loss or a kernel crash, the sending handles' `flush` (on
    /// `spsc::Producer`, `mpmc::Producer`, `broadcast::Publisher`, `blackboard::Writer`)
    /// writes the ring back and waits for the storage (`msync`, then `fdatasync`). When it
    /// returns, the storage holds the ring as it was at the call: if the machine dies
    /// before the ring changes again, every message committed before the call is found
    /// after the restart. If the ring changed meanwhile, the kernel may have written back
    /// some of the changed pages and not others, and records carry no checksum in this
    /// format: such a file may then give stale bytes in a message, lose or repeat some,
    /// or be found corrupted ([`crate::OpenError::Broken`] or a call that says so) —
    /// never anything unsafe. So `flush` makes a resting point durable (the end of a
    /// batch, a planned power-off); it is not a write-ahead log. It takes as long as the
    /// storage does (often milliseconds): call it after a batch, not after every message.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-flush-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("ledger.ring");
    /// let mut tx = ipcring::mpmc::Builder::at(&path).capacity(8).create_producer()?;
    /// tx.send(b"debit 10")?;
    /// tx.send(b"credit 10")?;
    /// tx.flush()?; // both are on disk now
    /// # drop(tx);
    /// # ipcring::remove_file_ring(&path)?;
    /// # std::fs::remove_dir(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A sending handle can also sync by itself, as its `flush` does, by a [`SyncPolicy`]
    /// ([`Builder::sync_policy`], or the handle's `set_sync_policy`):
    ///
    /// - [`SyncPolicy::Never`] (the default): only `flush` syncs.
    /// - [`SyncPolicy::Every`]`(n)`: the send, grant commit or `set` that commits the
    ///   `n`-th message since the last sync (or `flush`) syncs before it returns. Every
    ///   way of committing counts (a batch counts its messages and syncs once); a commit
    ///   costs the handle one subtraction until then, and the sync as long as `flush`.
    /// - [`SyncPolicy::Interval`]`(t)`: a thread of the handle (`ipcring-sync`) syncs at
    ///   most `t` after a commit (plus the time of the sync itself, and the scheduler's
    ///   delay), at most once every `t`, and never while nothing is committed: the first
    ///   commit after a quiet spell is synced at once. A commit tells the thread through
    ///   one flag; sends never wait for a sync. The thread holds the mapping only (not the
    ///   handle's descriptor, nor its role lock) and syncs with `msync`, which for a
    ///   shared file mapping is the file's `fdatasync` for that range.
    ///
    /// Dropping the handle (or changing its policy) syncs once what the policy had not
    /// synced yet, after stopping the thread. A sync of the policy that fails never fails
    /// the send that made it (the message is committed: sending it again would repeat
    /// it): the first failure is kept and returned by the next `flush` (or taken with the
    /// handle's `take_sync_error`), and the handle's `sync_stats` counts syncs done and
    /// failed.
    ///
    /// A sync walks the whole mapping but writes only the pages dirtied since their last
    /// write-back: a commit dirties the pages of its record and of the ring's counters, so
    /// a sync after a few messages writes a few pages, whatever the ring's size. Its cost
    /// is the storage's flush: milliseconds on a disk, so `Every(1)` limits a handle to a
    /// few hundred messages a second there (benchmarked in BENCHMARKS.md, "Durability").
    /// On tmpfs (a named ring's `/dev/shm`) there is nothing to write, and a policy costs
    /// a system call per sync.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-policy-at-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use ipcring::SyncPolicy;
    /// use std::time::Duration;
    /// let path = dir.join("journal.ring");
    /// let mut tx = ipcring::spsc::Builder::at(&path)
    ///     .sync_policy(SyncPolicy::Interval(Duration::from_millis(100)))
    ///     .create_producer()?;
    /// tx.send(b"entry")?; // on disk within about 100 ms, or when `tx` is dropped
    /// # drop(tx);
    /// # ipcring::remove_file_ring(&path)?;
    /// # std::fs::remove_dir(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(path: impl AsRef<Path>) -> Builder<K> {
        Builder::with_target(Target::Path(path.as_ref().to_owned()))
    }

    /// Options for the anonymous ring in the memfd `ring` ([`RingFd`]): `create_*` makes
    /// the ring in an empty memfd and seals it, `open_*` opens the ring in a memfd that
    /// another process (or this one) created, sent or inherited. Nothing but a holder of
    /// the descriptor can reach the ring, and nothing can truncate it once sealed, so no
    /// peer can make a mapping fault. [`Builder::mode`] does not apply (holding the
    /// descriptor is the permission).
    ///
    /// Each handle opens a description of the memfd of its own (through
    /// `/proc/self/fd`, which must be mounted), so that the descriptors passed around
    /// hold no role: a process that keeps one after its handles are gone does not look
    /// alive to its peers.
    ///
    /// ```
    /// use ipcring::{mpmc, RingFd};
    /// let ring = RingFd::new("work")?;
    /// let mut tx = mpmc::Builder::fd(&ring).capacity(64).slot_size(32).create_producer()?;
    /// // A child inherits `ring.inheritable()?`, or another process receives it with
    /// // `RingFd::recv`; here, a second handle of this process.
    /// let mut rx = mpmc::Builder::fd(&ring).open_consumer()?;
    /// tx.send(b"job")?;
    /// let mut buf = Vec::new();
    /// rx.recv_into(&mut buf)?;
    /// assert_eq!(buf, b"job");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fd(ring: &RingFd) -> Builder<K> {
        Builder::with_target(Target::Fd(ring.clone()))
    }

    fn with_target(target: Target) -> Builder<K> {
        Builder {
            target,
            mode: 0o600,
            populate: false,
            strategy: WaitStrategy::default(),
            start: 0,
            kind: K::default(),
            sync: SyncPolicy::Never,
        }
    }
}

/// The options of a kind whose rings are cells of a fixed size (MPMC queues, broadcast
/// topics), which [`Builder`] sets for it.
// Public in a private module: bounds the public setters below, implemented by the kinds.
#[allow(unreachable_pub)]
pub trait Cellular {
    /// Sets the number of cells.
    #[doc(hidden)]
    fn set_capacity(&mut self, slots: usize);
    /// Sets the largest message.
    #[doc(hidden)]
    fn set_slot_size(&mut self, bytes: usize);
}

impl<K: Cellular> Builder<K> {
    /// Number of slots (cells) when creating: a power of two from 1 to 2^24. Each holds
    /// one message.
    pub fn capacity(mut self, slots: usize) -> Builder<K> {
        self.kind.set_capacity(slots);
        self
    }

    /// Largest message when creating, in bytes: from 1 byte to 256 MiB. Each slot takes
    /// this much (padded to 8) plus 8 bytes.
    pub fn slot_size(mut self, bytes: usize) -> Builder<K> {
        self.kind.set_slot_size(bytes);
        self
    }
}

impl<K> Builder<K> {
    /// Where the ring lives, checked.
    fn source(&self) -> Result<Source, OpenError> {
        Ok(match &self.target {
            Target::Name(name) => Source::Place(Place::named(name)?),
            Target::Path(path) => Source::Place(Place::file(path)?),
            Target::Fd(ring) => Source::Fd(ring.clone()),
        })
    }

    /// Permission bits of a created segment: 0600 (the default), or 0600 with group bits
    /// (0660 lets the group in). The mode is exactly this, whatever the umask.
    ///
    /// Creating fails with [`OpenError::InvalidMode`] if the mode gives other users any
    /// access, lacks the owner's read and write, or has bits beyond 0777.
    ///
    /// ```
    /// # let name = format!("doc-mode-{}", std::process::id());
    /// use ipcring::{spsc::Builder, OpenError};
    /// let r = Builder::new(&name).mode(0o666).create_producer();
    /// assert!(matches!(r, Err(OpenError::InvalidMode { mode: 0o666, .. })));
    /// ```
    pub fn mode(mut self, mode: u32) -> Builder<K> {
        self.mode = mode;
        self
    }

    /// Pre-fault every page when mapping, on create and on open (`MAP_POPULATE`): no page
    /// fault on first use.
    pub fn populate(mut self, yes: bool) -> Builder<K> {
        self.populate = yes;
        self
    }

    /// How the handle's blocking calls wait.
    pub fn wait_strategy(mut self, strategy: WaitStrategy) -> Builder<K> {
        self.strategy = strategy;
        self
    }

    /// Test hook: start a created ring's positions at `pos` (rounded down to 8), for
    /// example near `u64::MAX` to exercise wrapping arithmetic.
    #[doc(hidden)]
    pub fn start_position(mut self, pos: u64) -> Builder<K> {
        self.start = pos & !7;
        self
    }

    /// Creates the segment of a ring of kind `S` and geometry `geo`, not yet published:
    /// the kind initialises it, attaches, then publishes it.
    pub(crate) fn create_region<S: Spec>(
        &self,
        geo: &S::Geometry,
    ) -> Result<Region<S::Header>, OpenError> {
        let opts = CreateOptions {
            mode: self.mode,
            populate: self.populate,
        };
        let seg = Segment::create::<S>(&self.source()?, geo, opts)?;
        Ok(Region::segment::<S>(seg, geo))
    }

    /// Creates the segment of a ring of kind `S` and geometry `geo`, initialises it with
    /// `init` and publishes it, attached to no role.
    pub(crate) fn create_detached_region<S: Spec>(
        &self,
        geo: &S::Geometry,
        init: impl FnOnce(&Region<S::Header>),
    ) -> Result<(), OpenError> {
        let mut region = self.create_region::<S>(geo)?;
        init(&region);
        region.publish::<S>()
    }

    /// Opens and validates the segment of a ring of kind `S`.
    pub(crate) fn open_region<S: Spec>(
        &self,
    ) -> Result<(Region<S::Header>, S::Geometry), OpenError> {
        let (seg, geo) = Segment::open::<S>(&self.source()?, self.populate)?;
        Ok((Region::segment::<S>(seg, &geo), geo))
    }

    /// Opens the ring, or creates it if it does not exist, or if what is at its name was
    /// left initialising by a creator that died (see [`namespace::reclaim_abandoned`]).
    /// Another process may create or remove the ring between the attempts, so they are
    /// retried a few times.
    pub(crate) fn open_or_create<T>(
        &self,
        open: impl Fn(&Self) -> Result<T, OpenError>,
        create: impl Fn(&Self) -> Result<T, OpenError>,
    ) -> Result<T, OpenError> {
        let source = self.source()?;
        let reclaim = || match &source {
            Source::Place(place) => namespace::reclaim_abandoned(place),
            Source::Fd(_) => Ok(false),
        };
        let mut last = None;
        for _ in 0..4 {
            reclaim()?;
            match open(self) {
                Err(OpenError::NotFound { .. }) => {}
                // Its creator may have died while we waited: if so, the name is free now.
                Err(e @ OpenError::StillInitializing { .. }) => {
                    if !reclaim()? {
                        return Err(e);
                    }
                }
                other => return other,
            }
            match create(self) {
                Err(e @ OpenError::AlreadyExists { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.expect("the loop ran"))
    }

    /// When the sending handle made by this builder (`spsc::Producer`, `mpmc::Producer`,
    /// `broadcast::Publisher`, `blackboard::Writer`) writes the ring back to its file by
    /// itself: [`SyncPolicy::Never`] by default. Receivers ignore it. What each policy
    /// does and costs is in [`Builder::at`] ("Durability").
    ///
    /// Making the handle fails with [`OpenError::Io`] (`op` "spawn") if the thread of an
    /// [`SyncPolicy::Interval`] cannot be started.
    pub fn sync_policy(mut self, policy: SyncPolicy) -> Builder<K> {
        self.sync = policy;
        self
    }
}
