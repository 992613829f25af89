//! The objects behind ring names: ring `foo` is `/dev/shm/ipcring.foo`, in a directory
//! where every user may create files. So what is found at a name is checked before it is
//! trusted, and a name is removed only while it still refers to the object that was
//! checked.
//!
//! A file-backed ring's object is the file at the user's path ([`Place::file`]): `shm_open`
//! is an `open` under `/dev/shm` with the flags below, so both kinds of place go through
//! the same code. What follows holds for a file ring with its directory in place of
//! `/dev/shm`, with two differences that the user's choice of directory decides: in a
//! directory that others may write to and that is not sticky, others may remove or
//! replace the file (the checks then refuse what they put there, but the ring is gone);
//! and in a set-group-ID directory a new file takes the directory's group, so a
//! group-mode file there may have been made by any user who can write to the directory.
//!
//! **Opening.** Objects are opened with `O_NOFOLLOW` (a symbolic link at the name is
//! refused), `O_NONBLOCK` (a FIFO at the name cannot block the open) and `O_CLOEXEC`.
//! An object is trusted only if it is a regular file (no other file system is reached from
//! a name in `/dev/shm` but through a link, which is refused, or a mount, which takes
//! root), others may not write to it (no `o+w` bit), and either
//!
//! - its owner is our effective uid, or
//! - it is a group-mode object of one of our groups: its mode gives the group read and
//!   write, and its group is our effective gid or one of our supplementary groups. The
//!   kernel lets a user without privileges give a file only a group that the user belongs
//!   to (in a directory that is not set-group-ID, which `/dev/shm` is not), so such an
//!   object was made by a member of our group, or by root.
//!
//! So a user of another uid, outside our groups, cannot plant an object that we then
//! use; creation is exclusive, so neither can it take over a ring we create.
//!
//! **Initialising.** A creator makes its object with mode 0200 (set with `fchmod`, which
//! the umask does not filter) and gives it its final mode, which always includes 0600,
//! once it is ready. A mode with no bit but 0200 (0200 itself, or 0000 in the instant
//! between `open` and `fchmod` under a umask that clears 0200) marks an object still being
//! initialised.
//!
//! **The object lock.** A `flock` exclusive lock on the object itself (a BSD lock: it
//! does not interact with the byte-range OFD locks of the role slots; the kernel drops it
//! when its holder's description is closed, so also when the holder dies). It is held by
//! the creator from creation until it publishes the object or removes it after a failure,
//! and for a moment by each remover: [`unlink`] (so `ipcring rm`), and a reclaimer, which
//! removes an object left initialising by a creator that died (the lock is free while the
//! mode still says initialising).
//!
//! **Removing.** Under the object's lock, a remover checks that the name still refers to
//! the object (device and inode, from `lstat` of the name against `fstat` of its
//! descriptor), then `shm_unlink`s the name. Among ipcring processes nothing can come
//! between the check and the unlink: the name stops referring to the object only when
//! somebody removes it, every ipcring remover of that object holds its lock to do so, and
//! nobody can create a new object at the name while it is taken. A creator that a
//! reclaimer overtook between its `open` and its lock notices it once it holds the lock
//! (the name no longer refers to its object) and creates again.
//!
//! What remains: a process outside this protocol (`rm`, another program's `shm_unlink`)
//! that removes the object between our check and our `shm_unlink`, followed by somebody
//! creating a new object at the name in that same window, two system calls wide; our
//! `shm_unlink` then removes the new object. Linux has no "unlink if this inode" to close
//! it; and `/dev/shm` is sticky, so only the object's owner (ourselves, or a peer of our
//! uid) or root can remove it in the first place.

use crate::error::OpenError;
use crate::time::Deadline;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, FlockOperation, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of every ipcring object name under `/dev/shm`.
pub(crate) const NAME_PREFIX: &str = "ipcring.";

/// Longest ring name: `NAME_MAX` (255) less the prefix.
pub const MAX_NAME_LEN: usize = 255 - NAME_PREFIX.len();

/// The directory of POSIX shared-memory objects.
pub(crate) const SHM_DIR: &str = "/dev/shm/";

/// Mode of an object while its creator initialises it.
pub(crate) const INITIALISING_MODE: u32 = 0o200;

/// How long a remover waits for the lock of an object: as long as `open` waits for a
/// creator to finish.
const LOCK_WAIT: Duration = Duration::from_secs(2);

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
    Ok(format!("{NAME_PREFIX}{name}"))
}

