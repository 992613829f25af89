//! What both handle kinds share: a magic number that tells a live handle of the right
//! kind, the poisoned flag set after a caught panic, the checks every call makes, and
//! close.

use crate::status::{Result, Status};
use crate::{guard, out};
use core::ffi::c_int;
use core::panic::AssertUnwindSafe;

/// A handle type given to C as an opaque pointer.
pub(crate) trait Handle {
    /// The value of `magic` in a live handle of this kind.
    const MAGIC: u64;
    /// The magic number stored in this handle (0 once it is dropped).
    fn magic(&self) -> u64;
    /// Whether a panic was caught inside a call on this handle.
    fn poisoned(&mut self) -> &mut bool;
}

/// Runs `f` on the handle behind `h` after checking it: NULL or a wrong magic number
/// gives `IPCRING_ERR_BAD_HANDLE`, a poisoned handle `IPCRING_ERR_INTERNAL`. A panic in
/// `f` poisons the handle and gives `IPCRING_ERR_INTERNAL`.
///
/// # Safety
/// `h` is NULL or a pointer returned by this library's create/open functions for a handle
/// of type `H` that was not closed, and no other call uses it at the same time.
#[inline]
pub(crate) unsafe fn with_handle<H: Handle>(
    h: *mut H,
    f: impl FnOnce(&mut H) -> Result<()>,
) -> c_int {
    guard(|| {
        // SAFETY: NULL or a live, exclusively used handle, per the contract.
        let h = unsafe { h.as_mut() }.ok_or(Status::IPCRING_ERR_BAD_HANDLE)?;
        if h.magic() != H::MAGIC {
            return Err(Status::IPCRING_ERR_BAD_HANDLE);
        }
        if *h.poisoned() {
            return Err(Status::IPCRING_ERR_INTERNAL);
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut *h))) {
            Ok(r) => r,
            Err(_) => {
                *h.poisoned() = true;
                Err(Status::IPCRING_ERR_INTERNAL)
            }
        }
    })
}

/// Closes the handle whose address is `slot` and sets `*slot` to NULL; a NULL `*slot`
/// is a no-op.
///
/// # Safety
/// `slot` is NULL or points to a handle pointer that is NULL or satisfies the contract of
/// [`with_handle`].
pub(crate) unsafe fn close<H: Handle>(slot: *mut *mut H) -> c_int {
    guard(|| {
        let slot = out(slot)?;
        // SAFETY: `slot` is not NULL and points to a handle pointer, per the contract.
        let h = unsafe { slot.read() };
        if h.is_null() {
            return Ok(());
        }
        // SAFETY: a live handle per the contract.
        if unsafe { (*h).magic() } != H::MAGIC {
            return Err(Status::IPCRING_ERR_BAD_HANDLE);
        }
        // SAFETY: as above; forget the pointer first, so that it cannot be used again.
        unsafe { slot.write(core::ptr::null_mut()) };
        // SAFETY: every live handle was made by `Box::into_raw` (see `into_raw`), and the
        // pointer is forgotten by its owner above.
        drop(unsafe { Box::from_raw(h) });
        Ok(())
    })
}

/// Gives a new handle to C.
pub(crate) fn into_raw<H: Handle>(h: H) -> *mut H {
    Box::into_raw(Box::new(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Dummy {
        magic: u64,
        poisoned: bool,
    }

    impl Handle for Dummy {
        const MAGIC: u64 = 42;
        fn magic(&self) -> u64 {
            self.magic
        }
        fn poisoned(&mut self) -> &mut bool {
            &mut self.poisoned
        }
    }

    fn call(h: *mut Dummy, panic: bool) -> c_int {
        // SAFETY: `h` is NULL or a live `Dummy` used by this thread only.
        unsafe {
            with_handle(h, |_| {
                assert!(!panic, "a bug inside a call");
                Ok(())
            })
        }
    }

    #[test]
    fn a_panic_returns_internal_and_poisons_the_handle() {
        let h = into_raw(Dummy {
            magic: Dummy::MAGIC,
            poisoned: false,
        });
        assert_eq!(call(h, false), Status::IPCRING_OK as c_int);
        assert_eq!(call(h, true), Status::IPCRING_ERR_INTERNAL as c_int);
        assert_eq!(call(h, false), Status::IPCRING_ERR_INTERNAL as c_int);
        let mut slot = h;
        // SAFETY: `slot` holds a live handle made by `into_raw`.
        assert_eq!(unsafe { close(&mut slot) }, Status::IPCRING_OK as c_int);
        assert!(slot.is_null());
    }

    #[test]
    fn null_and_foreign_handles_are_refused() {
        assert_eq!(
            call(core::ptr::null_mut(), false),
            Status::IPCRING_ERR_BAD_HANDLE as c_int
        );
        let mut other = Dummy {
            magic: 7,
            poisoned: false,
        };
        assert_eq!(
            call(&mut other, false),
            Status::IPCRING_ERR_BAD_HANDLE as c_int
        );
    }
}
