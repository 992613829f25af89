//! Anonymous shared memory for benchmarks: a memfd mapped `MAP_SHARED`, whose descriptor a
//! child process inherits across `exec`. Nothing is named, so nothing can be left behind.

use rustix::fs::{ftruncate, memfd_create, MemfdFlags};
use rustix::mm::{mmap, munmap, MapFlags, ProtFlags};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A mapped memfd. Unmapped and closed on drop.
#[derive(Debug)]
pub struct SharedMem {
    ptr: *mut u8,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the mapping is plain memory shared with another process; its users synchronise
// through atomics in it.
unsafe impl Send for SharedMem {}
// SAFETY: as above; `SharedMem` itself only hands out the base pointer.
unsafe impl Sync for SharedMem {}

impl SharedMem {
    /// A new zeroed memfd of `len` bytes, mapped (close-on-exec: the parent opts a child
    /// in with `inheritable`).
    pub fn create(len: usize) -> io::Result<SharedMem> {
        let fd = memfd_create(c"ipcring-bench", MemfdFlags::CLOEXEC)?;
        ftruncate(&fd, len as u64)?;
        SharedMem::map(fd, len)
    }

    /// Maps the memfd `fd` that a parent passed down.
    ///
    /// # Safety
    /// `fd` is an open descriptor that this process owns from now on.
    pub unsafe fn from_fd(fd: RawFd, len: usize) -> io::Result<SharedMem> {
        // SAFETY: the caller hands ownership of `fd` to us.
        SharedMem::map(unsafe { OwnedFd::from_raw_fd(fd) }, len)
    }

    fn map(fd: OwnedFd, len: usize) -> io::Result<SharedMem> {
        // SAFETY: a fresh shared mapping of a descriptor we own; the kernel picks the
        // address. MAP_POPULATE so that no page fault lands inside a measurement.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::POPULATE,
                &fd,
                0,
            )
        }?;
        Ok(SharedMem {
            ptr: ptr.cast(),
            len,
            fd,
        })
    }

    /// Base of the mapping (page-aligned).
    #[inline]
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The descriptor, for a child to inherit.
    #[inline]
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for SharedMem {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `map` mapped; nobody uses the pointer afterwards.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}
