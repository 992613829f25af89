//! Where a create or open call finds its ring: at a name, at a path (a name with a '/': a
//! file-backed ring), or in the memfd of an anonymous ring, given by its descriptor.

use crate::anonymous;
use crate::status::{Result, Status};
use crate::{cstr_arg, path_of};
use core::ffi::{c_char, c_int};
use ipcring::{Builder, RingFd};
use std::path::Path;

/// A create or open call's ring, as C gave it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At {
    /// A NUL-terminated ring name, or path with a '/'.
    Name(*const c_char),
    /// A descriptor of a memfd, borrowed for the call.
    Fd(c_int),
}

/// A create or open call's ring, checked.
#[derive(Debug)]
pub(crate) enum Place<'a> {
    /// A named ring (`/dev/shm/ipcring.<name>`).
    Name(&'a str),
    /// A file-backed ring.
    Path(&'a Path),
    /// An anonymous ring: a descriptor of its own of the caller's memfd.
    Fd(RingFd),
}

impl At {
    /// The place that `self` gives: a name with a '/' is a path (taken as bytes, so it
    /// need not be UTF-8); a descriptor is duplicated, the caller's own left alone.
    ///
    /// # Safety
    /// A `Name` is NULL or points to a NUL-terminated string that stays alive and
    /// unchanged for `'a`.
    pub(crate) unsafe fn place<'a>(self) -> Result<Place<'a>> {
        match self {
            At::Name(name) => {
                // SAFETY: forwarded contract.
                let name = unsafe { cstr_arg(name) }?;
                if name.to_bytes().contains(&b'/') {
                    return Ok(Place::Path(path_of(name)));
                }
                let name = name
                    .to_str()
                    .map_err(|_| Status::IPCRING_ERR_INVALID_NAME)?;
                Ok(Place::Name(name))
            }
            At::Fd(fd) => Ok(Place::Fd(RingFd::from(anonymous::dup(fd)?))),
        }
    }
}

impl Place<'_> {
    /// A builder of any kind for this place, with the kind's defaults.
    pub(crate) fn builder<K: Default>(&self) -> Builder<K> {
        match self {
            Place::Name(name) => Builder::new(name),
            Place::Path(path) => Builder::at(path),
            Place::Fd(ring) => Builder::fd(ring),
        }
    }
}
