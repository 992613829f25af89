//! Shared-memory segments: create (exclusive), open (validated).
//!
//! A segment's object is a file: ring `foo`'s POSIX shared-memory object `/ipcring.foo`
//! (`/dev/shm/ipcring.foo` on Linux), a file-backed ring's file ([`crate::namespace`] says
//! how both are opened, trusted and removed), or an anonymous ring's memfd
//! ([`crate::anonymous`]). The creator of a named or file ring makes it with
//! `O_CREAT|O_EXCL`, takes its object lock and gives it mode 0200 (write-only: other
//! openers see it is not ready); an anonymous ring's creator takes the lock of an empty
//! memfd. Then it `fallocate`s the whole size (so a full `/dev/shm` or disk fails here
//! with `NoSpace`, never later with SIGBUS), writes the header, publishes
//! `state = READY`, `fchmod`s to the final mode (or seals the memfd), and only then
//! releases the lock. An opener waits a bounded time while the object says initialising,
//! checks that it may trust the object, validates every identity field and the object's
//! size, and only then maps the whole segment.

use crate::anonymous::{self, RingFd};
use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, SLOT_SIZE};
use crate::mapping::{self, Access, Mapping};
use crate::namespace::{self, map_errno, Place};
use crate::sync::Ordering;
use crate::time::Deadline;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// How long `open` waits for a creator to finish initialising.
pub(crate) const OPEN_WAIT: Duration = Duration::from_secs(2);

/// What a kind of ring tells the segment about itself. The segment module knows no kind:
/// it writes and validates the identity line, and asks the kind for the rest.
pub(crate) trait Spec {
    /// The kind's fixed header: [`Identity`] on its first line, the kind's geometry on
    /// lines of its own, a whole number of lines. The role slots follow it.
    type Header: Default + Sync;
    /// Private copies of the kind's geometry (capacity, slot counts...).
    type Geometry: Copy;
    /// The `kind` word of the identity line.
    const KIND: Kind;
    /// The hash of the kind's layout (see [`layout::hash`]).
    const LAYOUT_HASH: u64;
    /// The identity line of a header.
    fn identity(h: &Self::Header) -> &Identity;
    /// How many role slots a ring of this geometry has.
    fn slots(g: &Self::Geometry) -> usize;
    /// Bytes of its data area.
    fn data_len(g: &Self::Geometry) -> usize;
    /// Writes the geometry into a header being created (published by READY).
    fn store(h: &Self::Header, g: &Self::Geometry);
    /// Reads and validates the geometry of a header that any process may have written.
    ///
    /// # Errors
    /// `BadGeometry` for a value that this kind cannot have.
    fn load(h: &Self::Header) -> Result<Self::Geometry, OpenError>;
}

/// Bytes before the data area of a ring of geometry `g`: header and role slots.
pub(crate) fn header_size<S: Spec>(g: &S::Geometry) -> usize {
    core::mem::size_of::<S::Header>() + S::slots(g) * SLOT_SIZE
}

/// Bytes of a whole segment of geometry `g`.
fn total_size<S: Spec>(g: &S::Geometry) -> usize {
    header_size::<S>(g) + S::data_len(g)
}

/// Where a segment's object is.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// At a name or a path.
    Place(Place),
    /// In a memfd.
    Fd(RingFd),
}

impl Source {
    /// How errors name the ring.
    pub(crate) fn label(&self) -> String {
        match self {
            Source::Place(place) => place.label().to_owned(),
            Source::Fd(ring) => ring.label(),
        }
    }
}

/// Options of a segment's creation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreateOptions {
    /// Final permission bits (0600 by default; not used for a memfd).
    pub(crate) mode: u32,
    /// Pre-fault every page at map time (`MAP_POPULATE`).
    pub(crate) populate: bool,
}

/// A mapped segment, its own open file description, and a second description for its role
/// locks.
///
/// The locks need a description of their own because a mapping holds a reference to the
/// description it was made from, and the kernel drops a description's OFD locks only
/// when the last reference goes: a helper thread that keeps the mapping a moment longer
/// (see [`Segment::keep`]) would keep the role too, and a new handle of this process
/// could not take it. The locks' description is referenced by its descriptor alone, so
/// the role is free as soon as the handle is dropped.
/// Unmapped when dropped; the name stays until [`namespace::unlink`] — except for a
/// segment that this handle created and never published, whose object is removed again
/// on drop.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Shared with whoever keeps the memory mapped for a while after the handle (see
    /// [`Segment::keep`]).
    map: Arc<Mapping>,
    object: Object,
    /// The description of the role locks: write-only (what a write lock needs, and all
    /// that mode 0200 leaves a creator); the object's own if it cannot be opened anew
    /// (no `/proc`), and for a read-only survey, which takes no lock.
    locks: Option<OwnedFd>,
}

