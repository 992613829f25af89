//! The reading side of a blackboard: any number of readers, which take no role slot.

use super::board::{Board, Spot, WRITE_WAIT};
use super::error::GetError;
use super::seqlock::{self, version, Attempt};
use crate::bytes::Bytes;
use crate::pace::Pacer;
use crate::roles::Presence;
use crate::sync::Ordering;
use crate::time::Deadline;
use crate::wait::{self, Check, WaitStrategy};
use core::time::Duration;

/// A reader of a blackboard: gets the newest complete value of an entry, and waits for an
/// entry to change. Readers take no role slot: any number of them may read a board, and
/// the writer cannot tell that they do (nor wait for them).
///
/// Every value returned is one that a writer set, whole: a read that a write overlapped is
/// retried. An entry whose writer died in the middle of setting it is reported as
/// [`GetError::Abandoned`] until a writer sets it again.
#[derive(Debug)]
pub struct Reader {
    board: Board,
    strategy: WaitStrategy,
    /// Paces the liveness syscalls of non-blocking reads.
    pacer: Pacer,
}

impl Reader {
    pub(crate) fn new(board: Board, strategy: WaitStrategy) -> Reader {
        Reader {
            board,
            strategy,
            pacer: Pacer::default(),
        }
    }

    /// Replaces the contents of `buf` with the newest value of entry `key`; returns its
    /// version (see [`Reader::version`]). If a writer is in the middle of setting the
    /// entry, waits until it is done (as long as copying the value takes), until it is
    /// found dead (`Abandoned`), or for a second at most (`Busy`: a writer stopped in the
    /// middle of a write).
    ///
    /// # Errors
    /// `UnknownKey`, `NotSet`, `Abandoned`, `Busy`, `Corrupted`.
    pub fn get_into(&mut self, key: usize, buf: &mut Vec<u8>) -> Result<u64, GetError> {
        self.get_with(key, true, &mut |data, spot, len| {
            fill_vec(data, spot, len, buf)
        })
        .map(|(v, _)| v)
    }

    /// As [`Reader::get_into`], without waiting for a writer in the middle of setting the
    /// entry: `Busy` then.
    ///
    /// # Errors
    /// As [`Reader::get_into`].
    pub fn try_get_into(&mut self, key: usize, buf: &mut Vec<u8>) -> Result<u64, GetError> {
        self.get_with(key, false, &mut |data, spot, len| {
            fill_vec(data, spot, len, buf)
        })
        .map(|(v, _)| v)
    }

    /// The newest value of entry `key` as a `T` (which the writer set with
    /// [`super::Writer::set_value`], or as bytes of its size), and its version.
    ///
    /// # Errors
    /// As [`Reader::get_into`], and `WrongSize`.
    pub fn get<T: bytemuck::Pod>(&mut self, key: usize) -> Result<(T, u64), GetError> {
        let mut value = T::zeroed();
        let want = core::mem::size_of::<T>();
        let (v, len) = self.get_with(key, true, &mut |data, spot, len| {
            if len == want {
                seqlock::load(data, spot.off, bytemuck::bytes_of_mut(&mut value));
            }
        })?;
        if len != want {
            return Err(GetError::WrongSize {
                key,
                found: len,
                expected: want,
            });
        }
        Ok((value, v))
    }

    /// The version of entry `key`'s newest complete value: how many times it was set (0:
    /// never). Versions only grow; a reader that saw version `v` learns of a change from a
    /// version other than `v` (see [`Reader::wait_changed`]).
    ///
    /// # Errors
    /// `UnknownKey`.
    pub fn version(&self, key: usize) -> Result<u64, GetError> {
        let (entry, _) = self.entry(key)?;
        // SYNC(seqlock): Acquire, as a read's first look at the sequence: the version read
        // here is one whose value a read that follows sees (or a newer one).
        Ok(version(entry.seq.load(Ordering::Acquire)))
    }

