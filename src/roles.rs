//! Role slots: who is attached to a segment, told by locks that the kernel releases when a
//! process dies.
//!
//! A segment has a fixed number of slots per role (one producer and one consumer for SPSC),
//! counts fixed at create. A handle attaches by taking a free slot: it opens the segment on
//! its own open file description and takes an open-file-description (OFD) write lock on
//! the one byte of the file that stands for the slot (byte `i` for slot `i`; locks may lie
//! past the end of a file). The kernel drops the lock when the description is closed: on
//! drop, on `exit`, on `kill -9`. So a lock held means a live holder, whatever pids were
//! reused meanwhile, and a slow process is never mistaken for a dead one. OFD locks belong
//! to the description, not the process: two handles in one process exclude each other too.
//!
//! Every attach bumps the slot's generation (so peers tell a role never held from one whose
//! holders all left), and runs a hook of the ring kind on the slot before the slot shows
//! held: there a kind replaces what the dead holder before left in the slot (an MPMC mark),
//! so that a dead holder's claims never look like the new holder's.
//!
//! Heap regions (in one process: tests, loom models) have no file: there the `attached`
//! flag, taken by compare-and-swap, is the lock, since nobody can die without the process.

use crate::error::OpenError;
use crate::layout::{Counters, RoleSlot};
use crate::role::Role;
use crate::sync::{AtomicU64, Ordering};
use rustix::fd::{AsRawFd, BorrowedFd};
use std::cell::Cell;
use std::io;

/// The slots of one role: `count` consecutive slots from `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) role: Role,
    pub(crate) first: usize,
    pub(crate) count: usize,
}

impl Class {
    /// The slots of `role` in a ring whose `producers` producer slots come first, then its
    /// `consumers` consumer slots.
    pub(crate) fn of(role: Role, producers: usize, consumers: usize) -> Class {
        match role {
            Role::Producer => Class {
                role,
                first: 0,
                count: producers,
            },
            Role::Consumer => Class {
                role,
                first: producers,
                count: consumers,
            },
        }
    }
}

/// A slot held by this handle, in the generation its attach made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claim {
    pub(crate) slot: usize,
    pub(crate) generation: u32,
}

/// Most role slots a segment can have, all roles together.
pub(crate) const MAX_SLOTS: usize = 128;

/// What is known of the holders of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Nobody ever attached to the role: keep waiting for somebody.
    NeverAttached,
    /// A slot of the role is held.
    Alive,
    /// Every holder detached or died.
    Gone,
}

/// How slots are locked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Locks<'a> {
    /// OFD locks on the segment's file, through this handle's own description.
    Kernel(BorrowedFd<'a>),
    /// The `attached` flag is the lock (a heap region in one process).
    InProcess,
}

/// The role slots of a region, how they are locked, and what this handle saw of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slots<'a> {
    pub(crate) lines: &'a [RoleSlot],
    pub(crate) locks: Locks<'a>,
    /// The roles this handle has seen held, a bit per role: private to the handle.
    pub(crate) seen: &'a Cell<u8>,
}

/// The bit of `role` in [`Slots::seen`].
fn bit(role: Role) -> u8 {
    match role {
        Role::Producer => 1,
        Role::Consumer => 2,
    }
}

