//! Removing rings that nobody uses: what `ipcring rm` and `ipcring gc` do.
//!
//! A remover takes the object lock of the name (which creators hold while they
//! initialise, and other removers while they remove), looks at the ring under it, and
//! removes the name only if it still refers to the object it looked at: a ring created
//! again under the name meanwhile is never removed. A process that opens the ring between
//! the look and the removal keeps its mapping and works on; the name is gone for openers
//! after it.

use super::{inspect, list, Holder, Ring};
use crate::error::OpenError;
use crate::namespace::{self, map_errno, Place};
use rustix::fd::{AsFd, OwnedFd};
use std::io;

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
    let place = Place::named(name)?;
    let fd = namespace::lock_place(&place)?;
    let st = stat(&fd)?;
    // We hold the object lock, so a creator that left the object initialising is dead.
    if !namespace::initialising(st.st_mode) {
        match inspect(name) {
            Ok(ring) if ring.id != (st.st_dev, st.st_ino) => {
                return Err(OpenError::NotFound {
                    name: name.to_owned(),
                })
            }
            Ok(ring) if ring.in_use() && !force => return Ok(Removal::InUse(Box::new(ring))),
            Ok(_) => {}
            Err(e) if !force => return Err(e),
            Err(_) => {}
        }
    }
    remove(&place, &fd)
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
        Err(e) => Err(map_errno(e, place.label(), "shm_unlink")),
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
/// again, and removes them (with `dry_run`, only lists them): objects left initialising by a creator that died, and rings whose roles
/// are all free and of which a holder died without detaching, or which a handle found
/// corrupted. A ring whose holders all detached gracefully is left alone: it may hold
/// messages for the next process that opens it (`remove_unused` removes it).
///
/// # Errors
/// The error of reading the namespace's directory.
pub fn collect_garbage(prefix: &str, dry_run: bool) -> io::Result<Vec<Garbage>> {
    let mut found = Vec::new();
    for entry in list()? {
        if !entry.name.starts_with(prefix) {
            continue;
        }
        let reason = match &entry.ring {
            Err(OpenError::StillInitializing { .. }) => {
                match Place::named(&entry.name).and_then(|p| namespace::abandoned(&p)) {
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
            remove_unused(&entry.name, false).map(|r| matches!(r, Removal::Removed))
        };
        found.push(Garbage {
            name: entry.name,
            reason,
            removed,
        });
    }
    Ok(found)
}
