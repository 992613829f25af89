//! Views of a message lent in place: bytes in memory that other processes map too.
//!
//! A peer that follows the protocol never writes the bytes of a message while it is lent,
//! but ipcring does not trust its peers: one that scribbles could write them at any time.
//! A `&[u8]` over such bytes would promise the compiler that they do not change while it
//! lives (it may read a byte twice and act on two values), so these views hand out no
//! reference to the bytes. They copy, with word-atomic accesses that make a concurrent
//! write no data race; a caller that vouches for its peers may still borrow the bytes as a
//! slice, through an `unsafe` method whose contract says so.

use crate::bytes::{copy, load_shared, store_shared};
use core::marker::PhantomData;

/// The bytes of a message lent for reading (what a read grant dereferences to).
///
/// Copy them out with [`SharedBytes::to_vec`], [`SharedBytes::copy_into`],
/// [`SharedBytes::copy_to_slice`] or [`SharedBytes::value`]; borrow them in place only
/// with [`SharedBytes::as_slice_unchecked`].
pub struct SharedBytes<'a> {
    /// Start of the message: a word boundary of the shared area (the length rounded up to
    /// a word is readable there), or private memory.
    ptr: *const u8,
    len: usize,
    /// Whether `ptr` points into the shared area (else into a private copy).
    shared: bool,
    _lent: PhantomData<&'a [u8]>,
}

impl<'a> SharedBytes<'a> {
    /// A view of `len` bytes at `ptr`.
    ///
    /// # Safety
    /// `ptr` is 8-aligned and `len` rounded up to a multiple of 8 bytes are readable there
    /// for `'a`; nobody who follows the protocol writes them meanwhile.
    pub(crate) unsafe fn new(ptr: *const u8, len: usize) -> SharedBytes<'a> {
        debug_assert!(ptr as usize % 8 == 0);
        SharedBytes {
            ptr,
            len,
            shared: true,
            _lent: PhantomData,
        }
    }

    /// A view of a private copy of a message, `len` bytes at `ptr`.
    ///
    /// # Safety
    /// `len` bytes are readable at `ptr` for `'a`, in memory that nobody writes meanwhile.
    pub(crate) unsafe fn private(ptr: *const u8, len: usize) -> SharedBytes<'a> {
        SharedBytes {
            ptr,
            len,
            shared: false,
            _lent: PhantomData,
        }
    }

    /// Copies the message to `dst`.
    ///
    /// # Safety
    /// `dst` is writable for `len` bytes and private.
    #[inline(always)]
    unsafe fn load(&self, dst: *mut u8) {
        // SAFETY: the view's bytes are readable as `new` or `private` require; `dst` per
        // the contract, and private memory cannot overlap the view's.
        unsafe {
            if self.shared {
                load_shared(self.ptr, dst, self.len)
            } else {
                copy(self.ptr, dst, self.len)
            }
        }
    }

    /// The length of the message in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the message into `dst`, which must have exactly its length.
    ///
    /// # Panics
    /// If `dst.len()` differs from [`SharedBytes::len`].
    #[inline]
    pub fn copy_to_slice(&self, dst: &mut [u8]) {
        assert_eq!(
            dst.len(),
            self.len,
            "copy_to_slice into a slice of another length"
        );
        // SAFETY: `dst` has `len` bytes and is a Rust slice we borrow mutably: private.
        unsafe { self.load(dst.as_mut_ptr()) };
    }

    /// Replaces the contents of `buf` with the message.
    #[inline]
    pub fn copy_into(&self, buf: &mut Vec<u8>) {
        buf.clear();
        buf.reserve(self.len);
        // SAFETY: `buf` has room for `len` bytes after `reserve`, and is ours. `set_len`
        // follows the copy that initialised those bytes.
        unsafe {
            self.load(buf.as_mut_ptr());
            buf.set_len(self.len);
        }
    }

    /// The message, copied into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.copy_into(&mut v);
        v
    }

    /// The message as a plain-old-data value, if it has exactly the value's size.
    #[inline]
    pub fn value<T: bytemuck::Pod>(&self) -> Option<T> {
        if core::mem::size_of::<T>() != self.len {
            return None;
        }
        let mut v = T::zeroed();
        self.copy_to_slice(bytemuck::bytes_of_mut(&mut v));
        Some(v)
    }

    /// The address of the first byte, for code that reads it its own way (C, `volatile`).
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    /// Borrows the message in place as a slice: zero-copy, for peers you trust.
    ///
    /// # Safety
    /// No process writes the message's bytes while the slice lives. Peers that use
    /// ipcring never do (a lent message is the reader's until it is released); only a
    /// peer that scribbles over the shared memory (a bug, or a hostile process that can
    /// write the segment) could, and then the slice is undefined behaviour.
    #[inline]
    pub unsafe fn as_slice_unchecked(&self) -> &[u8] {
        // SAFETY: readable while the view lives (see `new`); unchanged while borrowed, per
        // the caller.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Compares the message with `other` by copying it out a piece at a time (no allocation).
impl PartialEq<[u8]> for SharedBytes<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        if other.len() != self.len {
            return false;
        }
        let mut piece = [0u8; 256];
        other.chunks(piece.len()).enumerate().all(|(i, want)| {
            let got = &mut piece[..want.len()];
            // SAFETY: piece `i` lies within the view (the chunks of `other`, which has the
            // view's length); at a multiple of 256 from the start, it keeps the view's word
            // alignment; `got` is private.
            unsafe {
                let part = SharedBytes {
                    ptr: self.ptr.add(i * 256),
                    len: want.len(),
                    shared: self.shared,
                    _lent: PhantomData,
                };
                part.load(got.as_mut_ptr());
            }
            got == want
        })
    }
}

