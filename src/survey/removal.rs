//! Removing rings that nobody uses: what `ipcring rm` and `ipcring gc` do.
//!
//! A remover takes the object lock of the name (which creators hold while they
//! initialise, and other removers while they remove), looks at the ring under it, and
//! removes the name only if it still refers to the object it looked at: a ring created
//! again under the name meanwhile is never removed. A process that opens the ring between
//! the look and the removal keeps its mapping and works on; the name is gone for openers
//! after it. A file-backed ring is removed the same way, its path in place of the name.

use super::{inspect_at, list, list_dir, Entry, Holder, Ring};
use crate::error::OpenError;
use crate::namespace::{self, map_errno, Place};
use rustix::fd::{AsFd, OwnedFd};
use std::io;
use std::path::Path;

/// What [`remove_unused`] did.
#[derive(Debug)]
pub enum Removal {
    /// The name is gone.
    Removed,
    /// A live process holds a role: nothing was removed. The ring as found.
    InUse(Box<Ring>),
}

/// Removes the ring `name` unless a live process holds one of its roles. A ring whose
/// creator died while initialising it is removed too. With `force`, removes it whoever
/// holds it, and also an object at the name that is not a ring this build can read.
///
/// # Errors
/// `NotFound` (also when the name came to refer to another object while we looked),
/// `StillInitializing` (a live creator is at work), the error of a survey of an object
/// that is not a readable ring (without `force`), or the error of a failed system call.
pub fn remove_unused(name: &str, force: bool) -> Result<Removal, OpenError> {
    remove_at(&Place::named(name)?, Where::Namespace, force)
}

/// Removes the file-backed ring at `path` (see [`crate::Builder::at`]) unless a live
/// process holds one of its roles, as [`remove_unused`] removes a named ring; with
/// `force`, as [`crate::remove_file_ring`] does.
///
/// One difference: a file left initialising (mode 0200) is removed only with `force`. At
/// a path of the user's choice it may be a file ring whose creator died, or any
/// write-only file of the user's; nothing tells them apart.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-rm-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use ipcring::survey::{remove_unused_file, Removal};
/// let path = dir.join("jobs.ring");
/// let tx = ipcring::mpmc::Builder::at(&path).capacity(8).create_producer()?;
/// assert!(matches!(remove_unused_file(&path, false)?, Removal::InUse(_)));
/// drop(tx);
/// assert!(matches!(remove_unused_file(&path, false)?, Removal::Removed));
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`remove_unused`], with the ring named by its path; `StillInitializing` for a file
/// left initialising (without `force`); `InvalidName` for a path that names no file.
pub fn remove_unused_file(path: impl AsRef<Path>, force: bool) -> Result<Removal, OpenError> {
    remove_at(&Place::file(path.as_ref())?, Where::Path, force)
}

/// Where a remover works. What differs is an object left initialising, once the remover
/// holds its lock (so its creator is dead, or it never was a ring's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// The ring namespace: such an object is what a dead creator left, and is removed.
    Namespace,
    /// A path of the user's: such an object is surveyed as any (which says
    /// `StillInitializing`), so it is removed only with `force`.
    Path,
}

impl Where {
    /// The place of the ring that an [`Entry`] of this kind names.
    fn place(self, name: &str) -> Result<Place, OpenError> {
        match self {
            Where::Namespace => Place::named(name),
            Where::Path => Place::file(Path::new(name)),
        }
    }
}

fn remove_at(place: &Place, at: Where, force: bool) -> Result<Removal, OpenError> {
    let fd = namespace::lock_place(place)?;
    let st = stat(&fd)?;
    // We hold the object lock, so a creator that left the object initialising is dead.
    if !(namespace::initialising(st.st_mode) && at == Where::Namespace) {
        match inspect_at(place, place.label()) {
            Ok(ring) if ring.id != (st.st_dev, st.st_ino) => {
                return Err(OpenError::NotFound {
                    name: place.label().to_owned(),
                })
            }
            Ok(ring) if ring.in_use() && !force => return Ok(Removal::InUse(Box::new(ring))),
            Ok(_) => {}
            Err(e) if !force => return Err(e),
            Err(_) => {}
        }
    }
    remove(place, &fd)
}

