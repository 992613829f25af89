//! The shared mapping of a segment's object, between two inaccessible guard regions, and
//! on huge pages when the object lives on hugetlbfs (a huge-page memfd, or a file ring on
//! a hugetlbfs mount).

use crate::error::OpenError;
use rustix::fd::BorrowedFd;
use rustix::fs::OFlags;
use rustix::mm::{MapFlags, ProtFlags};
use std::ptr::NonNull;

/// `HUGETLBFS_MAGIC`: the `f_type` of hugetlbfs, whose block size is its page size.
const HUGETLBFS_MAGIC: rustix::fs::FsWord = 0x9584_58f6;

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

    /// The access mode to open the object with.
    pub(crate) fn flags(self) -> OFlags {
        match self {
            Access::ReadWrite => OFlags::RDWR,
            Access::ReadOnly => OFlags::RDONLY,
        }
    }
}

/// The page size of the object of `fd`: the huge page size on hugetlbfs (which maps,
/// sizes and unmaps only in whole huge pages), the base page size elsewhere.
pub(crate) fn page_of(fd: BorrowedFd<'_>) -> Result<usize, OpenError> {
    let fs = rustix::fs::fstatfs(fd).map_err(|e| OpenError::Io {
        op: "fstatfs",
        source: e.into(),
    })?;
    let page = rustix::param::page_size();
    if fs.f_type == HUGETLBFS_MAGIC {
        Ok(usize::try_from(fs.f_bsize).unwrap_or(page).max(page))
    } else {
        Ok(page)
    }
}

/// A shared mapping between two guard regions (inaccessible: an access that strays past
/// either end faults at once instead of reading or writing whatever lies next to it),
/// unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
    /// The whole reservation: guards and mapping.
    reserved: NonNull<u8>,
    reserved_len: usize,
}

impl Mapping {
    /// Maps the first `len` bytes of `fd`'s object, which must hold them (rounded up to
    /// the object's page, see [`page_of`]).
    pub(crate) fn new(
        fd: BorrowedFd<'_>,
        len: usize,
        populate: bool,
        access: Access,
    ) -> Result<Mapping, OpenError> {
        let io = |e: rustix::io::Errno| OpenError::Io {
            op: "mmap",
            source: e.into(),
        };
        let out_of_memory = || OpenError::Io {
            op: "mmap",
            source: std::io::ErrorKind::OutOfMemory.into(),
        };
        let page = rustix::param::page_size();
        let align = page_of(fd)?;
        let (map_len, reserved_len) = reservation(len, page, align).ok_or_else(out_of_memory)?;
        // SAFETY: a fresh private, inaccessible mapping at an address the kernel chooses
        // aliases nothing.
        let reserved = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                reserved_len,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(io)?;
        // The first address aligned to the object's page at least one base page in: a
        // guard of at least a page before, and (see `reservation`) after.
        let offset = (reserved as usize + page).next_multiple_of(align) - reserved as usize;
        let mut flags = MapFlags::SHARED | MapFlags::FIXED;
        if populate {
            flags |= MapFlags::POPULATE;
        }
        // SAFETY: `offset + map_len` lies inside the reservation made above (see
        // `reservation`), which is ours and holds no Rust object; the object holds
        // `map_len` bytes (checked by the callers, sized in whole pages of its own).
        let p = unsafe {
            rustix::mm::mmap(
                reserved.cast::<u8>().add(offset).cast(),
                map_len,
                access.prot(),
                flags,
                fd,
                0,
            )
        };
        let unreserve = || {
            // SAFETY: the reservation made above, which nothing else uses.
            let _ = unsafe { rustix::mm::munmap(reserved, reserved_len) };
        };
        match p {
            Ok(p) => match (NonNull::new(p.cast::<u8>()), NonNull::new(reserved.cast())) {
                (Some(base), Some(reserved)) => Ok(Mapping {
                    base,
                    len,
                    reserved,
                    reserved_len,
                }),
                _ => {
                    unreserve();
                    Err(OpenError::Io {
                        op: "mmap",
                        source: std::io::ErrorKind::AddrNotAvailable.into(),
                    })
                }
            },
            Err(e) => {
                unreserve();
                Err(io(e))
            }
        }
    }

    /// Start of the mapping.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// Bytes mapped for the caller (the object's last page may hold more).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

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

/// The bytes to map for `len` bytes of an object of pages of `align` bytes, and the
/// bytes to reserve for them: the mapping, placed at an `align` boundary at least one
/// base `page` from the start, and a guard page after it.
fn reservation(len: usize, page: usize, align: usize) -> Option<(usize, usize)> {
    let map_len = len.max(1).checked_next_multiple_of(align)?;
    // Up to `page + align - page` bytes before the aligned start, then the mapping, then
    // a page.
    let reserved = map_len.checked_add(align)?.checked_add(page)?;
    Some((map_len, reserved))
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the reservation of `new`, which holds the mapping and its guards; every
        // reference into it is tied to the lifetime of the handle that owns it.
        let _ = unsafe { rustix::mm::munmap(self.reserved.as_ptr().cast(), self.reserved_len) };
    }
}

// SAFETY: the mapping is shared memory accessed only through atomics and through windows
// whose exclusivity the ring protocol guarantees; the pointer is valid until drop.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` gives only the base pointer and the length.
unsafe impl Sync for Mapping {}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;

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

    #[test]
    fn a_reservation_holds_an_aligned_mapping_and_its_guards() {
        let page = 4096;
        for align in [page, 2 << 20] {
            for len in [1, page, page + 1, 3 * align + 5] {
                let (map_len, reserved) = reservation(len, page, align).expect("fits");
                assert!(map_len >= len && map_len % align == 0);
                // Whatever page the reservation starts at, the aligned start leaves a
                // page before and after.
                for start in (0..2 * align).step_by(page) {
                    let offset = (start + page).next_multiple_of(align) - start;
                    assert!(offset >= page);
                    assert!(offset + map_len + page <= reserved, "{len} {align} {start}");
                }
            }
        }
        assert_eq!(reservation(usize::MAX - 10, page, page), None);
    }
}
