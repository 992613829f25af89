//! Named shared-memory segments: create (exclusive), open (validated).
//!
//! Ring `foo` lives in the POSIX shared-memory object `/ipcring.foo`
//! (`/dev/shm/ipcring.foo` on Linux; [`crate::namespace`] says how names are opened,
//! trusted and removed). The creator makes it with `O_CREAT|O_EXCL`, takes its object lock
//! and gives it mode 0200 (write-only: other openers see it is not ready), `fallocate`s
//! the whole size (so a full `/dev/shm` fails here with `NoSpace`, never later with
//! SIGBUS), writes the header, publishes `state = READY`, `fchmod`s to the final mode,
//! and only then releases the lock. An opener waits a bounded time while the mode says
//! initialising, checks that it may trust the object, validates every identity field and
//! the object's size, and only then maps the whole segment.

use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, SLOT_SIZE};
use crate::namespace::{self, map_errno, Place};
use crate::sync::Ordering;
use crate::time::Deadline;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags};
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

/// Options of a segment's creation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreateOptions {
    /// Final permission bits (0600 by default).
    pub(crate) mode: u32,
    /// Pre-fault every page at map time (`MAP_POPULATE`).
    pub(crate) populate: bool,
}

/// How a handle maps and opens a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A handle that takes a role: reads and writes.
    ReadWrite,
    /// A bystander (`ipcring inspect`): maps the segment read-only, writes nothing, and
    /// also reads a ring that a handle found corrupted.
    ReadOnly,
}

impl Access {
    fn prot(self) -> ProtFlags {
        match self {
            Access::ReadWrite => ProtFlags::READ | ProtFlags::WRITE,
            Access::ReadOnly => ProtFlags::READ,
        }
    }

    fn flags(self) -> OFlags {
        match self {
            Access::ReadWrite => OFlags::RDWR,
            Access::ReadOnly => OFlags::RDONLY,
        }
    }
}

/// A shared mapping between two guard pages (inaccessible: an access that strays past
/// either end faults at once instead of reading or writing whatever lies next to it),
/// unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(
        fd: BorrowedFd<'_>,
        len: usize,
        populate: bool,
        access: Access,
    ) -> Result<Mapping, OpenError> {
        let io = |e: rustix::io::Errno| OpenError::Io {
            op: "mmap",
            source: e.into(),
        };
        let page = rustix::param::page_size();
        let reserved = reservation(len, page).ok_or(OpenError::Io {
            op: "mmap",
            source: std::io::ErrorKind::OutOfMemory.into(),
        })?;
        // SAFETY: a fresh private, inaccessible mapping at an address the kernel chooses
        // aliases nothing.
        let guard = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                reserved,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(io)?;
        let mut flags = MapFlags::SHARED | MapFlags::FIXED;
        if populate {
            flags |= MapFlags::POPULATE;
        }
        // SAFETY: the fixed address lies inside the reservation made above, which is ours
        // and holds no Rust object, one page in; `len` is within the object's size
        // (checked by the callers).
        let p = unsafe {
            rustix::mm::mmap(
                guard.cast::<u8>().add(page).cast(),
                len,
                access.prot(),
                flags,
                fd,
                0,
            )
        };
        match p.map(|p| NonNull::new(p.cast::<u8>())) {
            Ok(Some(base)) => Ok(Mapping { base, len }),
            failed => {
                // SAFETY: the reservation made above, which nothing else uses.
                let _ = unsafe { rustix::mm::munmap(guard, reserved) };
                Err(match failed {
                    Err(e) => io(e),
                    _ => OpenError::Io {
                        op: "mmap",
                        source: std::io::ErrorKind::AddrNotAvailable.into(),
                    },
                })
            }
        }
    }
}

