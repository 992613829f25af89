//! Which roles are alive, told by locks that the kernel releases when a process dies.
//!
//! Each role handle opens the segment on its own open file description and holds an
//! open-file-description (OFD) write lock on one byte that stands for its role. The kernel
//! drops the lock when the description is closed: on drop, on `exit`, on `kill -9`. So a
//! lock held means a live holder, whatever pids were reused meanwhile, and a slow process
//! is never mistaken for a dead one. OFD locks (unlike classic POSIX record locks) belong to
//! the description, not the process: two handles in one process exclude each other too.

use rustix::fd::{AsRawFd, BorrowedFd};
use std::io;

/// A role that a process can hold on a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The writing side.
    Producer,
    /// The reading side.
    Consumer,
}

impl Role {
    /// The byte of the segment whose lock stands for this role.
    fn byte(self) -> i64 {
        match self {
            Role::Producer => 0,
            Role::Consumer => 1,
        }
    }

    /// The other side.
    pub(crate) fn peer(self) -> Role {
        match self {
            Role::Producer => Role::Consumer,
            Role::Consumer => Role::Producer,
        }
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        })
    }
}

fn flock_for(role: Role, kind: libc::c_short) -> libc::flock {
    // SAFETY: `flock` is a plain C struct for which all-zero is a valid value.
    let mut fl: libc::flock = unsafe { core::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = role.byte();
    fl.l_len = 1;
    // l_pid must be 0 for OFD locks.
    fl.l_pid = 0;
    fl
}

/// Takes the lock of `role` on `fd`'s open file description without blocking.
/// Returns `Ok(false)` when another description holds it.
pub(crate) fn try_take(fd: BorrowedFd<'_>, role: Role) -> io::Result<bool> {
    let fl = flock_for(role, libc::F_WRLCK as libc::c_short);
    // SAFETY: `fd` is a valid open descriptor and `fl` a valid flock that outlives the call.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(e),
    }
}

/// Whether any open file description other than `fd`'s holds the lock of `role`.
pub(crate) fn is_held(fd: BorrowedFd<'_>, role: Role) -> io::Result<bool> {
    let mut fl = flock_for(role, libc::F_WRLCK as libc::c_short);
    // SAFETY: `fd` is a valid open descriptor and `fl` a valid flock the kernel may write.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}
