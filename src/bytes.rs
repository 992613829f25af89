//! Windows over a ring's data area: bytes that one side writes and the other reads.
//!
//! Under `--cfg ipcring_loom` the data area is a heap buffer whose every 8-byte word also
//! carries an atomic (for words used atomically, such as record headers) and a loom cell
//! tracker, so that reading a record before it was published, or overwriting one that is
//! still read, is reported as a data race.

use crate::sync::AtomicU64;
#[cfg(not(ipcring_loom))]
use crate::sync::Ordering;
#[cfg(ipcring_loom)]
use crate::sync::{ConstPtr, MutPtr, UnsafeCell};
use crate::view::{SharedBytes, SharedBytesMut};
use core::ptr::NonNull;

/// Copies `len` bytes between private buffers. Messages are mostly small: up to 16 bytes
/// are moved with at most two (overlapping) loads and stores instead of a call to
/// `memcpy`.
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes, and the two do not overlap.
#[inline(always)]
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: every access below is within the first `len` bytes of `src` and `dst`, per
    // the contract; unaligned reads and writes are allowed at any address.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                // First, middle and last byte cover 1, 2 and 3 bytes alike.
                *dst = *src;
                *dst.add(len / 2) = *src.add(len / 2);
                *dst.add(len - 1) = *src.add(len - 1);
            }
            4..=7 => {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(len - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(len - 4).cast::<u32>().write_unaligned(b);
            }
            8..=16 => {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(len - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(len - 8).cast::<u64>().write_unaligned(b);
            }
            _ => core::ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// The word at `p` of the shared area, as an atomic: the only way this crate reads or
/// writes bytes that another process may write at the same time (a scribbling peer), so
/// that no access to them is a data race, whatever the peer does.
///
/// # Safety
/// `p` is 8-aligned and points to 8 bytes of the area, which outlives the reference.
#[cfg(not(ipcring_loom))]
#[inline(always)]
unsafe fn shared_word<'a>(p: *const u8) -> &'a AtomicU64 {
    debug_assert!(p as usize % 8 == 0);
    // SAFETY: per the contract; `AtomicU64` has the size and alignment of `u64`.
    unsafe { &*p.cast::<AtomicU64>() }
}

/// From this many bytes on, a copy to or from the shared area moves its 64-byte blocks in
/// a loop of 16-byte SSE moves ([`blocks`]), and from [`MOVSB`] bytes on its whole words
/// with `rep movsb` ([`movsb`]). Measured on this machine (AMD EPYC, one thread, GB/s):
///
/// | bytes | atomic words | SSE blocks | `rep movsb` | `memcpy` |
/// | ---: | ---: | ---: | ---: | ---: |
/// | 128 | 15 | 25 | 6 | 24 |
/// | 512 | 19 | 35 | 22 | 44 |
/// | 2 KiB | 20 | 37 | 39 | 69 |
/// | 1 MiB | 16 | 30 | 30 | 32 |
#[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
const BLOCKS: usize = 128;

/// See [`BLOCKS`].
#[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
const MOVSB: usize = 2048;

// Both copies below are `asm!` blocks: opaque to the compiler, so that, like the atomic
// words, they read or write bytes that another process may write at the same time without
// a data race in Rust's sense, and at close to `memcpy`'s speed.

/// Copies `len` bytes with `rep movsb`.
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes; one of them is outside the area.
#[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
#[inline(always)]
unsafe fn movsb(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: `rep movsb` copies `rcx` bytes from `rsi` to `rdi`, forwards (the direction
    // flag is clear on entry to an asm block); both ranges are valid per the contract. It
    // touches no stack and no flags.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rsi") src => _,
            inout("rdi") dst => _,
            options(nostack, preserves_flags),
        );
    }
}

/// Copies `n` blocks of 64 bytes, 16 bytes per move (SSE2, which every x86-64 has).
///
/// # Safety
/// `n` > 0; `src` is readable and `dst` writable for `64 * n` bytes; one of them is
/// outside the area.
#[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
#[inline(always)]
unsafe fn blocks(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: each turn moves the 64 bytes at `s` to `d` (unaligned moves), then steps
    // both by 64; `n` turns stay within the ranges of the contract. No stack is used.
    unsafe {
        core::arch::asm!(
            "2:",
            "movdqu {a}, [{s}]",
            "movdqu {b}, [{s} + 16]",
            "movdqu {c}, [{s} + 32]",
            "movdqu {e}, [{s} + 48]",
            "movdqu [{d}], {a}",
            "movdqu [{d} + 16], {b}",
            "movdqu [{d} + 32], {c}",
            "movdqu [{d} + 48], {e}",
            "add {s}, 64",
            "add {d}, 64",
            "dec {n}",
            "jnz 2b",
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            n = inout(reg) n => _,
            a = out(xmm_reg) _,
            b = out(xmm_reg) _,
            c = out(xmm_reg) _,
            e = out(xmm_reg) _,
            options(nostack),
        );
    }
}

/// Moves the first whole words of a copy of `len` bytes in bulk if it is long enough for
/// that to pay (see [`BLOCKS`]); returns how many words it moved (the rest are the
/// caller's).
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes; one of them is outside the area.
#[cfg(not(ipcring_loom))]
#[inline(always)]
unsafe fn bulk_words(src: *const u8, dst: *mut u8, len: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if len >= MOVSB {
            // SAFETY: the whole words of `len`, per the contract.
            unsafe { movsb(src, dst, len & !7) };
            return len / 8;
        }
        if len >= BLOCKS {
            // SAFETY: the whole blocks of `len` (at least 2), per the contract.
            unsafe { blocks(src, dst, len / 64) };
            return len / 64 * 8;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (src, dst, len);
    0
}

/// Copies `len` bytes from the shared area at `src` to the private buffer at `dst`, in
/// bulk (see [`BLOCKS`]) and a word at a time with atomic loads (see [`shared_word`]); the
/// last, partial word is read whole.
///
/// # Safety
/// `src` is 8-aligned and `len` rounded up to a multiple of 8 bytes are readable there;
/// `dst` is writable for `len` bytes, outside the area.
#[cfg(not(ipcring_loom))]
#[inline(always)]
pub(crate) unsafe fn load_shared(src: *const u8, dst: *mut u8, len: usize) {
    let whole = len / 8;
    // SAFETY: word `i < whole` lies within the first `len` bytes of both sides; the last,
    // partial word of `src` within its rounded-up length, and only `len % 8` bytes of it
    // are written to `dst`.
    unsafe {
        for i in bulk_words(src, dst, len)..whole {
            // Relaxed: the record's or cell's state word orders the payload.
            let w = shared_word(src.add(8 * i)).load(Ordering::Relaxed);
            dst.add(8 * i).cast::<u64>().write_unaligned(w);
        }
        if len % 8 != 0 {
            // Relaxed: as above.
            let w = shared_word(src.add(8 * whole)).load(Ordering::Relaxed);
            copy(w.to_ne_bytes().as_ptr(), dst.add(8 * whole), len % 8);
        }
    }
}

/// Copies `len` bytes from the private buffer at `src` to the shared area at `dst`, in bulk
/// (see [`BLOCKS`]) and a word at a time with atomic stores (see [`shared_word`]); the
/// last, partial word is padded with zeros.
///
/// # Safety
/// `dst` is 8-aligned and `len` rounded up to a multiple of 8 bytes are writable there and
/// ours; `src` is readable for `len` bytes, outside the area.
#[cfg(not(ipcring_loom))]
#[inline(always)]
pub(crate) unsafe fn store_shared(src: *const u8, dst: *mut u8, len: usize) {
    let whole = len / 8;
    // SAFETY: as in `load_shared`, the other way round.
    unsafe {
        for i in bulk_words(src, dst, len)..whole {
            let w = src.add(8 * i).cast::<u64>().read_unaligned();
            // Relaxed: published by the record's or cell's state word.
            shared_word(dst.add(8 * i)).store(w, Ordering::Relaxed);
        }
        if len % 8 != 0 {
            let mut w = [0u8; 8];
            copy(src.add(8 * whole), w.as_mut_ptr(), len % 8);
            // Relaxed: as above.
            shared_word(dst.add(8 * whole)).store(u64::from_ne_bytes(w), Ordering::Relaxed);
        }
    }
}

/// Under loom the payload lives in plain heap memory, whose windows loom's trackers check
/// for races: a plain copy.
#[cfg(ipcring_loom)]
pub(crate) use copy as load_shared;
#[cfg(ipcring_loom)]
pub(crate) use copy as store_shared;

/// View of a ring's data area: bytes that are written by one side and read by the other.
///
/// Offsets are always reduced with the ring's private mask before they reach these
/// methods; the `debug_assert!`s restate that invariant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    words: NonNull<AtomicU64>,
    #[cfg(ipcring_loom)]
    cells: NonNull<UnsafeCell<()>>,
}

/// A writable window of the data area, held while a record's payload is written.
#[derive(Debug)]
pub(crate) struct WriteAccess {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    _tracked: Vec<MutPtr<()>>,
}

/// A readable window of the data area, held while a record's payload is read.
#[derive(Debug)]
pub(crate) struct ReadAccess {
    ptr: NonNull<u8>,
    len: usize,
    #[cfg(ipcring_loom)]
    _tracked: Vec<ConstPtr<()>>,
}

impl WriteAccess {
    /// Ends the access (under loom this is where the checked write ends); the writer
    /// calls it before publishing.
    #[inline]
    pub(crate) fn end(self) {}

    /// Fills the window with `src`, which has exactly its length.
    #[inline(always)]
    pub(crate) fn fill(&mut self, src: &[u8]) {
        assert_eq!(src.len(), self.len, "a window is filled whole");
        // SAFETY: the window starts on a word and its length rounded up to a word is ours
        // (see `Bytes::write`), `src` has `len` readable bytes, and a window of the shared
        // area cannot overlap a Rust slice.
        unsafe { store_shared(src.as_ptr(), self.ptr.as_ptr(), self.len) };
    }

    /// A view of the window, lent to the user.
    ///
    /// # Safety
    /// The view does not outlive the memory of the area, nor the window's claim (the
    /// caller ends both together).
    #[inline]
    pub(crate) unsafe fn view<'a>(&self) -> SharedBytesMut<'a> {
        // SAFETY: `Bytes::write` returned this window on a word of the data area, with its
        // rounded-up length ours until it ends; the caller bounds the view by that.
        unsafe { SharedBytesMut::new(self.ptr.as_ptr(), self.len) }
    }
}

impl ReadAccess {
    /// Replaces the contents of `buf` with the window's bytes.
    #[inline(always)]
    pub(crate) fn copy_into(&self, buf: &mut Vec<u8>) {
        // SAFETY: the view lives for this call only, inside the window.
        unsafe { self.view() }.copy_into(buf);
    }

    /// The window's bytes as a `T`, which has exactly its length.
    #[inline(always)]
    pub(crate) fn value<T: bytemuck::Pod>(&self) -> T {
        // SAFETY: as in `copy_into`.
        let v = unsafe { self.view() }.value();
        v.expect("a value is read whole")
    }

    /// Ends the access (under loom this is where the checked read ends).
    #[inline]
    pub(crate) fn end(self) {}

    /// A view of the window, lent to the user.
    ///
    /// # Safety
    /// The view does not outlive the memory of the area, nor the window's claim (the
    /// caller ends both together).
    #[inline]
    pub(crate) unsafe fn view<'a>(&self) -> SharedBytes<'a> {
        // SAFETY: `Bytes::read` returned this window on a word of the data area, readable
        // with its rounded-up length until it ends; the caller bounds the view by that.
        unsafe { SharedBytes::new(self.ptr.as_ptr(), self.len) }
    }
}

// SAFETY: the windows point into a data area that outlives the handle holding them; moving
// them to another thread moves the exclusive right to that range with them.
unsafe impl Send for WriteAccess {}
// SAFETY: as above; a read window is only ever read.
unsafe impl Send for ReadAccess {}

impl Bytes {
    /// Wraps `len` bytes at `ptr` that live in shared memory.
    ///
    /// # Safety
    /// - `ptr` is valid for reads and writes of `len` bytes for as long as the `Bytes` and
    ///   every window taken from it are used, and is 8-byte aligned;
    /// - `len` is a multiple of 8.
    #[cfg(not(ipcring_loom))]
    pub(crate) unsafe fn from_raw(ptr: NonNull<u8>, len: usize) -> Self {
        debug_assert!(ptr.as_ptr() as usize % 8 == 0 && len % 8 == 0);
        Bytes { ptr, len }
    }

    /// Shared memory cannot be checked by loom: models use [`HeapBytes`].
    ///
    /// # Safety
    /// Never returns.
    #[cfg(ipcring_loom)]
    pub(crate) unsafe fn from_raw(_ptr: NonNull<u8>, _len: usize) -> Self {
        panic!("loom models run on heap regions, not on shared memory segments")
    }

    /// The start of the area.
    #[inline]
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Length of the data area in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The 8-byte word at `off`, used atomically (record headers).
    #[inline]
    pub(crate) fn word(&self, off: usize) -> &AtomicU64 {
        debug_assert!(
            off % 8 == 0 && off + 8 <= self.len,
            "word {off} of {}",
            self.len
        );
        #[cfg(not(ipcring_loom))]
        // SAFETY: `off` is 8-aligned and in bounds (the mask keeps it so), the area is
        // 8-aligned, and `AtomicU64` has the size and alignment of `u64`.
        return unsafe { &*(self.ptr.as_ptr().add(off) as *const AtomicU64) };
        #[cfg(ipcring_loom)]
        // SAFETY: the loom region keeps one atomic per word for its whole life.
        return unsafe { &*self.words.as_ptr().add(off / 8) };
    }

    /// Copies `src` into the area at `off`, as [`store_shared`] does: in bulk and a word at
    /// a time, so that a reader that copies the same bytes at the same time (and drops what
    /// it read, as the readers of cells do) makes no data race.
    ///
    /// # Safety
    /// `off` is a multiple of 8, `off..off + src.len()` rounded up to a multiple of 8 is
    /// inside the area, and only the caller writes it.
    #[cfg(not(ipcring_loom))]
    #[inline(always)]
    pub(crate) unsafe fn store_at(&self, off: usize, src: &[u8]) {
        debug_assert!(off % 8 == 0 && src.len().next_multiple_of(8) <= self.len - off);
        // SAFETY: in bounds and ours per the contract; `src` is a private buffer.
        unsafe { store_shared(src.as_ptr(), self.ptr.as_ptr().add(off), src.len()) }
    }

    /// Copies the `len` bytes at `off` to `dst`, as [`load_shared`] does (see
    /// [`Bytes::store_at`]).
    ///
    /// # Safety
    /// `off` is a multiple of 8, `off..off + len` rounded up to a multiple of 8 is inside
    /// the area, and `dst` is writable for `len` bytes, outside the area.
    #[cfg(not(ipcring_loom))]
    #[inline(always)]
    pub(crate) unsafe fn load_at(&self, off: usize, dst: *mut u8, len: usize) {
        debug_assert!(off % 8 == 0 && len.next_multiple_of(8) <= self.len - off);
        // SAFETY: in bounds per the contract; `dst` per the contract.
        unsafe { load_shared(self.ptr.as_ptr().add(off), dst, len) }
    }

    /// Takes a window of `len` bytes at `off` for writing.
    ///
    /// # Safety
    /// `off` is a multiple of 8, `off..off + len` rounded up to a multiple of 8 is inside
    /// the area, and the caller owns it: the other side does not access it until the
    /// record that covers it is published.
    #[inline]
    pub(crate) unsafe fn write(&self, off: usize, len: usize) -> WriteAccess {
        debug_assert!(off % 8 == 0 && off <= self.len && len.next_multiple_of(8) <= self.len - off);
        WriteAccess {
            // SAFETY: in bounds per the contract above.
            ptr: unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(off)) },
            len,
            #[cfg(ipcring_loom)]
            _tracked: self.cells_for(off, len).map(|c| c.get_mut()).collect(),
        }
    }

    /// Takes a window of `len` bytes at `off` for reading.
    ///
    /// # Safety
    /// `off` is a multiple of 8, `off..off + len` rounded up to a multiple of 8 is inside
    /// the area and was published by the other side, which does not write it again until
    /// this side releases it.
    #[inline]
    pub(crate) unsafe fn read(&self, off: usize, len: usize) -> ReadAccess {
        debug_assert!(off % 8 == 0 && off <= self.len && len.next_multiple_of(8) <= self.len - off);
        ReadAccess {
            // SAFETY: in bounds per the contract above.
            ptr: unsafe { NonNull::new_unchecked(self.ptr.as_ptr().add(off)) },
            len,
            #[cfg(ipcring_loom)]
            _tracked: self.cells_for(off, len).map(|c| c.get()).collect(),
        }
    }

    /// Hints the CPU to fetch the cache line at `off`. An `off` out of range is harmless:
    /// the address is only computed (wrapping) and a prefetch never faults, so the hot
    /// paths need no bounds check for it.
    #[inline(always)]
    pub(crate) fn prefetch(&self, off: usize) {
        #[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
        // SAFETY: a prefetch reads nothing and never faults, whatever the address.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                self.ptr.as_ptr().wrapping_add(off) as *const i8,
            )
        };
        #[cfg(any(ipcring_loom, not(target_arch = "x86_64")))]
        let _ = off;
    }

    /// Hints the CPU to fetch the cache line at `off` for writing; out of range harmless,
    /// as for [`Bytes::prefetch`].
    #[inline(always)]
    pub(crate) fn prefetch_write(&self, off: usize) {
        #[cfg(all(not(ipcring_loom), target_arch = "x86_64"))]
        // SAFETY: a prefetch writes nothing and never faults, whatever the address.
        unsafe {
            core::arch::asm!(
                "prefetchw [{p}]",
                p = in(reg) self.ptr.as_ptr().wrapping_add(off),
                options(nostack, preserves_flags, readonly)
            )
        };
        #[cfg(any(ipcring_loom, not(target_arch = "x86_64")))]
        let _ = off;
    }

    #[cfg(ipcring_loom)]
    fn cells_for(&self, off: usize, len: usize) -> impl Iterator<Item = &UnsafeCell<()>> + '_ {
        let first = off / 8;
        let end = (off + len).div_ceil(8);
        // SAFETY: the loom region keeps one tracker per word for its whole life and
        // `first..end` is in bounds because `off..off + len` is.
        (first..end).map(move |i| unsafe { &*self.cells.as_ptr().add(i) })
    }
}