/// Where a ring's object is: `/dev/shm/ipcring.<name>` for a named ring, the user's path
/// for a file-backed ring. Both are opened, trusted, locked and removed the same way (a
/// named ring's `shm_open` is an `open` of its path under `/dev/shm` with the same flags).
#[derive(Debug, Clone)]
pub(crate) struct Place {
    path: PathBuf,
    /// How errors name the ring: its name, or its path.
    label: String,
    /// A named ring's place, in the ring namespace: what is there with mode 0200 is a ring
    /// being created (see [`abandoned`]).
    named: bool,
}

impl Place {
    /// The place of ring `name`, after checking the name.
    ///
    /// # Errors
    /// `InvalidName`.
    pub(crate) fn named(name: &str) -> Result<Place, OpenError> {
        Ok(Place {
            path: PathBuf::from(format!("{SHM_DIR}{}", object_name(name)?)),
            label: name.to_owned(),
            named: true,
        })
    }

    /// The place of a file-backed ring at `path`, made absolute (against the current
    /// directory, now) so that a later `chdir` does not move it. The last component is
    /// never followed if it is a symbolic link; the directories above it are the caller's
    /// choice, and are followed.
    ///
    /// # Errors
    /// `InvalidName` for an empty path or one that ends in `/`, `.` or `..`; `Io` if the
    /// current directory cannot be read.
    pub(crate) fn file(path: &Path) -> Result<Place, OpenError> {
        let label = path.display().to_string();
        if path.file_name().is_none() || path.as_os_str().as_encoded_bytes().ends_with(b"/") {
            return Err(OpenError::InvalidName {
                name: label,
                reason: "a file-backed ring's path must name a file",
            });
        }
        let path = std::path::absolute(path).map_err(|source| OpenError::Io {
            op: "getcwd",
            source,
        })?;
        Ok(Place {
            path,
            label,
            named: false,
        })
    }

    /// How errors name the ring.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }
}

/// The error of a failed system call on the object of ring `name`.
pub(crate) fn map_errno(e: Errno, name: &str, op: &'static str) -> OpenError {
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
        // A symbolic link (O_NOFOLLOW), a directory, a FIFO without reader or a socket.
        Errno::LOOP | Errno::ISDIR | Errno::NXIO => OpenError::NotRegularFile {
            name: name.to_owned(),
        },
        Errno::NOSPC => OpenError::NoSpace { size: 0 },
        _ => OpenError::Io {
            op,
            source: e.into(),
        },
    }
}

const OPEN_FLAGS: OFlags = OFlags::NOFOLLOW
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

/// Opens the object at `place` with `access` (`RDONLY`, `WRONLY` or `RDWR`), never through a
/// symbolic link (`ELOOP`) and never blocking on a FIFO.
pub(crate) fn open(place: &Place, access: OFlags) -> Result<OwnedFd, Errno> {
    rustix::fs::open(&place.path, access | OPEN_FLAGS, Mode::empty())
}

/// Creates the object at `place` exclusively, open for reading and writing, with mode 0200 or
/// less (the umask applies; the creator sets 0200 once it holds the object's lock).
fn create_exclusive(place: &Place) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OPEN_FLAGS;
    rustix::fs::open(&place.path, flags, Mode::from_raw_mode(INITIALISING_MODE))
}

/// Creates the object at `place`, takes its lock and gives it mode 0200: on
/// return the object is at the name, initialising, and only the caller may remove it (or
/// publish it, then [`unlock`]).
///
/// # Errors
/// `AlreadyExists`, and the errors of creating a file.
pub(crate) fn claim(place: &Place) -> Result<OwnedFd, OpenError> {
    for _ in 0..4 {
        let fd =
            create_exclusive(place).map_err(|e| map_errno(e, place.label(), "open(O_CREAT)"))?;
        if !lock(fd.as_fd(), Deadline::after(LOCK_WAIT)).map_err(io_err("flock"))? {
            return Err(OpenError::Io {
                op: "flock",
                source: Errno::WOULDBLOCK.into(),
            });
        }
        // A reclaimer may have taken the lock first and removed the object (it looked
        // abandoned); then it is nobody's, and we create again.
        if at_name(place, fd.as_fd()).map_err(io_err("stat"))? {
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(INITIALISING_MODE)).map_err(|e| {
                let _ = remove(place, fd.as_fd());
                io_err("fchmod")(e)
            })?;
            return Ok(fd);
        }
    }
    Err(OpenError::Io {
        op: "open(O_CREAT): the new object was removed at once, every time",
        source: Errno::NOENT.into(),
    })
}

