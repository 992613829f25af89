//! Which ring a command works on. An argument with a `/` in it is the path of a
//! file-backed ring (`./orders.ring` for one in the current directory); any other is the
//! name of a ring in /dev/shm (no ring name holds a `/`). `inspect` and `watch` also take
//! a process's descriptor of an anonymous ring, `/proc/PID/fd/N`.

use ipcring::survey::{self, Removal, Ring};
use ipcring::OpenError;

/// A ring as the command line gives it: a name, or a file ring's path.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a>(&'a str);

impl<'a> Target<'a> {
    /// The ring that the argument `arg` names.
    pub fn new(arg: &'a str) -> Target<'a> {
        Target(arg)
    }

    /// The argument as given: how messages name the ring.
    pub fn arg(&self) -> &'a str {
        self.0
    }

    /// Whether the argument is a file ring's path (it holds a `/`).
    pub fn is_path(&self) -> bool {
        self.0.contains('/')
    }

    /// The options of a ring of kind `K` at the target, to create or open it.
    pub fn builder<K: Default>(&self) -> ipcring::Builder<K> {
        if self.is_path() {
            ipcring::Builder::at(self.0)
        } else {
            ipcring::Builder::new(self.0)
        }
    }

    /// A process's descriptor (`/proc/PID/fd/N`, or `/proc/self/fd/N`).
    fn is_descriptor(&self) -> bool {
        let path = std::path::Path::new(self.0);
        path.starts_with("/proc")
            && path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|d| d == "fd")
    }

    /// The ring, surveyed (read-only, taking nothing).
    pub fn inspect(&self) -> Result<Ring, OpenError> {
        if self.is_descriptor() {
            survey::inspect_fd(&self.descriptor()?, self.0)
        } else if self.is_path() {
            survey::inspect_file(self.0)
        } else {
            survey::inspect(self.0)
        }
    }

    /// The anonymous ring that a process's descriptor refers to: the link is followed (the
    /// kernel lets us only if we may inspect that process), without blocking on a FIFO.
    fn descriptor(&self) -> Result<ipcring::RingFd, OpenError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.0)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => OpenError::NotFound {
                    name: self.0.to_owned(),
                },
                std::io::ErrorKind::PermissionDenied => OpenError::PermissionDenied {
                    name: self.0.to_owned(),
                    source,
                },
                _ => OpenError::Io { op: "open", source },
            })?;
        Ok(ipcring::RingFd::from(std::os::fd::OwnedFd::from(file)))
    }

    /// Removes the ring unless a live process holds a role (or `force`).
    pub fn remove_unused(&self, force: bool) -> Result<Removal, OpenError> {
        if self.is_path() {
            survey::remove_unused_file(self.0, force)
        } else {
            survey::remove_unused(self.0, force)
        }
    }

    /// What removes the ring left initialising by a creator that died: `gc` in the ring
    /// namespace; at a path, where a write-only file may be anything, `rm --force`.
    pub fn remover_of_leftover(&self) -> String {
        if self.is_path() {
            format!("`ipcring rm --force {}`", self.0)
        } else {
            "`ipcring gc`".into()
        }
    }
}