/// The descriptor of a segment's object and, from create to publish, what it takes to
/// remove the object again.
#[derive(Debug)]
struct Object {
    fd: OwnedFd,
    /// Set between `create` and `publish` (while we hold the object lock): the object to
    /// remove if we never publish it.
    unpublished: Option<Made>,
}

/// An object this handle created and has not published yet.
#[derive(Debug)]
enum Made {
    /// At a place, with its final mode.
    Place { place: Place, mode: u32 },
    /// In a memfd.
    Memfd,
}

impl Drop for Object {
    fn drop(&mut self) {
        match &self.unpublished {
            // We hold the object lock: removed only if the name still refers to our
            // object, so that we never remove somebody else's segment.
            Some(Made::Place { place, .. }) => {
                let _ = namespace::remove(place, self.fd.as_fd());
            }
            Some(Made::Memfd) => anonymous::unmake(self.fd.as_fd()),
            None => {}
        }
    }
}

fn io_err(op: &'static str) -> impl Fn(Errno) -> OpenError {
    move |e| OpenError::Io {
        op,
        source: e.into(),
    }
}

impl Segment {
    /// Creates the segment at `source` exclusively for geometry `geo` and writes its
    /// identity and geometry. The segment is not ready yet: the caller initialises the rest
    /// of its header (and takes its role lock, so that no opener can take it first), then
    /// calls [`Segment::publish`]. Dropped before that, it removes the half-made object (or
    /// empties the memfd).
    pub(crate) fn create<S: Spec>(
        source: &Source,
        geo: &S::Geometry,
        opts: CreateOptions,
    ) -> Result<Segment, OpenError> {
        // From here on, a failure drops `object`, which removes it.
        let object = match source {
            Source::Place(place) => {
                namespace::check_mode(opts.mode)?;
                Object {
                    fd: namespace::claim(place)?,
                    unpublished: Some(Made::Place {
                        place: place.clone(),
                        mode: opts.mode,
                    }),
                }
            }
            Source::Fd(ring) => Object {
                fd: anonymous::claim(ring)?,
                unpublished: Some(Made::Memfd),
            },
        };
        let fd = object.fd.as_fd();
        let total = total_size::<S>(geo);
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::CreateBeforeSize);
        allocate(fd, total, source)?;
        let seg = Segment {
            map: Arc::new(Mapping::new(fd, total, opts.populate, Access::ReadWrite)?),
            locks: anonymous::reopen(fd, OFlags::WRONLY).ok(),
            object,
        };
        let h = seg.header::<S>();
        let id = S::identity(h);
        // Relaxed: these stores are published by the Release store of `state` in `publish`.
        id.magic.store(layout::MAGIC, Ordering::Relaxed);
        id.abi_major.store(layout::ABI_MAJOR, Ordering::Relaxed);
        id.abi_minor.store(layout::ABI_MINOR, Ordering::Relaxed);
        id.layout_hash.store(S::LAYOUT_HASH, Ordering::Relaxed);
        id.kind.store(S::KIND as u32, Ordering::Relaxed);
        id.header_size
            .store(header_size::<S>(geo) as u64, Ordering::Relaxed);
        id.total_size.store(total as u64, Ordering::Relaxed);
        id.incarnation.store(incarnation()?, Ordering::Relaxed);
        S::store(h, geo);
        Ok(seg)
    }

    /// Makes a created segment ready: publishes `state = READY`, gives the object its
    /// final mode, then releases the object lock. A no-op for an opened segment.
    pub(crate) fn publish(&mut self, identity: &Identity) -> Result<(), OpenError> {
        let Some(made) = &self.object.unpublished else {
            return Ok(());
        };
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::CreateBeforePublish);
        // SYNC(ready): pairs with the Acquire load of `state` in `validate`.
        identity.state.store(layout::STATE_READY, Ordering::Release);
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::CreateBeforeMode);
        match made {
            Made::Place { mode, .. } => {
                rustix::fs::fchmod(&self.object.fd, Mode::from_raw_mode(*mode))
                    .map_err(io_err("fchmod"))?;
            }
            Made::Memfd => anonymous::seal(self.object.fd.as_fd())?,
        }
        // Published: the object stays, and removers may take its lock.
        self.object.unpublished = None;
        namespace::unlock(self.object.fd.as_fd());
        Ok(())
    }

    /// Opens the segment at `source`, waits (bounded) for it to be ready, validates it as
    /// a ring of kind `S` and maps it whole. Returns the geometry found.
    pub(crate) fn open<S: Spec>(
        source: &Source,
        populate: bool,
    ) -> Result<(Segment, S::Geometry), OpenError> {
        let deadline = Deadline::after(OPEN_WAIT);
        loop {
            match Self::try_open::<S>(source, populate, Access::ReadWrite) {
                Err(OpenError::StillInitializing { .. }) if !deadline.passed() => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                // A memfd's creator seals it within moments of sizing it, never handing
                // it out before: one unsealed for this long was never sealed.
                Err(OpenError::StillInitializing { .. }) if matches!(source, Source::Fd(_)) => {
                    return Err(OpenError::NotSealed {
                        name: source.label(),
                    })
                }
                Err(OpenError::StillInitializing { .. }) => {
                    return Err(OpenError::StillInitializing { waited: OPEN_WAIT })
                }
                other => return other,
            }
        }
    }

    /// Opens the segment at `place` for reading only, as a ring of kind `S`, without waiting
    /// for a creator: `StillInitializing` at once if one is at work. A ring that a handle
    /// found corrupted opens too (its identity's `state` says so).
    pub(crate) fn open_read_only<S: Spec>(
        source: &Source,
    ) -> Result<(Segment, S::Geometry), OpenError> {
        Self::try_open::<S>(source, false, Access::ReadOnly)
    }

    fn try_open<S: Spec>(
        source: &Source,
        populate: bool,
        access: Access,
    ) -> Result<(Segment, S::Geometry), OpenError> {
        let fd = match source {
            Source::Place(place) => open_place(place, access)?,
            Source::Fd(ring) => anonymous::open(ring, access.flags())?,
        };
        let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
        let size = st.st_size as u64;
        let fixed = core::mem::size_of::<S::Header>();
        // On hugetlbfs only whole huge pages below the size can be touched: a size that is
        // not a multiple of them counts only its whole pages.
        let page = mapping::page_of(fd.as_fd())? as u64;
        let usable = if page > rustix::param::page_size() as u64 {
            size - size % page
        } else {
            size
        };
        if usable < fixed as u64 {
            return Err(OpenError::Truncated {
                size: usable,
                expected: fixed as u64,
            });
        }
        // Map the fixed header alone first: nothing beyond the object's end is touched.
        let probe = Mapping::new(fd.as_fd(), fixed, false, Access::ReadOnly)?;
        // SAFETY: the probe maps the whole fixed header and lives until the end of this
        // function; the header is made of atomics, valid for any bit pattern.
        let h = unsafe { &*probe.base().as_ptr().cast::<S::Header>() };
        let geo = validate::<S>(h, usable, access)?;
        drop(probe);
        let map = Arc::new(Mapping::new(
            fd.as_fd(),
            total_size::<S>(&geo),
            populate,
            access,
        )?);
        let locks = match access {
            Access::ReadWrite => anonymous::reopen(fd.as_fd(), OFlags::WRONLY).ok(),
            Access::ReadOnly => None,
        };
        let seg = Segment {
            map,
            locks,
            object: Object {
                fd,
                unpublished: None,
            },
        };
        Ok((seg, geo))
    }

    /// The kind's header at the start of the mapping.
    pub(crate) fn header<S: Spec>(&self) -> &S::Header {
        // SAFETY: a segment of kind `S` maps at least the fixed header (checked at create
        // and open), page aligned; the header is made of atomics, valid for any bit
        // pattern, and lives as long as `self`.
        unsafe { &*self.map.base().as_ptr().cast::<S::Header>() }
    }

    /// Start of the mapping.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.map.base()
    }

    /// Length of the mapping.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Keeps the memory mapped, not the role locks (see [`Segment`]): for a helper
    /// thread that watches futex words in it after the handle may have gone.
    #[cfg(not(ipcring_loom))]
    pub(crate) fn keep(&self) -> Arc<Mapping> {
        self.map.clone()
    }

    /// The descriptor of the role locks.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.locks.as_ref().unwrap_or(&self.object.fd).as_fd()
    }

    /// Writes the mapping back to the object's file and waits until its storage has it:
    /// `msync(MS_SYNC)` of the whole mapping, then `fdatasync` (which also writes what
    /// the file system needs to find the data again). Cheap on tmpfs (a named ring's
    /// `/dev/shm`), where there is nothing to write.
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        self.map.sync()?;
        rustix::fs::fdatasync(&self.object.fd)?;
        Ok(())
    }
}