fn stat(fd: &OwnedFd) -> Result<rustix::fs::Stat, OpenError> {
    rustix::fs::fstat(fd).map_err(|e| OpenError::Io {
        op: "fstat",
        source: e.into(),
    })
}

fn remove(place: &Place, fd: &OwnedFd) -> Result<Removal, OpenError> {
    match namespace::remove(place, fd.as_fd()) {
        Ok(true) => Ok(Removal::Removed),
        Ok(false) => Err(OpenError::NotFound {
            name: place.label().to_owned(),
        }),
        Err(e) => Err(map_errno(e, place.label(), "unlink")),
    }
}

/// Why [`collect_garbage`] takes a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Its creator died while initialising it: it never became a ring.
    AbandonedCreation,
    /// No role is held, and a holder died without detaching.
    HoldersDied,
    /// No role is held, and a handle found it corrupted: no handle opens it again.
    Broken,
}

/// A ring that [`collect_garbage`] took (or would take).
#[derive(Debug)]
#[non_exhaustive]
pub struct Garbage {
    /// The ring's name.
    pub name: String,
    /// Why it is garbage.
    pub reason: Reason,
    /// Whether it was removed (`Ok(false)` on a dry run, or when a process attached to it
    /// since it was looked at), or why it could not be.
    pub removed: Result<bool, OpenError>,
}

/// Finds the rings whose names start with `prefix` (`""` for all) that nobody will use
/// again, and removes them (with `dry_run`, only lists them): objects left initialising
/// by a creator that died, and rings whose roles are all free and of which a holder died
/// without detaching, or which a handle found corrupted. A ring whose holders all
/// detached gracefully is left alone: it may hold messages for the next process that
/// opens it (`remove_unused` removes it).
///
/// # Errors
/// The error of reading the namespace's directory.
pub fn collect_garbage(prefix: &str, dry_run: bool) -> io::Result<Vec<Garbage>> {
    let entries = list()?.into_iter().filter(|e| e.name.starts_with(prefix));
    Ok(collect(entries, Where::Namespace, dry_run))
}

/// Finds the file-backed rings of `dir` (those [`list_dir`] lists; [`Garbage::name`] is
/// the path) that nobody will use again, and removes them (with `dry_run`, only lists
/// them), by the rules of [`collect_garbage`] but one: a file left initialising is never
/// taken, as [`remove_unused_file`] explains (and [`list_dir`] does not list it).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-gc-dir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("jobs.ring");
/// ipcring::mpmc::Builder::at(&path).capacity(8).create_detached()?;
/// // Its holders all detached (here: none came): it waits for the next one.
/// assert!(ipcring::survey::collect_garbage_in(&dir, false)?.is_empty());
/// assert!(path.exists());
/// # ipcring::remove_file_ring(&path)?;
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The error of reading the directory.
pub fn collect_garbage_in(dir: impl AsRef<Path>, dry_run: bool) -> io::Result<Vec<Garbage>> {
    Ok(collect(list_dir(dir)?, Where::Path, dry_run))
}

/// The garbage among `entries`, found at `at`; removed unless `dry_run`.
fn collect(entries: impl IntoIterator<Item = Entry>, at: Where, dry_run: bool) -> Vec<Garbage> {
    let mut found = Vec::new();
    for entry in entries {
        let reason = match &entry.ring {
            // Only in the ring namespace: at a path, `abandoned` never guesses.
            Err(OpenError::StillInitializing { .. }) => {
                match at.place(&entry.name).and_then(|p| namespace::abandoned(&p)) {
                    Ok(Some(_)) => Reason::AbandonedCreation,
                    _ => continue,
                }
            }
            Ok(ring) if ring.in_use() => continue,
            Ok(ring) if ring.broken => Reason::Broken,
            Ok(ring) if ring.slots.iter().any(|s| s.holder == Holder::Dead) => Reason::HoldersDied,
            _ => continue,
        };
        let removed = if dry_run {
            Ok(false)
        } else {
            (at.place(&entry.name))
                .and_then(|p| remove_at(&p, at, false))
                .map(|r| matches!(r, Removal::Removed))
        };
        found.push(Garbage {
            name: entry.name,
            reason,
            removed,
        });
    }
    found
}
