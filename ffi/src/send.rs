//! What the producer handles of every kind share: the Rust producer they own, the
//! reservation lent to C between reserve and commit/abort, and sending from C bytes.

use crate::status::{Result, Status};
use crate::types::Wait;
use core::ffi::c_void;
use core::fmt::Debug;
use core::ops::DerefMut;
use core::ptr::NonNull;
use core::time::Duration;
use ipcring::{broadcast, mpmc, spsc, SendError, SharedBytesMut, WaitStrategy};

/// A Rust producer that a C handle wraps: `spsc::Producer`, `mpmc::Producer` or
/// `broadcast::Publisher`.
pub(crate) trait Sender: Debug + 'static {
    /// Room reserved in place; dropping it abandons the reservation.
    type Grant<'a>: DerefMut<Target = SharedBytesMut<'a>> + Debug
    where
        Self: 'a;
    /// Sends `msg`, waiting while there is no room.
    fn send(&mut self, msg: &[u8]) -> core::result::Result<(), SendError>;
    /// Sends `msg`, or `SendError::Full` at once.
    fn try_send(&mut self, msg: &[u8]) -> core::result::Result<(), SendError>;
    /// Sends `msg`, waiting at most `timeout` for room.
    fn send_timeout(
        &mut self,
        msg: &[u8],
        timeout: Duration,
    ) -> core::result::Result<(), SendError>;
    /// Reserves room for `len` bytes, waiting while there is none.
    fn reserve(&mut self, len: usize) -> core::result::Result<Self::Grant<'_>, SendError>;
    /// Reserves room for `len` bytes, or `SendError::Full` at once.
    fn try_reserve(&mut self, len: usize) -> core::result::Result<Self::Grant<'_>, SendError>;
    /// Publishes the first `len` bytes of `grant`; the reservation is over either way.
    fn commit(grant: Self::Grant<'_>, len: usize) -> core::result::Result<(), SendError>;
    /// The largest message, in bytes.
    fn max_message(&self) -> usize;
    /// Changes how the blocking sends and reservations wait.
    fn set_wait_strategy(&mut self, strategy: WaitStrategy);
}

/// Implements [`Sender`] for the sending handle `$tx` of the kind `$kind`, whose methods of
/// the same names it forwards to; `$commit` turns what its grant's commit returns into a
/// result.
macro_rules! sender {
    ($kind:ident :: $tx:ident, $commit:expr) => {
        impl Sender for $kind::$tx {
            type Grant<'a> = $kind::WriteGrant<'a>;
            fn send(&mut self, msg: &[u8]) -> core::result::Result<(), SendError> {
                $kind::$tx::send(self, msg)
            }
            fn try_send(&mut self, msg: &[u8]) -> core::result::Result<(), SendError> {
                $kind::$tx::try_send(self, msg)
            }
            fn send_timeout(
                &mut self,
                msg: &[u8],
                d: Duration,
            ) -> core::result::Result<(), SendError> {
                $kind::$tx::send_timeout(self, msg, d)
            }
            fn reserve(&mut self, len: usize) -> core::result::Result<Self::Grant<'_>, SendError> {
                $kind::$tx::reserve(self, len)
            }
            fn try_reserve(
                &mut self,
                len: usize,
            ) -> core::result::Result<Self::Grant<'_>, SendError> {
                $kind::$tx::try_reserve(self, len)
            }
            fn commit(grant: Self::Grant<'_>, len: usize) -> core::result::Result<(), SendError> {
                $commit(grant.commit(len))
            }
            fn max_message(&self) -> usize {
                $kind::$tx::max_message(self)
            }
            fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
                $kind::$tx::set_wait_strategy(self, strategy);
            }
        }
    };
}

// The SPSC ring's commit cannot fail; the others' return `Skipped` when the sender stalled
// longer than the ring's stall timeout (the reservation is over either way).
sender!(spsc::Producer, |()| Ok(()));
sender!(mpmc::Producer, core::convert::identity);
sender!(broadcast::Publisher, core::convert::identity);

/// How a send waits for room.
#[derive(Clone, Copy)]
pub(crate) enum SendMode {
    Block,
    Try,
    Timeout(Duration),
}

impl SendMode {
    /// The mode of the `_timeout` calls, which take nanoseconds.
    pub(crate) fn timeout_ns(ns: u64) -> SendMode {
        SendMode::Timeout(Duration::from_nanos(ns))
    }
}

