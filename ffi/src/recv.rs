//! What the consumer handles of every kind share: the Rust consumer they own, the message
//! lent to C between read and release, and receiving into a C buffer.

use crate::status::{Result, Status};
use crate::types::Wait;
use core::ffi::c_void;
use core::fmt::Debug;
use core::ops::Deref;
use core::ptr::NonNull;
use core::time::Duration;
use ipcring::{broadcast, mpmc, spsc, RecvError, SharedBytes, WaitStrategy};

/// A Rust consumer that a C handle wraps: `spsc::Consumer`, `mpmc::Consumer` or
/// `broadcast::Subscriber`.
pub(crate) trait Receiver: Debug + 'static {
    /// A message lent in place; dropping it releases (consumes) it.
    type Grant<'a>: Deref<Target = SharedBytes<'a>> + Debug
    where
        Self: 'a;
    /// The next message, waiting while there is none.
    fn read(&mut self) -> core::result::Result<Self::Grant<'_>, RecvError>;
    /// The next message, or `RecvError::Empty` at once.
    fn try_read(&mut self) -> core::result::Result<Self::Grant<'_>, RecvError>;
    /// The next message, waiting at most `timeout`.
    fn read_timeout(
        &mut self,
        timeout: Duration,
    ) -> core::result::Result<Self::Grant<'_>, RecvError>;
    /// Ends the loan without consuming the message: this consumer's next read returns it.
    fn keep(grant: Self::Grant<'_>);
    /// The largest message, in bytes.
    fn max_message(&self) -> usize;
    /// Changes how the blocking reads wait.
    fn set_wait_strategy(&mut self, strategy: WaitStrategy);
}

/// Implements [`Receiver`] for the receiving handle `$rx` of the kind `$kind`, whose
/// methods of the same names it forwards to.
macro_rules! receiver {
    ($kind:ident :: $rx:ident) => {
        impl Receiver for $kind::$rx {
            type Grant<'a> = $kind::ReadGrant<'a>;
            fn read(&mut self) -> core::result::Result<Self::Grant<'_>, RecvError> {
                $kind::$rx::read(self)
            }
            fn try_read(&mut self) -> core::result::Result<Self::Grant<'_>, RecvError> {
                $kind::$rx::try_read(self)
            }
            fn read_timeout(
                &mut self,
                d: Duration,
            ) -> core::result::Result<Self::Grant<'_>, RecvError> {
                $kind::$rx::read_timeout(self, d)
            }
            fn keep(grant: Self::Grant<'_>) {
                grant.keep();
            }
            fn max_message(&self) -> usize {
                $kind::$rx::max_message(self)
            }
            fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
                $kind::$rx::set_wait_strategy(self, strategy);
            }
        }
    };
}

receiver!(spsc::Consumer);
receiver!(mpmc::Consumer);
receiver!(broadcast::Subscriber);

/// How a receive waits for a message.
#[derive(Clone, Copy)]
pub(crate) enum RecvMode {
    Block,
    Try,
    Timeout(Duration),
}

impl RecvMode {
    /// The mode of the `_timeout` calls, which take nanoseconds.
    pub(crate) fn timeout_ns(ns: u64) -> RecvMode {
        RecvMode::Timeout(Duration::from_nanos(ns))
    }
}

/// The body of a consumer handle: the consumer it owns and the message it lends to C.
#[derive(Debug)]
pub(crate) struct RecvHandle<R: Receiver> {
    /// The consumer, owned (from `Box::leak`); borrowed by `grant` while one is lent.
    rx: NonNull<R>,
    /// The message lent to C between `read` and `release`/`keep`. Its lifetime is really
    /// that of `rx`: see `RecvHandle::lend`.
    grant: Option<R::Grant<'static>>,
}

impl<R: Receiver> RecvHandle<R> {
    pub(crate) fn new(rx: R) -> RecvHandle<R> {
        RecvHandle {
            rx: NonNull::from(Box::leak(Box::new(rx))),
            grant: None,
        }
    }