fn io_err(op: &'static str) -> impl Fn(Errno) -> OpenError {
    move |e| OpenError::Io {
        op,
        source: e.into(),
    }
}

/// Whether `mode` marks an object that its creator is still initialising.
pub(crate) fn initialising(mode: u32) -> bool {
    mode & 0o777 & !INITIALISING_MODE == 0
}

/// Whether `st` is a regular file.
pub(crate) fn is_regular(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
}

/// The status of the object at `place`, without following a symbolic link.
pub(crate) fn lstat(place: &Place) -> Result<Stat, Errno> {
    rustix::fs::lstat(&place.path)
}

/// Checks that the mode asked for a new ring is one that [`check_trusted`] accepts and
/// that cannot be mistaken for [`initialising`].
///
/// # Errors
/// `InvalidMode`.
pub(crate) fn check_mode(mode: u32) -> Result<(), OpenError> {
    let reason = if mode & !0o777 != 0 {
        "only permission bits (0777) may be set"
    } else if mode & 0o007 != 0 {
        "other users may get no access (give it to a group instead, e.g. 0660)"
    } else if mode & 0o600 != 0o600 {
        "the owner needs read and write (0600)"
    } else {
        return Ok(());
    };
    Err(OpenError::InvalidMode { mode, reason })
}

/// Checks that the object of status `st` at the name of ring `name` may be used: see the
/// rules in the module docs.
///
/// # Errors
/// `NotRegularFile`, `ForeignOwner`, `WorldWritable`.
pub(crate) fn check_trusted(st: &Stat, name: &str) -> Result<(), OpenError> {
    if !is_regular(st) {
        return Err(OpenError::NotRegularFile {
            name: name.to_owned(),
        });
    }
    let group_mode = st.st_mode & 0o060 == 0o060;
    let ours = st.st_uid == rustix::process::geteuid().as_raw()
        || (group_mode && in_our_groups(st.st_gid));
    if !ours {
        return Err(OpenError::ForeignOwner {
            name: name.to_owned(),
            uid: st.st_uid,
            gid: st.st_gid,
        });
    }
    if st.st_mode & 0o002 != 0 {
        return Err(OpenError::WorldWritable {
            name: name.to_owned(),
            mode: st.st_mode & 0o7777,
        });
    }
    Ok(())
}

fn in_our_groups(gid: u32) -> bool {
    gid == rustix::process::getegid().as_raw()
        || rustix::process::getgroups().is_ok_and(|groups| groups.iter().any(|g| g.as_raw() == gid))
}