/// Opens the object at `place` with `access` and checks that it may be trusted and is
/// ready (its creator gave it its final mode).
fn open_place(place: &Place, access: Access) -> Result<OwnedFd, OpenError> {
    let name = place.label();
    let initializing = OpenError::StillInitializing {
        waited: Duration::ZERO,
    };
    let fd = match namespace::open(place, access.flags()) {
        Ok(fd) => fd,
        Err(Errno::ACCESS) => {
            // Mode 0200 keeps out everybody but root while the creator initialises: wait
            // for it. (Nothing of the object is used before it is opened and checked.)
            return match namespace::lstat(place) {
                Ok(st) if namespace::is_regular(&st) && namespace::initialising(st.st_mode) => {
                    Err(initializing)
                }
                _ => Err(map_errno(Errno::ACCESS, name, "open")),
            };
        }
        Err(e) => return Err(map_errno(e, name, "open")),
    };
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    namespace::check_trusted(&st, name)?;
    // Until its creator gives it its final mode, an object is not ready, whatever its
    // header says (root may open it before that).
    if namespace::initialising(st.st_mode) {
        return Err(initializing);
    }
    Ok(fd)
}

/// Gives the object of `fd` (at `source`) the blocks of a `total`-byte segment; on
/// hugetlbfs, whole huge pages (the only size it maps).
fn allocate(fd: BorrowedFd<'_>, total: usize, source: &Source) -> Result<(), OpenError> {
    let page = mapping::page_of(fd)?;
    let huge = page > rustix::param::page_size();
    let size = if huge {
        total.next_multiple_of(page)
    } else {
        total
    } as u64;
    match rustix::fs::fallocate(fd, rustix::fs::FallocateFlags::empty(), 0, size) {
        Ok(()) => Ok(()),
        // hugetlbfs says ENOSPC when its pool is short.
        Err(Errno::NOSPC | Errno::NOMEM) if huge => Err(OpenError::NoHugePages { size }),
        Err(Errno::NOSPC | Errno::FBIG) => Err(OpenError::NoSpace { size }),
        // Filesystems without fallocate: size the object, pages come on first touch.
        Err(Errno::OPNOTSUPP) => rustix::fs::ftruncate(fd, size).map_err(io_err("ftruncate")),
        Err(e) => Err(map_errno(e, &source.label(), "fallocate")),
    }
}

