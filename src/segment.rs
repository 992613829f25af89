//! Named shared-memory segments: create (exclusive), open (validated), unlink.
//!
//! Ring `foo` lives in the POSIX shared-memory object `/ipcring.foo`
//! (`/dev/shm/ipcring.foo` on Linux). The creator makes it with `O_CREAT|O_EXCL` and mode
//! 0200 (write-only: other openers see it is not ready), `fallocate`s the whole size (so a
//! full `/dev/shm` fails here with `NoSpace`, never later with SIGBUS), writes the header,
//! publishes `state = READY` last, then `fchmod`s to the final mode. An opener waits a
//! bounded time for READY, validates every identity field and the object's size, and only
//! then maps the whole segment.

use crate::error::OpenError;
use crate::layout::{self, Identity, Kind, LINE};
use crate::sync::Ordering;
use crate::wait::Deadline;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags};
use std::ptr::NonNull;
use std::time::Duration;

/// Prefix of every ipcring object name under `/dev/shm`.
pub const NAME_PREFIX: &str = "ipcring.";

/// Longest ring name: `NAME_MAX` (255) less the prefix.
pub const MAX_NAME_LEN: usize = 255 - NAME_PREFIX.len();

/// How long `open` waits for a creator to finish initialising.
pub(crate) const OPEN_WAIT: Duration = Duration::from_secs(2);

/// Checks a ring name and returns the shm object name (`ipcring.<name>`, the file name
/// under `/dev/shm`).
pub(crate) fn object_name(name: &str) -> Result<String, OpenError> {
    let bad = |reason| {
        Err(OpenError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return bad("it is longer than 247 bytes");
    }
    if name.contains('/') {
        return bad("it contains '/'");
    }
    if name.contains('\0') {
        return bad("it contains a NUL byte");
    }
    // Without the leading '/': rustix counts it against NAME_MAX, so a name of
    // MAX_NAME_LEN bytes would fail with ENAMETOOLONG.
    Ok(format!("{NAME_PREFIX}{name}"))
}

/// Removes the ring `name` from the namespace. Processes that have it open keep using it;
/// the memory is freed when the last one closes it.
///
/// # Errors
/// `InvalidName`, `NotFound`, `PermissionDenied`, or `Io`.
pub fn unlink(name: &str) -> Result<(), OpenError> {
    let obj = object_name(name)?;
    rustix::shm::unlink(obj.as_str()).map_err(|e| map_errno(e, name, "shm_unlink"))
}

fn map_errno(e: Errno, name: &str, op: &'static str) -> OpenError {
    match e {
        Errno::NOENT => OpenError::NotFound {
            name: name.to_owned(),
        },
        Errno::EXIST => OpenError::AlreadyExists {
            name: name.to_owned(),
        },
        Errno::ACCESS | Errno::PERM => OpenError::PermissionDenied {
            name: name.to_owned(),
            source: e.into(),
        },
        Errno::NOSPC => OpenError::NoSpace { size: 0 },
        _ => OpenError::Io {
            op,
            source: e.into(),
        },
    }
}

/// What a kind of ring needs of its segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub(crate) kind: Kind,
    pub(crate) header_size: usize,
    pub(crate) capacity: usize,
    pub(crate) max_message: usize,
}

impl Geometry {
    fn total(&self) -> usize {
        self.header_size + self.capacity
    }
}

/// Options of a segment's creation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreateOptions {
    /// Final permission bits (0600 by default).
    pub(crate) mode: u32,
    /// Pre-fault every page at map time (`MAP_POPULATE`).
    pub(crate) populate: bool,
}