    /// Waits until entry `key` has a version other than `since` (for example the version
    /// that a read returned), for at most `timeout` (for ever: `None`); returns the new
    /// version. Sleeps on the entry's futex: the writer makes a wake-up syscall only when
    /// a reader sleeps.
    ///
    /// # Errors
    /// `UnknownKey`; `Abandoned` (the entry's writer died while setting it); `NoWriter`
    /// (every writer that attached is gone, so nothing will change); `Timeout`.
    pub fn wait_changed(
        &mut self,
        key: usize,
        since: u64,
        timeout: Option<Duration>,
    ) -> Result<u64, GetError> {
        self.entry(key)?;
        let deadline = timeout.map(Deadline::after);
        // SAFETY: the line lives in our board, which outlives this call.
        let line = unsafe { self.board.wait_line_unbound(key) };
        let changed = wait::block_on(self.strategy, 0, line, deadline, |level| {
            self.changed_since(key, since, level)
        });
        // A deadline that passed while spinning ended the wait before any look at the
        // writers: one last look at everything, so that a short wait tells a board with
        // no writer left from one that did not change.
        changed
            .or_else(|| self.changed_since(key, since, Check::Peer))
            .unwrap_or(Err(GetError::Timeout { key }))
    }

    /// A member of a [`crate::WaitSet`] (or an async wait) that is ready once entry `key`
    /// has a version other than `since`, or once [`Reader::wait_changed`] would fail.
    ///
    /// # Errors
    /// `UnknownKey`.
    pub fn change(&mut self, key: usize, since: u64) -> Result<Change<'_>, GetError> {
        self.entry(key)?;
        Ok(Change {
            reader: self,
            key,
            since,
        })
    }

    fn entry(&self, key: usize) -> Result<(&super::layout::Entry, Spot), GetError> {
        let entries = self.board.geo.entries;
        self.board
            .entry(key)
            .ok_or(GetError::UnknownKey { key, entries })
    }

    /// Reads entry `key`, handing `copy` the data area, the entry's spot and the value's
    /// length to copy; waits for a writer in the middle of it if `block`. Returns the
    /// version and the length.
    fn get_with(
        &mut self,
        key: usize,
        block: bool,
        copy: &mut dyn FnMut(Bytes, Spot, usize),
    ) -> Result<(u64, usize), GetError> {
        self.entry(key)?;
        // Most reads overlap no write: one attempt, then the waits.
        if let Some(r) = self.attempt(key, Check::Spin, copy) {
            return r;
        }
        if !block {
            // A few more tries (a write takes a copy's time), then a look at the writer.
            for _ in 0..64 {
                crate::sync::spin_hint();
                if let Some(r) = self.attempt(key, Check::Spin, copy) {
                    return r;
                }
            }
            let level = self.pacer.level();
            return self
                .attempt(key, level, copy)
                .unwrap_or(Err(GetError::Busy { key }));
        }
        // SAFETY: the line lives in our board, which outlives this call.
        let line = unsafe { self.board.wait_line_unbound(key) };
        let deadline = Some(Deadline::after(WRITE_WAIT));
        let got = wait::block_on(self.strategy, 1, line, deadline, |level| {
            self.attempt(key, level, copy)
        });
        got.unwrap_or(Err(GetError::Busy { key }))
    }

    /// One attempt to read entry `key` (which exists). `None`: a write overlapped it, or a
    /// writer is at it and (asked at `level`) alive.
    fn attempt(
        &self,
        key: usize,
        level: Check,
        copy: &mut dyn FnMut(Bytes, Spot, usize),
    ) -> Option<Result<(u64, usize), GetError>> {
        let (entry, spot) = self.board.entry(key)?;
        let data = self.board.data();
        match seqlock::read(entry, spot, |len| copy(data, spot, len)) {
            Attempt::Done { seq, len } => Some(Ok((version(seq), len))),
            Attempt::Unset => Some(Err(GetError::NotSet { key })),
            Attempt::Corrupt => Some(Err(GetError::Corrupted)),
            Attempt::Overlapped => None,
            Attempt::Writing { seq, owner } => self.abandoned(key, seq, owner, level),
        }
    }

    /// `Abandoned` if the writer `owner` that made entry `key`'s sequence `seq` odd is gone
    /// (asked of the kernel at `Check::Peer`) and the sequence has not moved since.
    fn abandoned<T>(
        &self,
        key: usize,
        seq: u64,
        owner: u64,
        level: Check,
    ) -> Option<Result<T, GetError>> {
        if level == Check::Spin || owner == 0 || self.board.owner_alive(owner, level == Check::Peer)
        {
            return None;
        }
        let (entry, _) = self.board.entry(key)?;
        // SYNC(seqlock): Acquire, as a first read: a writer that finished after our look
        // moved the sequence on, and it is not abandoned.
        (entry.seq.load(Ordering::Acquire) == seq).then_some(Err(GetError::Abandoned { key }))
    }

    /// What a wait for a change of entry `key` since version `since` sees at `level`:
    /// `None` while nothing changed and a writer may still change it.
    fn changed_since(&self, key: usize, since: u64, level: Check) -> Option<Result<u64, GetError>> {
        let (entry, _) = self.board.entry(key)?;
        // SYNC(seqlock): as in `version`.
        let seq = entry.seq.load(Ordering::Acquire);
        if seq & 1 == 0 && version(seq) != since {
            return Some(Ok(version(seq)));
        }
        if level == Check::Spin {
            return None;
        }
        if seq & 1 == 1 {
            // Relaxed: as in `seqlock::read`.
            let owner = entry.owner.load(Ordering::Relaxed);
            if let Some(gone) = self.abandoned(key, seq, owner, level) {
                return Some(gone);
            }
        }
        let writers = self.board.writers();
        match self.board.slots().presence(writers, level == Check::Peer) {
            Presence::Gone => Some(Err(GetError::NoWriter)),
            Presence::Alive | Presence::NeverAttached => None,
        }
    }
}