/// A random word for a new segment's identity, never 0 (the word of a ring made before
/// there were incarnations).
fn incarnation() -> Result<u64, OpenError> {
    loop {
        let mut word = [0u8; 8];
        rustix::rand::getrandom(&mut word, rustix::rand::GetRandomFlags::empty())
            .map_err(io_err("getrandom"))?;
        let word = u64::from_ne_bytes(word);
        if word != 0 {
            return Ok(word);
        }
    }
}

fn validate<S: Spec>(h: &S::Header, size: u64, access: Access) -> Result<S::Geometry, OpenError> {
    let id = S::identity(h);
    // SYNC(ready): pairs with the Release store in `publish`; everything the creator wrote
    // before READY is visible after this load sees READY.
    let state = id.state.load(Ordering::Acquire);
    let magic = id.magic.load(Ordering::Relaxed);
    let broken = state == layout::STATE_BROKEN;
    if broken && access == Access::ReadWrite {
        return Err(OpenError::Broken);
    }
    if state != layout::STATE_READY && !broken {
        // Its creator published it (its mode is final) without READY: not made by ipcring.
        return Err(OpenError::NotIpcring {
            found: magic,
            expected: layout::MAGIC,
        });
    }
    // Relaxed: ordered after the Acquire of `state`; values are validated, not trusted.
    let get = |a: &crate::sync::AtomicU64| a.load(Ordering::Relaxed);
    if magic != layout::MAGIC {
        return Err(OpenError::NotIpcring {
            found: magic,
            expected: layout::MAGIC,
        });
    }
    let abi = id.abi_major.load(Ordering::Relaxed);
    if abi != layout::ABI_MAJOR {
        return Err(OpenError::VersionMismatch {
            found: abi,
            expected: layout::ABI_MAJOR,
        });
    }
    let kind = id.kind.load(Ordering::Relaxed);
    if kind != S::KIND as u32 {
        return Err(OpenError::KindMismatch {
            found: kind,
            expected: S::KIND as u32,
        });
    }
    let hash = get(&id.layout_hash);
    if hash != S::LAYOUT_HASH {
        return Err(OpenError::LayoutMismatch {
            found: hash,
            expected: S::LAYOUT_HASH,
        });
    }
    let geo = S::load(h)?;
    let header = get(&id.header_size);
    let want_header = header_size::<S>(&geo) as u64;
    if header != want_header {
        return Err(OpenError::HeaderSizeMismatch {
            found: header,
            expected: want_header,
        });
    }
    let total = get(&id.total_size);
    let want_total = total_size::<S>(&geo) as u64;
    if total != want_total {
        return Err(OpenError::BadGeometry {
            what: "total_size",
            found: total,
            expected: want_total,
        });
    }
    if size < total {
        return Err(OpenError::Truncated {
            size,
            expected: total,
        });
    }
    Ok(geo)
}