impl Mapping {
    /// Writes the mapping's dirty pages back to its file and waits for the storage:
    /// `msync(MS_SYNC)`. For a shared file mapping the kernel runs the file's
    /// `fsync` for the mapped range with `datasync` set (`vfs_fsync_range(vm_file, ..,
    /// 1)` in `mm/msync.c`), through the mapping's own reference to the file: no
    /// descriptor is needed. Only pages dirtied since their last write-back are written;
    /// the call walks the clean ones. Nothing is written on tmpfs.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        // SAFETY: `base..base + len` is this mapping, alive as long as `self`; msync reads
        // the page tables, not the memory through Rust references.
        unsafe {
            rustix::mm::msync(
                self.base.as_ptr().cast(),
                self.len,
                rustix::mm::MsyncFlags::SYNC,
            )
        }?;
        Ok(())
    }
}

/// Bytes of the reservation for a mapping of `len` bytes: whole pages, with a guard page
/// before and after.
fn reservation(len: usize, page: usize) -> Option<usize> {
    len.checked_next_multiple_of(page)?.checked_add(2 * page)
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let page = rustix::param::page_size();
        let reserved = reservation(self.len, page).unwrap_or(self.len);
        // SAFETY: the reservation of `new`, one page before `base`: the mapping and its
        // guards; every reference into it is tied to the lifetime of the handle that owns
        // it.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().sub(page).cast(), reserved) };
    }
}

// SAFETY: the mapping is shared memory accessed only through atomics and through windows
// whose exclusivity the ring protocol guarantees; the pointer is valid until drop.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` gives only the base pointer and the length.
unsafe impl Sync for Mapping {}

/// A mapped segment and its own open file description (which carries its role lock).
/// Unmapped when dropped; the name stays until [`namespace::unlink`] — except for a
/// segment that this handle created and never published, whose object is removed again
/// on drop.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Shared with whoever keeps the memory mapped for a while after the handle (see
    /// [`Segment::keep`]).
    map: Arc<Mapping>,
    object: Object,
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
struct Made {
    place: Place,
    /// The final mode.
    mode: u32,
}