/// A shared mapping, unmapped on drop.
#[derive(Debug)]
struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(fd: BorrowedFd<'_>, len: usize, populate: bool) -> Result<Mapping, OpenError> {
        let mut flags = MapFlags::SHARED;
        if populate {
            flags |= MapFlags::POPULATE;
        }
        // SAFETY: a fresh shared mapping at an address the kernel chooses aliases no Rust
        // object; `len` is within the object's size (checked by the callers).
        let p = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                flags,
                fd,
                0,
            )
        }
        .map_err(|e| OpenError::Io {
            op: "mmap",
            source: e.into(),
        })?;
        let base = NonNull::new(p.cast::<u8>()).ok_or(OpenError::Io {
            op: "mmap",
            source: std::io::ErrorKind::AddrNotAvailable.into(),
        })?;
        Ok(Mapping { base, len })
    }

    fn identity(&self) -> &Identity {
        // SAFETY: every mapping is at least one line long and page aligned; `Identity` is
        // made of atomics, valid for any bit pattern, and lives as long as `self`.
        unsafe { &*self.base.as_ptr().cast::<Identity>() }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base..base+len` is exactly the mapping made in `new`, and every
        // reference into it is tied to the lifetime of the handle that owns it.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

// SAFETY: the mapping is shared memory accessed only through atomics and through windows
// whose exclusivity the ring protocol guarantees; the pointer is valid until drop.
unsafe impl Send for Mapping {}

/// A mapped segment and its own open file description (which carries its role lock).
/// Unmapped when dropped; the name stays until [`unlink`].
#[derive(Debug)]
pub(crate) struct Segment {
    map: Mapping,
    fd: OwnedFd,
}

fn io_err(op: &'static str) -> impl Fn(Errno) -> OpenError {
    move |e| OpenError::Io {
        op,
        source: e.into(),
    }
}

impl Segment {
    /// Creates the segment `name` exclusively. `before_ready` runs on the complete but not
    /// yet published segment (for example to take a role lock first); if it or anything
    /// else fails, the half-made object is removed again.
    pub(crate) fn create(
        name: &str,
        geo: Geometry,
        opts: CreateOptions,
        before_ready: impl FnOnce(&Segment) -> Result<(), OpenError>,
    ) -> Result<Segment, OpenError> {
        let obj = object_name(name)?;
        let fd = rustix::shm::open(
            obj.as_str(),
            rustix::shm::OFlags::CREATE | rustix::shm::OFlags::EXCL | rustix::shm::OFlags::RDWR,
            Mode::WUSR,
        )
        .map_err(|e| map_errno(e, name, "shm_open"))?;
        let ours = rustix::fs::fstat(&fd).map(|st| (st.st_dev, st.st_ino));
        let made = Self::init(fd, name, geo, opts, before_ready);
        if made.is_err() {
            // Unlink only if the name still refers to the object we made: compare device
            // and inode, so that we never remove somebody else's segment.
            let now = rustix::fs::stat(format!("/dev/shm/{obj}").as_str());
            if let (Ok(ours), Ok(st)) = (ours, now) {
                if ours == (st.st_dev, st.st_ino) {
                    let _ = rustix::shm::unlink(obj.as_str());
                }
            }
        }
        made
    }

    fn init(
        fd: OwnedFd,
        name: &str,
        geo: Geometry,
        opts: CreateOptions,
        before_ready: impl FnOnce(&Segment) -> Result<(), OpenError>,
    ) -> Result<Segment, OpenError> {
        let total = geo.total() as u64;
        match rustix::fs::fallocate(&fd, rustix::fs::FallocateFlags::empty(), 0, total) {
            Ok(()) => {}
            Err(Errno::NOSPC) | Err(Errno::FBIG) => return Err(OpenError::NoSpace { size: total }),
            // Filesystems without fallocate: size the object, pages come on first touch.
            Err(Errno::OPNOTSUPP) => {
                rustix::fs::ftruncate(&fd, total).map_err(io_err("ftruncate"))?
            }
            Err(e) => return Err(map_errno(e, name, "fallocate")),
        }
        let seg = Segment {
            map: Mapping::new(fd.as_fd(), geo.total(), opts.populate)?,
            fd,
        };
        let id = seg.identity();
        // Relaxed: these stores are published by the Release store of `state` below.
        id.magic.store(layout::MAGIC, Ordering::Relaxed);
        id.abi_major.store(layout::ABI_MAJOR, Ordering::Relaxed);
        id.abi_minor.store(layout::ABI_MINOR, Ordering::Relaxed);
        id.layout_hash.store(layout::LAYOUT_HASH, Ordering::Relaxed);
        id.kind.store(geo.kind as u32, Ordering::Relaxed);
        id.header_size
            .store(geo.header_size as u64, Ordering::Relaxed);
        id.capacity.store(geo.capacity as u64, Ordering::Relaxed);
        id.max_message
            .store(geo.max_message as u64, Ordering::Relaxed);
        id.total_size.store(total, Ordering::Relaxed);
        before_ready(&seg)?;
        // SYNC(ready): pairs with the Acquire load of `state` in `validate`.
        id.state.store(layout::STATE_READY, Ordering::Release);
        rustix::fs::fchmod(&seg.fd, Mode::from_raw_mode(opts.mode)).map_err(io_err("fchmod"))?;
        Ok(seg)
    }

    /// Opens the segment `name`, waits (bounded) for it to be ready, validates it against
    /// `expect` (whose `capacity` and `max_message` are ignored and returned as found).
    pub(crate) fn open(
        name: &str,
        expect: Geometry,
        populate: bool,
    ) -> Result<(Segment, Geometry), OpenError> {
        let obj = object_name(name)?;
        let deadline = Deadline::after(OPEN_WAIT);
        loop {
            match Self::try_open(&obj, name, expect, populate) {
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

    fn try_open(
        obj: &str,
        name: &str,
        expect: Geometry,
        populate: bool,
    ) -> Result<(Segment, Geometry), OpenError> {
        let initializing = OpenError::StillInitializing {
            waited: Duration::ZERO,
        };
        let fd = match rustix::shm::open(obj, rustix::shm::OFlags::RDWR, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ACCESS) => {
                // Mode 0200 means the creator has not finished: wait for it.
                return match rustix::fs::stat(format!("/dev/shm/{obj}").as_str()) {
                    Ok(st) if st.st_mode & 0o777 == 0o200 => Err(initializing),
                    _ => Err(map_errno(Errno::ACCESS, name, "shm_open")),
                };
            }
            Err(e) => return Err(map_errno(e, name, "shm_open")),
        };
        let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
        let size = st.st_size as u64;
        if size < LINE as u64 {
            // A creator between O_CREAT and fallocate, or a foreign truncated object.
            return if st.st_mode & 0o777 == 0o200 {
                Err(initializing)
            } else {
                Err(OpenError::Truncated {
                    size,
                    expected: expect.header_size as u64,
                })
            };
        }
        // Map the identity line alone first: nothing beyond the object's end is touched.
        let creating = st.st_mode & 0o777 == 0o200;
        let probe = Mapping::new(fd.as_fd(), LINE, false)?;
        let found = validate(probe.identity(), size, creating, expect)?;
        drop(probe);
        let map = Mapping::new(fd.as_fd(), found.total(), populate)?;
        Ok((Segment { map, fd }, found))
    }

    /// The identity line.
    pub(crate) fn identity(&self) -> &Identity {
        self.map.identity()
    }

    /// Start of the mapping.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.map.base
    }

    /// The descriptor (for role locks).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn validate(
    id: &Identity,
    size: u64,
    creating: bool,
    expect: Geometry,
) -> Result<Geometry, OpenError> {
    // SYNC(ready): pairs with the Release store in `init`; everything the creator wrote
    // before READY is visible after this load sees READY.
    let state = id.state.load(Ordering::Acquire);
    let magic = id.magic.load(Ordering::Relaxed);
    if state != layout::STATE_READY {
        // Only a creator still holding mode 0200 is initialising; anything else that is
        // not READY was never (or never completely) made by ipcring.
        if creating {
            return Err(OpenError::StillInitializing {
                waited: Duration::ZERO,
            });
        }
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
    let hash = get(&id.layout_hash);
    if hash != layout::LAYOUT_HASH {
        return Err(OpenError::LayoutMismatch {
            found: hash,
            expected: layout::LAYOUT_HASH,
        });
    }
    let kind = id.kind.load(Ordering::Relaxed);
    if kind != expect.kind as u32 {
        return Err(OpenError::KindMismatch {
            found: kind,
            expected: expect.kind as u32,
        });
    }
    let header_size = get(&id.header_size);
    if header_size != expect.header_size as u64 {
        return Err(OpenError::HeaderSizeMismatch {
            found: header_size,
            expected: expect.header_size as u64,
        });
    }
    let bad = |what, found, expected| OpenError::BadGeometry {
        what,
        found,
        expected,
    };
    let capacity = get(&id.capacity);
    if !crate::spsc::capacity_ok(capacity) {
        return Err(bad("capacity", capacity, capacity.next_power_of_two()));
    }
    let max_message = get(&id.max_message);
    let want_max = crate::spsc::max_message_for(capacity as usize) as u64;
    if max_message != want_max {
        return Err(bad("max_message", max_message, want_max));
    }
    let total = get(&id.total_size);
    if total != header_size + capacity {
        return Err(bad("total_size", total, header_size + capacity));
    }
    if size < total {
        return Err(OpenError::Truncated {
            size,
            expected: total,
        });
    }
    Ok(Geometry {
        kind: expect.kind,
        header_size: header_size as usize,
        capacity: capacity as usize,
        max_message: max_message as usize,
    })
}
