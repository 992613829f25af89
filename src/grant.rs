//! Room for one message, lent for writing in place: the write grant of every ring kind.
//! A kind's sending handle says what committing and abandoning a grant do ([`Writer`]);
//! the grant holds the window of the data area and gives it back exactly once.

use crate::bytes::WriteAccess;
use crate::view::SharedBytesMut;
use core::ops::{Deref, DerefMut};

/// A sending handle that lends room for one message at a time.
// Public in a private module: named by the public `WriteGrant` types, implemented only
// here.
#[allow(unreachable_pub)]
pub trait Writer {
    /// Where the lent room is (private to the kind).
    #[doc(hidden)]
    type At: Copy + core::fmt::Debug;
    /// What a commit returns.
    #[doc(hidden)]
    type Committed;
    /// Publishes the first `n` bytes written at `at` as one message.
    #[doc(hidden)]
    fn commit_at(&mut self, at: Self::At, n: usize) -> Self::Committed;
    /// Gives the room at `at` back unused.
    #[doc(hidden)]
    fn abort_at(&mut self, at: Self::At);
}

/// Room for one message, written in place. Dereferences to a [`SharedBytesMut`] over the
/// reserved bytes: write them with its `write_at` or `copy_from_slice`.
///
/// [`WriteGrant::commit`] publishes the first `n` of them; dropping the grant without
/// committing gives the room back (what that means is the ring kind's: see its
/// `reserve`).
#[derive(Debug)]
pub struct WriteGrant<'a, W: Writer> {
    writer: &'a mut W,
    at: W::At,
    len: usize,
    /// Until committed: dropping the grant with it gives the room back.
    access: Option<WriteAccess>,
    /// The room, as the user writes it.
    view: SharedBytesMut<'a>,
}

impl<'a, W: Writer> WriteGrant<'a, W> {
    /// Lends `access`, the room for `len` bytes at `at`, of `writer`.
    pub(crate) fn new(writer: &'a mut W, at: W::At, len: usize, access: WriteAccess) -> Self {
        // SAFETY: the view lives in the grant, which holds the writer (and so the mapping)
        // and ends the window only when it commits or drops.
        let view = unsafe { access.view() };
        WriteGrant {
            writer,
            at,
            len,
            access: Some(access),
            view,
        }
    }

    /// Publishes the first `n` bytes as one message. The kinds whose rings have a stall
    /// timeout return whether the claim was still ours (`Err(Skipped)` if it was passed
    /// while its sender stalled); the SPSC ring's commit cannot fail.
    ///
    /// # Panics
    /// If `n` is larger than the reserved length.
    pub fn commit(mut self, n: usize) -> W::Committed {
        assert!(n <= self.len, "commit({n}) of a {}-byte grant", self.len);
        if let Some(a) = self.access.take() {
            a.end();
        }
        self.writer.commit_at(self.at, n)
    }

    /// Model hook: ends the loan and keeps the claim, as a sender that dies between
    /// claim and commit. (`mem::forget` would leave loom's tracker of the bytes open, so
    /// that the next writer of the cell would look concurrent with this one.)
    #[cfg(ipcring_loom)]
    #[doc(hidden)]
    pub fn leak_claim(mut self) {
        if let Some(a) = self.access.take() {
            a.end();
        }
    }
}

impl<'a, W: Writer> Deref for WriteGrant<'a, W> {
    type Target = SharedBytesMut<'a>;
    #[inline]
    fn deref(&self) -> &SharedBytesMut<'a> {
        &self.view
    }
}

impl<'a, W: Writer> DerefMut for WriteGrant<'a, W> {
    #[inline]
    fn deref_mut(&mut self) -> &mut SharedBytesMut<'a> {
        &mut self.view
    }
}

impl<W: Writer> Drop for WriteGrant<'_, W> {
    fn drop(&mut self) {
        if let Some(a) = self.access.take() {
            a.end();
            self.writer.abort_at(self.at);
        }
    }
}
