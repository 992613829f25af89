//! Anonymous rings from C: a new memfd for a ring, and descriptors passed over unix
//! sockets in the wire format of `RingFd::send` and `RingFd::recv`, so that C and Rust
//! processes hand rings to each other. The `_create_fd` and `_open_fd` calls of every
//! role take such a descriptor (see `crate::place`).

use crate::status::{Result, Status};
use crate::{guard, name_arg, out};
use core::ffi::{c_char, c_int};
use ipcring::RingFd;
use rustix::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd};
use rustix::io::Errno;
use std::io;

/// A descriptor from C, borrowed for the call: `IPCRING_ERR_INVALID_ARGUMENT` if negative.
///
/// # Safety
/// `fd` is negative or stays open (or closed: a number that is not open only makes the
/// system calls given it fail with `EBADF`) until the call returns, and is not closed by
/// what borrows it.
unsafe fn borrowed<'a>(fd: c_int) -> Result<BorrowedFd<'a>> {
    if fd < 0 {
        return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: not -1, and open (or failing with EBADF) for the call per the contract.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// A new descriptor (close-on-exec) of what `fd` refers to: `IPCRING_ERR_INVALID_ARGUMENT`
/// if `fd` is negative or not an open descriptor.
pub(crate) fn dup(fd: c_int) -> Result<OwnedFd> {
    // SAFETY: the descriptor is only given to `fcntl`, which fails with EBADF for a
    // number that is not open; the new descriptor is this crate's own.
    let fd = unsafe { borrowed(fd) }?;
    fresh(fd)
}

/// A new descriptor (close-on-exec) of the description `fd` refers to.
fn fresh(fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    rustix::io::fcntl_dupfd_cloexec(fd, 0).map_err(|e| match e {
        Errno::BADF => Status::IPCRING_ERR_INVALID_ARGUMENT,
        _ => Status::IPCRING_ERR_IO,
    })
}

/// Gives C a descriptor of its own of `ring`'s memfd, through `out_fd`.
fn hand_over(ring: &RingFd, out_fd: *mut c_int) -> Result<()> {
    let slot = out(out_fd)?;
    let fd = fresh(ring.as_fd())?;
    // SAFETY: a non-NULL out-parameter, writable per the caller's contract.
    unsafe { slot.write(fd.into_raw_fd()) };
    Ok(())
}

/// The status of a socket's error in `ipcring_fd_send` and `ipcring_fd_recv`.
fn socket_status(e: &io::Error) -> Status {
    const BADF: i32 = Errno::BADF.raw_os_error();
    const NOTSOCK: i32 = Errno::NOTSOCK.raw_os_error();
    const PIPE: i32 = Errno::PIPE.raw_os_error();
    const CONNRESET: i32 = Errno::CONNRESET.raw_os_error();
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::UnexpectedEof, _) | (_, Some(PIPE | CONNRESET)) => {
            Status::IPCRING_ERR_DISCONNECTED
        }
        (_, Some(BADF | NOTSOCK)) => Status::IPCRING_ERR_INVALID_ARGUMENT,
        _ => Status::IPCRING_ERR_IO,
    }
}

/// Creates a new, empty memfd for one anonymous ring of any kind, and stores its
/// descriptor (close-on-exec) in `*out_fd`. The caller owns the descriptor: it creates
/// the ring in it with a `_create_fd` call, opens it with `_open_fd` calls, hands it to
/// other processes (`ipcring_fd_send`, or a child that inherits it once close-on-exec is
/// cleared) and closes it with `close(2)` when it no longer needs it. The ring lives as
/// long as a descriptor or a handle of it does anywhere; nothing can open it by a name.
///
/// `label` only names the memfd in `/proc/<pid>/fd` (`/memfd:<label>`). With a non-zero
/// `huge_pages` the memfd is on huge pages (`MFD_HUGETLB`, the system's default size):
/// the ring's size is rounded up to whole huge pages, taken from the reserved pool
/// (`/proc/sys/vm/nr_hugepages`) when it is created, and a pool too small then gives
/// `IPCRING_ERR_NO_HUGE_PAGES`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_NAME` (a label
/// not UTF-8 or longer than 249 bytes) or `IPCRING_ERR_IO` (also: no huge page support in
/// the kernel). On failure `*out_fd` is -1.
///
/// # Safety
/// `label` is NULL or a NUL-terminated string; `out_fd` is NULL or points to writable
/// memory for one `int`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_memfd_create(
    label: *const c_char,
    huge_pages: c_int,
    out_fd: *mut c_int,
) -> c_int {
    guard(|| {
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { out(out_fd)?.write(-1) };
        // SAFETY: forwarded contract.
        let label = unsafe { name_arg(label) }?;
        let ring = match huge_pages {
            0 => RingFd::new(label),
            _ => RingFd::with_huge_pages(label),
        }?;
        hand_over(&ring, out_fd)
    })
}

/// Sends the descriptor `fd` of an anonymous ring over the connected unix stream socket
/// `socket` (`SCM_RIGHTS`, with one byte of data), as `RingFd::send` does in Rust: the
/// receiver, C (`ipcring_fd_recv`) or Rust (`RingFd::recv`), gets a descriptor of the
/// same memfd. `fd` stays the caller's. Sending shares the memory, no role. Waits while
/// the socket is full, unless it is non-blocking.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_INVALID_ARGUMENT` (`socket` or `fd` negative or not
/// open, or `socket` not a socket), `IPCRING_ERR_DISCONNECTED` (the peer closed the
/// socket) or `IPCRING_ERR_IO`.
///
/// # Safety
/// `socket` and `fd` are descriptors that no other thread closes during the call (a
/// number that is not open is reported). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_fd_send(socket: c_int, fd: c_int) -> c_int {
    guard(|| {
        let ring = RingFd::from(dup(fd)?);
        // SAFETY: only given to `sendmsg`, which fails with EBADF for a number that is not
        // open, per the contract.
        let socket = unsafe { borrowed(socket) }?;
        ring.send(socket).map_err(|e| socket_status(&e))
    })
}

/// Receives a descriptor that `ipcring_fd_send` (or `RingFd::send` in Rust) sent over the
/// unix stream socket `socket`, waiting for it unless the socket is non-blocking, and
/// stores it (close-on-exec) in `*out_fd`: the caller owns it and closes it with
/// `close(2)`. What arrives is not trusted: the `_open_fd` call that opens the ring in it
/// checks that it is a sealed memfd that holds a valid ring.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_NULL_POINTER`, `IPCRING_ERR_INVALID_ARGUMENT`
/// (`socket` negative or not an open socket), `IPCRING_ERR_DISCONNECTED` (the peer closed
/// the socket), `IPCRING_ERR_NOT_IPCRING` (the message was not a ring descriptor's: no
/// descriptor, or other data) or `IPCRING_ERR_IO`. On failure `*out_fd` is -1.
///
/// # Safety
/// `socket` is a descriptor that no other thread closes during the call (a number that
/// is not open is reported); `out_fd` is NULL or points to writable memory for one `int`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_fd_recv(socket: c_int, out_fd: *mut c_int) -> c_int {
    guard(|| {
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { out(out_fd)?.write(-1) };
        // SAFETY: only given to `recvmsg`, which fails with EBADF for a number that is not
        // open, per the contract.
        let socket = unsafe { borrowed(socket) }?;
        let ring = RingFd::recv(socket).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => Status::IPCRING_ERR_NOT_IPCRING,
            _ => socket_status(&e),
        })?;
        hand_over(&ring, out_fd)
    })
}