/// A data area on the heap, zeroed like a fresh segment: for in-process rings, the loom
/// models and the sanitizer tests. Freed on drop; the [`Bytes`] taken from it must not
/// outlive it.
#[derive(Debug)]
pub(crate) struct HeapBytes {
    bytes: Bytes,
    #[cfg(ipcring_loom)]
    words: Box<[AtomicU64]>,
    #[cfg(ipcring_loom)]
    cells: Box<[UnsafeCell<()>]>,
}

// SAFETY: the area is only accessed through atomics and through windows whose exclusivity
// the ring protocol guarantees; it is the same memory discipline as a shared segment.
unsafe impl Send for HeapBytes {}
// SAFETY: as above.
unsafe impl Sync for HeapBytes {}

impl HeapBytes {
    /// Allocates `len` zeroed bytes (`len` a positive multiple of 8).
    pub(crate) fn new(len: usize) -> HeapBytes {
        assert!(len % 8 == 0 && len > 0);
        let buf: Box<[u64]> = vec![0u64; len / 8].into_boxed_slice();
        let ptr = NonNull::from(Box::leak(buf)).cast::<u8>();
        #[cfg(ipcring_loom)]
        {
            let words: Box<[AtomicU64]> = (0..len / 8).map(|_| AtomicU64::new(0)).collect();
            let cells: Box<[UnsafeCell<()>]> = (0..len / 8).map(|_| UnsafeCell::new(())).collect();
            let bytes = Bytes {
                ptr,
                len,
                words: NonNull::from(&words[0]),
                cells: NonNull::from(&cells[0]),
            };
            HeapBytes {
                bytes,
                words,
                cells,
            }
        }
        #[cfg(not(ipcring_loom))]
        HeapBytes {
            bytes: Bytes { ptr, len },
        }
    }