impl Drop for Object {
    fn drop(&mut self) {
        if let Some(made) = &self.unpublished {
            // We hold the object lock: removed only if the name still refers to our
            // object, so that we never remove somebody else's segment.
            let _ = namespace::remove(&made.place, self.fd.as_fd());
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
    /// Creates the segment at `place` exclusively for geometry `geo` and writes its identity
    /// and geometry. The segment is not ready yet: the caller initialises the rest of its
    /// header (and takes its role lock, so that no opener can take it first), then calls
    /// [`Segment::publish`]. Dropped before that, it removes the half-made object.
    pub(crate) fn create<S: Spec>(
        place: &Place,
        geo: &S::Geometry,
        opts: CreateOptions,
    ) -> Result<Segment, OpenError> {
        namespace::check_mode(opts.mode)?;
        // From here on, a failure drops `object`, which removes it.
        let object = Object {
            fd: namespace::claim(place)?,
            unpublished: Some(Made {
                place: place.clone(),
                mode: opts.mode,
            }),
        };
        let fd = object.fd.as_fd();
        let total = total_size::<S>(geo);
        #[cfg(feature = "crash-points")]
        crate::crash::reached(crate::crash::Point::CreateBeforeSize);
        match rustix::fs::fallocate(fd, rustix::fs::FallocateFlags::empty(), 0, total as u64) {
            Ok(()) => {}
            Err(Errno::NOSPC) | Err(Errno::FBIG) => {
                return Err(OpenError::NoSpace { size: total as u64 })
            }
            // Filesystems without fallocate: size the object, pages come on first touch.
            Err(Errno::OPNOTSUPP) => {
                rustix::fs::ftruncate(fd, total as u64).map_err(io_err("ftruncate"))?
            }
            Err(e) => return Err(map_errno(e, place.label(), "fallocate")),
        }
        let seg = Segment {
            map: Arc::new(Mapping::new(fd, total, opts.populate, Access::ReadWrite)?),
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
        rustix::fs::fchmod(&self.object.fd, Mode::from_raw_mode(made.mode))
            .map_err(io_err("fchmod"))?;
        // Published: the object stays, and removers may take its lock.
        self.object.unpublished = None;
        namespace::unlock(self.object.fd.as_fd());
        Ok(())
    }

    /// Opens the segment at `place`, waits (bounded) for it to be ready, validates it as a
    /// ring of kind `S` and maps it whole. Returns the geometry found.
    pub(crate) fn open<S: Spec>(
        place: &Place,
        populate: bool,
    ) -> Result<(Segment, S::Geometry), OpenError> {
        let deadline = Deadline::after(OPEN_WAIT);
        loop {
            match Self::try_open::<S>(place, populate, Access::ReadWrite) {
                Err(OpenError::StillInitializing { .. }) if !deadline.passed() => {
                    std::thread::sleep(Duration::from_millis(1));
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
        place: &Place,
    ) -> Result<(Segment, S::Geometry), OpenError> {
        Self::try_open::<S>(place, false, Access::ReadOnly)
    }

    fn try_open<S: Spec>(
        place: &Place,
        populate: bool,
        access: Access,
    ) -> Result<(Segment, S::Geometry), OpenError> {
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
        let size = st.st_size as u64;
        let fixed = core::mem::size_of::<S::Header>();
        if size < fixed as u64 {
            return Err(OpenError::Truncated {
                size,
                expected: fixed as u64,
            });
        }
        // Map the fixed header alone first: nothing beyond the object's end is touched.
        let probe = Mapping::new(fd.as_fd(), fixed, false, Access::ReadOnly)?;
        // SAFETY: the probe maps the whole fixed header and lives until the end of this
        // function; the header is made of atomics, valid for any bit pattern.
        let h = unsafe { &*probe.base.as_ptr().cast::<S::Header>() };
        let geo = validate::<S>(h, size, access)?;
        drop(probe);
        let map = Arc::new(Mapping::new(
            fd.as_fd(),
            total_size::<S>(&geo),
            populate,
            access,
        )?);
        let seg = Segment {
            map,
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
        unsafe { &*self.map.base.as_ptr().cast::<S::Header>() }
    }

    /// Start of the mapping.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.map.base
    }

    /// Length of the mapping.
    pub(crate) fn len(&self) -> usize {
        self.map.len
    }

    /// Keeps the memory mapped, not the descriptor (nor its role lock): for a helper
    /// thread that watches futex words in it after the handle may have gone.
    #[cfg(not(ipcring_loom))]
    pub(crate) fn keep(&self) -> Arc<Mapping> {
        self.map.clone()
    }

    /// The descriptor (for role locks).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.object.fd.as_fd()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The permissions of the mapping of `/proc/self/maps` that contains `addr`, and its
    /// bounds.
    fn mapping_at(addr: usize) -> (usize, usize, String) {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        maps.lines()
            .find_map(|l| {
                let mut parts = l.split_whitespace();
                let (range, perms) = (parts.next()?, parts.next()?);
                let (a, b) = range.split_once('-')?;
                let (a, b) = (
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                );
                (a <= addr && addr < b).then(|| (a, b, perms.to_owned()))
            })
            .expect("a mapping there")
    }

    #[test]
    fn a_mapping_lies_between_two_inaccessible_pages() {
        let page = rustix::param::page_size();
        let fd =
            rustix::fs::memfd_create("guards", rustix::fs::MemfdFlags::CLOEXEC).expect("memfd");
        let len = 3 * page + 100;
        rustix::fs::ftruncate(&fd, len as u64).expect("size");
        let m = Mapping::new(fd.as_fd(), len, false, Access::ReadWrite).expect("map");
        let base = m.base.as_ptr() as usize;
        let (start, end, perms) = mapping_at(base);
        assert_eq!((start, end - start, &perms[..2]), (base, 4 * page, "rw"));
        let (start, end, perms) = mapping_at(base - 1);
        assert_eq!((end, &perms[..3]), (base, "---"), "the guard before");
        assert!(start <= base - page);
        let (start, _, perms) = mapping_at(base + 4 * page);
        assert_eq!(&perms[..3], "---", "the guard after");
        assert!(start <= base + 4 * page);
    }
}