impl<'a> Slots<'a> {
    /// The slot `i`.
    pub(crate) fn get(&self, i: usize) -> &'a RoleSlot {
        &self.lines[i]
    }

    /// Takes the first free slot of `class` and starts a new generation of it. `fresh` runs
    /// on the slot once it is ours and, with kernel locks, before peers can see it held: the
    /// place to clear what a dead holder left that would look like a live holder's.
    ///
    /// # Errors
    /// `RoleTaken` when every slot of the class is held; `Io` if the kernel refuses the
    /// lock for another reason.
    pub(crate) fn attach(
        &self,
        class: Class,
        fresh: impl FnOnce(&RoleSlot),
    ) -> Result<Claim, OpenError> {
        for slot in class.first..class.first + class.count {
            let line = &self.lines[slot].state.0;
            let taken = match self.locks {
                Locks::Kernel(fd) => try_lock(fd, slot).map_err(|e| OpenError::Io {
                    op: "fcntl(F_OFD_SETLK)",
                    source: e,
                })?,
                // SYNC(attach): AcqRel pairs with the Release in `detach` of the previous
                // holder, whose last words are then visible to us.
                Locks::InProcess => line
                    .attached
                    .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok(),
            };
            if !taken {
                continue;
            }
            fresh(&self.lines[slot]);
            #[cfg(feature = "crash-points")]
            crate::crash::reached(crate::crash::Point::AttachBeforeFlag);
            if let Locks::Kernel(_) = self.locks {
                // Before the generation: a peer that sees the new generation must see the
                // slot attached, or it would take a slot that was ever held and is not now
                // for a holder gone (`presence`: Gone, and a `Disconnected` before we even
                // start). SYNC(attach): Release pairs with the Acquire load in `alive`: a
                // peer that sees us attached sees what `fresh` wrote.
                line.attached.store(1, Ordering::Release);
            }
            // SYNC(attach): AcqRel: the Release half pairs with the Acquire loads in
            // `presence` and `holds` (and publishes `attached` with it); the Acquire half
            // orders what we read of the slot after what the holders before us wrote
            // before they bumped it.
            let generation = line
                .generation
                .fetch_add(1, Ordering::AcqRel)
                .wrapping_add(1);
            return Ok(Claim { slot, generation });
        }
        Err(OpenError::RoleTaken {
            role: class.role,
            slots: class.count,
        })
    }

    /// Graceful detach: clears the slot's flag, so that peers notice at once. The OFD lock
    /// goes with the descriptor when the segment is closed.
    pub(crate) fn detach(&self, claim: Claim) {
        // SYNC(attach): Release pairs with the Acquire loads in `presence` (and in `attach`
        // of a successor in one process): what we published before is visible once we are
        // seen gone.
        self.lines[claim.slot]
            .state
            .0
            .attached
            .store(0, Ordering::Release);
    }

    /// Whether some slot of `class` is held. `thorough` also asks the kernel whether the
    /// locks are still held (a syscall per attached slot), which is the only way to notice
    /// a holder that crashed; without it only a graceful detach is seen.
    ///
    /// The flags and generations are the holders' to write, so they are hints: a thorough
    /// look that finds no flag set asks the kernel about every slot before it says nobody
    /// holds one, and whether the role was ever held is what this handle saw (a generation
    /// or a holder, here or by [`Slots::saw`]), kept privately: a holder that zeroes its
    /// generation and dies is `Gone`, not `NeverAttached`, to a handle that saw it.
    pub(crate) fn presence(&self, class: Class, thorough: bool) -> Presence {
        let mut ever = false;
        for slot in class.first..class.first + class.count {
            let line = &self.lines[slot].state.0;
            // SYNC(attach): Acquire pairs with the Release stores in `attach`/`detach`, so
            // what a holder published before detaching is visible once we see it gone.
            ever |= line.generation.load(Ordering::Acquire) != 0;
            if line.attached.load(Ordering::Acquire) != 0 && (!thorough || self.locked(slot)) {
                self.saw(class.role);
                return Presence::Alive;
            }
        }
        if ever {
            self.saw(class.role);
        }
        if thorough && self.lock_held_in(class) {
            self.saw(class.role);
            return Presence::Alive;
        }
        if self.seen.get() & bit(class.role) != 0 {
            Presence::Gone
        } else {
            Presence::NeverAttached
        }
    }

    /// Records that a holder of `role` was there: this handle has evidence of its own (a
    /// message it received, room it got back), whatever the slots say now.
    pub(crate) fn saw(&self, role: Role) {
        self.seen.set(self.seen.get() | bit(role));
    }

    /// Whether the kernel says some slot of `class` is locked, whatever its flag says.
    fn lock_held_in(&self, class: Class) -> bool {
        match self.locks {
            Locks::Kernel(fd) => (class.first..class.first + class.count)
                .any(|slot| is_locked(fd, slot).unwrap_or(true)),
            // The flag is the lock: the loop in `presence` asked it.
            Locks::InProcess => false,
        }
    }

    /// Whether slot `slot` has a live holder, whoever it is: it is attached and (if
    /// `thorough`) its lock is held.
    pub(crate) fn alive(&self, slot: usize, thorough: bool) -> bool {
        // SYNC(attach): Acquire pairs with the Release stores in `attach`/`detach`: what the
        // holder published before it detached is visible once we see it gone.
        self.lines[slot].state.0.attached.load(Ordering::Acquire) != 0
            && (!thorough || self.locked(slot))
    }

    /// The sum of the counter `field` over the slots of `class` (statistics).
    pub(crate) fn total(&self, class: Class, field: fn(&Counters) -> &AtomicU64) -> u64 {
        self.counters(class, field).fold(0, u64::wrapping_add)
    }

    /// The largest value of the counter `field` over the slots of `class` (statistics).
    pub(crate) fn most(&self, class: Class, field: fn(&Counters) -> &AtomicU64) -> u64 {
        self.counters(class, field).max().unwrap_or(0)
    }

    fn counters(
        &self,
        class: Class,
        field: fn(&Counters) -> &AtomicU64,
    ) -> impl Iterator<Item = u64> + '_ {
        // Relaxed: statistics, each counter on its own.
        (class.first..class.first + class.count)
            .map(move |i| field(&self.lines[i].counters.0).load(Ordering::Relaxed))
    }

    /// Whether the slot's lock is held by some description other than ours. A lock that
    /// cannot be queried counts as held: we cannot tell, and waits are sliced.
    pub(crate) fn locked(&self, slot: usize) -> bool {
        match self.locks {
            Locks::Kernel(fd) => is_locked(fd, slot).unwrap_or(true),
            Locks::InProcess => true,
        }
    }
}

fn flock_for(slot: usize, kind: libc::c_short) -> libc::flock {
    // SAFETY: `flock` is a plain C struct for which all-zero is a valid value.
    let mut fl: libc::flock = unsafe { core::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = slot as libc::off_t;
    fl.l_len = 1;
    // l_pid must be 0 for OFD locks.
    fl.l_pid = 0;
    fl
}

// Raw `fcntl` below: rustix offers `flock`-style whole-file locks, not OFD byte-range
// locks, and one byte per slot is what lets several roles and slots share one file.

/// Takes the lock of `slot` on `fd`'s open file description without blocking.
/// Returns `Ok(false)` when another description holds it.
fn try_lock(fd: BorrowedFd<'_>, slot: usize) -> io::Result<bool> {
    let fl = flock_for(slot, libc::F_WRLCK as libc::c_short);
    // SAFETY: `fd` is a valid open descriptor and `fl` a valid flock that outlives the call.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(e),
    }
}

/// Whether any open file description other than `fd`'s holds the lock of `slot`.
fn is_locked(fd: BorrowedFd<'_>, slot: usize) -> io::Result<bool> {
    let mut fl = flock_for(slot, libc::F_WRLCK as libc::c_short);
    // SAFETY: `fd` is a valid open descriptor and `fl` a valid flock the kernel may write.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}