    /// The consumer, unless a read borrows it.
    #[inline]
    pub(crate) fn rx(&mut self) -> Result<&mut R> {
        if self.grant.is_some() {
            return Err(Status::IPCRING_ERR_GRANT_PENDING);
        }
        // SAFETY: `rx` is owned by this handle and valid until it drops; no grant borrows
        // it, and the returned borrow is tied to `&mut self`.
        Ok(unsafe { self.rx.as_mut() })
    }

    /// Copies the next message into the `cap` bytes at `buf` and stores its length in
    /// `len`; keeps it for this handle's next receive if it does not fit.
    #[inline]
    pub(crate) fn recv(
        &mut self,
        buf: *mut c_void,
        cap: usize,
        len: NonNull<usize>,
        how: RecvMode,
    ) -> Result<()> {
        if buf.is_null() && cap > 0 {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        let g = next(self.rx()?, how)?;
        // SAFETY: a non-NULL out-parameter, writable per the caller's contract.
        unsafe { len.write(g.len()) };
        if g.len() > cap {
            R::keep(g);
            return Err(Status::IPCRING_ERR_BUFFER_TOO_SMALL);
        }
        if !g.is_empty() {
            // SAFETY: `buf` is not NULL (as `cap` >= `g.len()` > 0) and writable for `cap`
            // bytes per the caller's contract; the message is in shared memory, which the
            // caller's buffer cannot overlap while we hold the handle exclusively.
            let dst = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), g.len()) };
            g.copy_to_slice(dst);
        }
        Ok(())
    }

    /// Lends the next message to C through `data` and `len`.
    pub(crate) fn lend(
        &mut self,
        data: NonNull<*const c_void>,
        len: NonNull<usize>,
        how: RecvMode,
    ) -> Result<()> {
        if self.grant.is_some() {
            return Err(Status::IPCRING_ERR_GRANT_PENDING);
        }
        // SAFETY: `rx` stays valid until the handle drops, and `Drop` ends the grant
        // before it frees `rx`, so the grant never outlives it. While the grant exists it
        // holds the only reference: every other use of `rx` goes through `Self::rx`, which
        // refuses while a grant is pending.
        let rx: &'static mut R = unsafe { &mut *self.rx.as_ptr() };
        let g = next(rx, how)?;
        // SAFETY: non-NULL out-parameters, writable per the caller's contract.
        unsafe {
            data.write(g.as_ptr().cast());
            len.write(g.len());
        }
        self.grant = Some(g);
        Ok(())
    }

    /// Releases (consumes) the lent message.
    pub(crate) fn release(&mut self) -> Result<()> {
        let g = self.grant.take().ok_or(Status::IPCRING_ERR_NO_GRANT)?;
        drop(g);
        Ok(())
    }

    /// Ends the loan of the lent message without consuming it.
    pub(crate) fn keep(&mut self) -> Result<()> {
        let g = self.grant.take().ok_or(Status::IPCRING_ERR_NO_GRANT)?;
        R::keep(g);
        Ok(())
    }

    /// Stores the largest message in `max`.
    pub(crate) fn max_message(&mut self, max: NonNull<usize>) -> Result<()> {
        let m = self.rx()?.max_message();
        // SAFETY: a non-NULL out-parameter, writable per the caller's contract.
        unsafe { max.write(m) };
        Ok(())
    }

    /// Sets how the consumer waits to `wait` (`None` for a NULL pointer from C).
    pub(crate) fn set_wait(&mut self, wait: Option<&Wait>) -> Result<()> {
        let wait = wait.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
        self.rx()?.set_wait_strategy(wait.strategy()?);
        Ok(())
    }
}

/// The next message, waiting as `how` says.
#[inline]
fn next<R: Receiver>(rx: &mut R, how: RecvMode) -> core::result::Result<R::Grant<'_>, RecvError> {
    match how {
        RecvMode::Block => rx.read(),
        RecvMode::Try => rx.try_read(),
        RecvMode::Timeout(d) => rx.read_timeout(d),
    }
}

impl<R: Receiver> Drop for RecvHandle<R> {
    fn drop(&mut self) {
        // A lent message is released, as dropping a read grant does in Rust.
        self.grant = None;
        // SAFETY: made by `Box::leak` in `new`; the grant that borrowed it is gone.
        drop(unsafe { Box::from_raw(self.rx.as_ptr()) });
    }
}