/// Takes the object lock of `fd`'s object, trying until `deadline`. Returns `Ok(false)`
/// if another description still holds it then.
pub(crate) fn lock(fd: BorrowedFd<'_>, deadline: Deadline) -> Result<bool, Errno> {
    loop {
        match rustix::fs::flock(fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(true),
            Err(Errno::WOULDBLOCK) if !deadline.passed() => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(Errno::WOULDBLOCK) => return Ok(false),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Releases the object lock of `fd`'s object.
pub(crate) fn unlock(fd: BorrowedFd<'_>) {
    // Cannot fail on an open descriptor; should it, the lock goes with the descriptor.
    let _ = rustix::fs::flock(fd, FlockOperation::Unlock);
}

/// Whether `place` refers to `fd`'s object (same device and inode).
fn at_name(place: &Place, fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let ours = rustix::fs::fstat(fd)?;
    match lstat(place) {
        Ok(st) => Ok((st.st_dev, st.st_ino) == (ours.st_dev, ours.st_ino)),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes `place` if it still refers to `fd`'s object, whose lock the caller holds.
/// Returns whether it did.
pub(crate) fn remove(place: &Place, fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    if !at_name(place, fd)? {
        return Ok(false);
    }
    // The window that remains between the check above and this call: see the module docs.
    match rustix::fs::unlink(&place.path) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes the ring `name` from the namespace. Processes that have it open keep using it;
/// the memory is freed when the last one closes it.
///
/// The object found at the name is locked, then removed only if the name still refers to
/// it: if somebody else removed it meanwhile (and perhaps created a new ring of that
/// name, which stays), this returns `NotFound`. A ring still being initialised is waited
/// for, a bounded time.
///
/// ```
/// # let name = format!("doc-unlink-{}", std::process::id());
/// let tx = ipcring::spsc::Producer::create(&name, 4096)?;
/// ipcring::unlink(&name)?;
/// assert!(matches!(ipcring::unlink(&name), Err(ipcring::OpenError::NotFound { .. })));
/// # drop(tx);
/// # Ok::<(), ipcring::OpenError>(())
/// ```
///
/// # Errors
/// `InvalidName`, `NotFound`, `PermissionDenied`, `NotRegularFile` (a symbolic link or
/// a special file at the name: not removed), `StillInitializing` (its creator held it
/// for longer than the wait), or `Io`.
pub fn unlink(name: &str) -> Result<(), OpenError> {
    remove_locked(&Place::named(name)?)
}

/// Removes the file-backed ring at `path`, as [`unlink`] removes a named ring: the file
/// found there is locked, then removed only if the path still refers to it. Processes
/// that have it open keep using it; its blocks are freed when the last one closes it.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-remove-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("jobs.ring");
/// let tx = ipcring::spsc::Builder::at(&path).capacity(4096).create_producer()?;
/// ipcring::remove_file_ring(&path)?;
/// assert!(!path.exists());
/// # drop(tx);
/// # std::fs::remove_dir(&dir).unwrap();
/// # Ok::<(), ipcring::OpenError>(())
/// ```
///
/// # Errors
/// As [`unlink`], with the ring named by its path; `InvalidName` for a path that names
/// no file.
pub fn remove_file_ring(path: impl AsRef<Path>) -> Result<(), OpenError> {
    remove_locked(&Place::file(path.as_ref())?)
}

fn remove_locked(place: &Place) -> Result<(), OpenError> {
    let fd = lock_place(place)?;
    match remove(place, fd.as_fd()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(OpenError::NotFound {
            name: place.label().to_owned(),
        }),
        Err(e) => Err(map_errno(e, place.label(), "unlink")),
    }
}

/// Opens the object at `place` and takes its object lock (waiting a
/// bounded time for a creator that initialises it), for a remover: returns the
/// descriptor that holds the lock.
///
/// # Errors
/// As [`unlink`].
pub(crate) fn lock_place(place: &Place) -> Result<OwnedFd, OpenError> {
    let name = place.label();
    // Any access serves for the lock; the owner of a ring still initialising (mode 0200)
    // may only write.
    let fd = open(place, OFlags::RDONLY)
        .or_else(|e| match e {
            Errno::ACCESS => open(place, OFlags::WRONLY),
            e => Err(e),
        })
        .map_err(|e| map_errno(e, name, "open"))?;
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    if !is_regular(&st) {
        return Err(OpenError::NotRegularFile {
            name: name.to_owned(),
        });
    }
    if !lock(fd.as_fd(), Deadline::after(LOCK_WAIT)).map_err(io_err("flock"))? {
        return Err(OpenError::StillInitializing { waited: LOCK_WAIT });
    }
    Ok(fd)
}

/// If the object at `place` was left initialising by a creator that died
/// (its mode says initialising and its lock is free), removes it, so that the ring can be
/// created again. One reclaimer at a time: the lock excludes the others, which then find
/// the name no longer refers to the object. Returns whether it removed it.
///
/// Objects that this process may not open for writing or does not trust are left alone:
/// opening them gives the error.
///
/// # Errors
/// `InvalidName`, or the error of a failed system call.
pub(crate) fn reclaim_abandoned(place: &Place) -> Result<bool, OpenError> {
    let Some(fd) = abandoned(place)? else {
        return Ok(false);
    };
    remove(place, fd.as_fd()).map_err(|e| map_errno(e, place.label(), "unlink"))
}

/// The descriptor of the object at `place` (whose lock we then hold) if it was left
/// initialising by a creator that died: see [`reclaim_abandoned`].
///
/// # Errors
/// The error of a failed system call.
pub(crate) fn abandoned(place: &Place) -> Result<Option<OwnedFd>, OpenError> {
    // At a path of the user's choice a write-only file may be anything of the user's (it
    // cannot be read to tell): only the ring namespace's are taken for abandoned rings.
    // A file ring whose creator died while creating it stays initialising; it is removed
    // with `remove_file_ring`.
    if !place.named {
        return Ok(None);
    }
    // Write access is what mode 0200 leaves the owner.
    let Ok(fd) = open(place, OFlags::WRONLY) else {
        return Ok(None);
    };
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    if !initialising(st.st_mode) || check_trusted(&st, place.label()).is_err() {
        return Ok(None);
    }
    if !lock(fd.as_fd(), Deadline::now()).map_err(io_err("flock"))? {
        // Its creator is alive (or another remover is at work).
        return Ok(None);
    }
    // A creator gives the object its final mode before it releases the lock.
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    if !initialising(st.st_mode) {
        return Ok(None);
    }
    Ok(Some(fd))
}