/// How a reservation waits for room.
#[derive(Clone, Copy)]
pub(crate) enum ReserveMode {
    Block,
    Try,
}

/// The body of a producer handle: the producer it owns and the room it lends to C.
#[derive(Debug)]
pub(crate) struct SendHandle<S: Sender> {
    /// The producer, owned (from `Box::leak`); borrowed by `grant` while one is lent.
    tx: NonNull<S>,
    /// The room lent to C between `reserve` and `commit`/`abort`. Its lifetime is really
    /// that of `tx`: see `SendHandle::reserve`.
    grant: Option<S::Grant<'static>>,
}

impl<S: Sender> SendHandle<S> {
    pub(crate) fn new(tx: S) -> SendHandle<S> {
        SendHandle {
            tx: NonNull::from(Box::leak(Box::new(tx))),
            grant: None,
        }
    }

    /// The producer, unless a reservation borrows it.
    #[inline]
    pub(crate) fn tx(&mut self) -> Result<&mut S> {
        if self.grant.is_some() {
            return Err(Status::IPCRING_ERR_GRANT_PENDING);
        }
        // SAFETY: `tx` is owned by this handle and valid until it drops; no grant borrows
        // it, and the returned borrow is tied to `&mut self`.
        Ok(unsafe { self.tx.as_mut() })
    }

    /// Sends `msg`, waiting as `how` says.
    #[inline]
    pub(crate) fn send(&mut self, msg: &[u8], how: SendMode) -> Result<()> {
        let tx = self.tx()?;
        match how {
            SendMode::Block => tx.send(msg),
            SendMode::Try => tx.try_send(msg),
            SendMode::Timeout(d) => tx.send_timeout(msg, d),
        }?;
        Ok(())
    }

    /// Reserves `len` bytes in the way `how` says and lends them to C through `data`.
    pub(crate) fn reserve(
        &mut self,
        len: usize,
        how: ReserveMode,
        data: NonNull<*mut c_void>,
    ) -> Result<()> {
        if self.grant.is_some() {
            return Err(Status::IPCRING_ERR_GRANT_PENDING);
        }
        // SAFETY: `tx` stays valid until the handle drops, and `Drop` ends the grant
        // before it frees `tx`, so the grant never outlives it. While the grant exists it
        // holds the only reference: every other use of `tx` goes through `Self::tx`, which
        // refuses while a grant is pending.
        let tx: &'static mut S = unsafe { &mut *self.tx.as_ptr() };
        let mut g = match how {
            ReserveMode::Block => tx.reserve(len),
            ReserveMode::Try => tx.try_reserve(len),
        }?;
        // SAFETY: `data` is a non-NULL out-parameter, writable per the caller's contract.
        unsafe { data.write(g.as_mut_ptr().cast()) };
        self.grant = Some(g);
        Ok(())
    }

    /// Publishes the first `len` bytes of the pending reservation; a `len` larger than
    /// the reservation leaves it pending.
    pub(crate) fn commit(&mut self, len: usize) -> Result<()> {
        let g = self.grant.take().ok_or(Status::IPCRING_ERR_NO_GRANT)?;
        if len > g.len() {
            self.grant = Some(g);
            return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
        }
        Ok(S::commit(g, len)?)
    }

    /// Abandons the pending reservation.
    pub(crate) fn abort(&mut self) -> Result<()> {
        let g = self.grant.take().ok_or(Status::IPCRING_ERR_NO_GRANT)?;
        drop(g);
        Ok(())
    }

    /// Stores the largest message in `max`.
    pub(crate) fn max_message(&mut self, max: NonNull<usize>) -> Result<()> {
        let m = self.tx()?.max_message();
        // SAFETY: a non-NULL out-parameter, writable per the caller's contract.
        unsafe { max.write(m) };
        Ok(())
    }

    /// Sets how the producer waits to `wait` (`None` for a NULL pointer from C).
    pub(crate) fn set_wait(&mut self, wait: Option<&Wait>) -> Result<()> {
        let wait = wait.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
        self.tx()?.set_wait_strategy(wait.strategy()?);
        Ok(())
    }
}

impl<S: Sender> Drop for SendHandle<S> {
    fn drop(&mut self) {
        // A pending reservation is abandoned: nothing of it becomes visible (an MPMC
        // slot is passed by consumers).
        self.grant = None;
        // SAFETY: made by `Box::leak` in `new`; the grant that borrowed it is gone.
        drop(unsafe { Box::from_raw(self.tx.as_ptr()) });
    }
}
