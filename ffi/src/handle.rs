//! What every handle kind shares: a magic number that tells a live handle of the right
//! kind, the poisoned flag set after a caught panic, the checks every call makes, attach
//! and close.

use crate::place::{At, Place};
use crate::status::{Result, Status};
use crate::{guard, options_arg, out};
use core::ffi::c_int;
use core::panic::AssertUnwindSafe;

/// A handle type given to C as an opaque pointer.
pub(crate) trait Handle {
    /// The value of `magic` in a live handle of this kind.
    const MAGIC: u64;
    /// The handle's magic number and poisoned flag.
    fn tag(&mut self) -> &mut Tag;
}

/// The first field of every handle: its kind's magic number (0 once it is dropped) and
/// whether a panic was caught inside a call on it.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Tag {
    magic: u64,
    poisoned: bool,
}

impl Tag {
    /// The tag of a new, live handle of kind `H`.
    pub(crate) fn new<H: Handle>() -> Tag {
        Tag {
            magic: H::MAGIC,
            poisoned: false,
        }
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        // A stale pointer to a freed handle is then less likely to pass the check.
        self.magic = 0;
    }
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
        // SAFETY: forwarded contract.
        let h = unsafe { checked(h) }?;
        match std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut *h))) {
            Ok(r) => r,
            Err(_) => {
                h.tag().poisoned = true;
                Err(Status::IPCRING_ERR_INTERNAL)
            }
        }
    })
}

/// The handle behind `h`, checked: NULL or a wrong magic number gives
/// `IPCRING_ERR_BAD_HANDLE`, a poisoned handle `IPCRING_ERR_INTERNAL`.
///
/// # Safety
/// As [`with_handle`], for as long as `'a`.
#[inline]
pub(crate) unsafe fn checked<'a, H: Handle>(h: *mut H) -> Result<&'a mut H> {
    if h.is_null() {
        return Err(Status::IPCRING_ERR_BAD_HANDLE);
    }
    // SAFETY: a live handle of some kind, per the contract (one of another kind is a
    // caller's mistake that this check reports): every handle is `repr(C)` with its tag
    // first, and a tag starts with the magic number, so these 8 bytes lie within it.
    if unsafe { h.cast::<u64>().read() } != H::MAGIC {
        return Err(Status::IPCRING_ERR_BAD_HANDLE);
    }
    // SAFETY: a live handle of kind `H` (its magic number says so), used by this call
    // only, per the contract.
    let h = unsafe { &mut *h };
    if h.tag().poisoned {
        return Err(Status::IPCRING_ERR_INTERNAL);
    }
    Ok(h)
}

/// Marks the handle behind `h` as poisoned (see [`with_handle`]): a panic was caught in a
/// call that used it.
///
/// # Safety
/// `h` passed [`checked`] in that call and is still live and not used elsewhere.
pub(crate) unsafe fn poison<H: Handle>(h: *mut H) {
    // SAFETY: a live handle, used by this call only, per the contract.
    unsafe { (*h).tag().poisoned = true };
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
        // SAFETY: a live handle, not used by any other call, per the contract.
        if unsafe { (*h).tag().magic } != H::MAGIC {
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

/// Common body of every create/open function: stores in `*out_handle` the handle that
/// `open` makes of the ring's place (a name, a path or a memfd, see [`At::place`]) and
/// the options (`defaults()` for NULL `opts`), or NULL if anything fails.
///
/// # Safety
/// `at` is a `Name` that is NULL or a NUL-terminated string, or an `Fd` that no other
/// thread closes during the call; `opts` is NULL or points to an initialised `O`;
/// `out_handle` is NULL or points to writable memory for one pointer.
pub(crate) unsafe fn attach<H: Handle, O: Copy>(
    at: At,
    opts: *const O,
    defaults: fn() -> O,
    out_handle: *mut *mut H,
    open: impl FnOnce(&Place, O) -> Result<H>,
) -> c_int {
    guard(|| {
        let slot = out(out_handle)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { slot.write(core::ptr::null_mut()) };
        // SAFETY: forwarded contracts.
        let (place, opts) = unsafe { (at.place()?, options_arg(opts, defaults)?) };
        let h = open(&place, opts)?;
        // SAFETY: as above.
        unsafe { slot.write(into_raw(h)) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Dummy {
        tag: Tag,
    }

    impl Handle for Dummy {
        const MAGIC: u64 = 42;
        fn tag(&mut self) -> &mut Tag {
            &mut self.tag
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
            tag: Tag::new::<Dummy>(),
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
            tag: Tag {
                magic: 7,
                poisoned: false,
            },
        };
        assert_eq!(
            call(&mut other, false),
            Status::IPCRING_ERR_BAD_HANDLE as c_int
        );
    }
}