impl<const N: usize> PartialEq<[u8; N]> for SharedBytes<'_> {
    fn eq(&self, other: &[u8; N]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<&[u8]> for SharedBytes<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        *self == **other
    }
}

impl PartialEq<Vec<u8>> for SharedBytes<'_> {
    fn eq(&self, other: &Vec<u8>) -> bool {
        *self == other[..]
    }
}

/// Shows the length and a copy of the first 64 bytes at most.
impl core::fmt::Debug for SharedBytes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut head = [0u8; 64];
        let n = self.len.min(head.len());
        let shown = SharedBytes {
            len: n,
            _lent: PhantomData,
            ..*self
        };
        // SAFETY: the first `n` bytes of the view; `head` is private.
        unsafe { shown.load(head.as_mut_ptr()) };
        f.debug_struct("SharedBytes")
            .field("len", &self.len)
            .field("head", &&head[..n])
            .finish()
    }
}

/// The room of a message lent for writing (what a write grant dereferences to).
///
/// Write it with [`SharedBytesMut::write_at`] or [`SharedBytesMut::copy_from_slice`];
/// borrow it in place only with [`SharedBytesMut::as_mut_slice_unchecked`].
pub struct SharedBytesMut<'a> {
    /// Start of the room: a word boundary of the shared area (the length rounded up to a
    /// word is ours there).
    ptr: *mut u8,
    len: usize,
    _lent: PhantomData<&'a mut [u8]>,
}

impl<'a> SharedBytesMut<'a> {
    /// A view of `len` bytes at `ptr`.
    ///
    /// # Safety
    /// `ptr` is 8-aligned and `len` rounded up to a multiple of 8 bytes are writable there
    /// for `'a` and ours: nobody who follows the protocol reads or writes them meanwhile.
    pub(crate) unsafe fn new(ptr: *mut u8, len: usize) -> SharedBytesMut<'a> {
        debug_assert!(ptr as usize % 8 == 0);
        SharedBytesMut {
            ptr,
            len,
            _lent: PhantomData,
        }
    }

    /// The length of the room in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the room is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `src` at `offset` of the room. Bytes of the last word that `src` covers
    /// only in part are written too: zeros after the end of `src`, as far as the next
    /// multiple of 8 from the start of the room. Write a message from its start to its
    /// end (or in pieces of whole words).
    ///
    /// # Panics
    /// If `offset` is not a multiple of 8, or `src` does not fit at `offset`.
    #[inline]
    pub fn write_at(&mut self, offset: usize, src: &[u8]) {
        assert!(offset % 8 == 0, "write_at({offset}): not a multiple of 8");
        assert!(
            offset <= self.len && src.len() <= self.len - offset,
            "write_at({offset}) of {} bytes into a room of {}",
            src.len(),
            self.len
        );
        // SAFETY: `offset` keeps the word alignment; `src` fits, and its length rounded up
        // to a word stays within the room's, which is ours (see `new`); a Rust slice
        // cannot overlap lent room.
        unsafe { store_shared(src.as_ptr(), self.ptr.add(offset), src.len()) };
    }

    /// Writes `src`, which must have exactly the room's length.
    ///
    /// # Panics
    /// If `src.len()` differs from [`SharedBytesMut::len`].
    #[inline]
    pub fn copy_from_slice(&mut self, src: &[u8]) {
        assert_eq!(
            src.len(),
            self.len,
            "copy_from_slice of a slice of another length"
        );
        self.write_at(0, src);
    }

    /// The address of the first byte, for code that writes it its own way (C, a
    /// serialiser that takes a pointer).
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    /// Borrows the room in place as a mutable slice: zero-copy, for peers you trust.
    ///
    /// # Safety
    /// No other process reads or writes the room while the slice lives. Peers that use
    /// ipcring never do (room lent for writing is the writer's until it commits); only a
    /// peer that scribbles over the shared memory could, and then the slice is undefined
    /// behaviour.
    #[inline]
    pub unsafe fn as_mut_slice_unchecked(&mut self) -> &mut [u8] {
        // SAFETY: writable and ours (see `new`); untouched by others, per the caller.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl core::fmt::Debug for SharedBytesMut<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedBytesMut")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