/// Replaces `buf`'s contents with the `len` bytes of the value at `spot`.
fn fill_vec(data: Bytes, spot: Spot, len: usize, buf: &mut Vec<u8>) {
    buf.resize(len, 0);
    seqlock::load(data, spot.off, buf);
}

/// A [`crate::WaitSet`] member that is ready once an entry changed (see
/// [`Reader::change`]).
#[derive(Debug)]
pub struct Change<'a> {
    reader: &'a mut Reader,
    key: usize,
    since: u64,
}

impl Change<'_> {
    /// The reader.
    pub fn reader(&mut self) -> &mut Reader {
        self.reader
    }
}

impl crate::Waitable for Change<'_> {}

impl crate::waitset::sealed::Waiting for Change<'_> {
    fn line(&self) -> &crate::layout::WaitLine {
        // SAFETY: the line lives in the reader's board, which outlives `&self`.
        unsafe { self.reader.board.wait_line_unbound(self.key) }
    }

    #[cfg(not(ipcring_loom))]
    fn keep(&self) -> crate::region::Keep {
        self.reader.board.keep()
    }

    fn ready(&mut self, level: Check) -> bool {
        self.reader
            .changed_since(self.key, self.since, level)
            .is_some()
    }
}

super::entries!(Reader);

#[cfg(all(feature = "tokio", not(ipcring_loom)))]
impl Reader {
    /// As [`Reader::wait_changed`], as a future (without a timeout: drop the future to
    /// stop waiting).
    ///
    /// # Errors
    /// As [`Reader::wait_changed`], but `Timeout`.
    pub async fn wait_changed_async(&mut self, key: usize, since: u64) -> Result<u64, GetError> {
        let mut change = self.change(key, since)?;
        loop {
            crate::task::ready(&mut change).await;
            // Ready may have been told by a look of any level: this one asks everything.
            if let Some(r) = change.reader.changed_since(key, since, Check::Peer) {
                return r;
            }
        }
    }
}