    /// The area.
    pub(crate) fn bytes(&self) -> Bytes {
        self.bytes
    }
}

impl Drop for HeapBytes {
    fn drop(&mut self) {
        #[cfg(ipcring_loom)]
        let _ = (&self.words, &self.cells);
        // SAFETY: the buffer was leaked from a box of exactly this type and size in `new`,
        // and no window outlives the owner of this area.
        unsafe {
            let words = core::ptr::slice_from_raw_parts_mut(
                self.bytes.ptr.as_ptr().cast::<u64>(),
                self.bytes.len / 8,
            );
            drop(Box::from_raw(words));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_and_large_copies_move_exactly_len_bytes() {
        for len in 0..=40usize {
            let src: Vec<u8> = (1..=len as u8).collect();
            // Guard bytes on both sides of the destination must stay untouched.
            let mut dst = vec![0xEEu8; len + 2];
            // SAFETY: `src` has `len` bytes, `dst[1..]` has `len + 1`; distinct vectors.
            unsafe { super::copy(src.as_ptr(), dst.as_mut_ptr().add(1), len) };
            assert_eq!(dst[0], 0xEE, "len {len}");
            assert_eq!(&dst[1..=len], &src[..], "len {len}");
            assert_eq!(dst[len + 1], 0xEE, "len {len}");
        }
    }

    /// Copies in and out of a word-aligned area move exactly `len` bytes on the private
    /// side, and pad the last shared word with zeros.
    #[cfg(not(ipcring_loom))]
    #[test]
    fn shared_copies_move_exactly_len_bytes_and_pad_the_last_word() {
        for len in (0..=40usize).chain([127, 128, 135, 200, 1025, 2047, 2048, 2049, 4099]) {
            let src: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            let mut area = vec![u64::MAX; len / 8 + 2];
            // SAFETY: `area` is 8-aligned with more than `len` rounded up to 8 bytes;
            // `src` has `len` bytes; distinct buffers.
            unsafe { super::store_shared(src.as_ptr(), area.as_mut_ptr().cast(), len) };
            let bytes: Vec<u8> = area.iter().flat_map(|w| w.to_ne_bytes()).collect();
            assert_eq!(&bytes[..len], &src[..], "len {len}");
            let padded = len.next_multiple_of(8);
            assert!(bytes[len..padded].iter().all(|&b| b == 0), "len {len}");
            assert!(bytes[padded..].iter().all(|&b| b == 0xff), "len {len}");
            let mut back = vec![0xEEu8; len + 2];
            // SAFETY: as above; `back[1..]` has `len + 1` bytes.
            unsafe { super::load_shared(area.as_ptr().cast(), back.as_mut_ptr().add(1), len) };
            assert_eq!(back[0], 0xEE, "len {len}");
            assert_eq!(&back[1..=len], &src[..], "len {len}");
            assert_eq!(back[len + 1], 0xEE, "len {len}");
        }
    }
}
