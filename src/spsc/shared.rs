//! What both handles of an SPSC ring hold: the memory, private copies of its geometry,
//! and the role they play in it.

use crate::error::OpenError;
use crate::layout::{SpscHeader, WaitLine, SPSC_HEADER_SIZE};
use crate::liveness::{self, Role};
use crate::segment::Segment;
use crate::sync::{AtomicU32, Bytes, HeapRegion, Ordering};
use crate::wait;
use std::ptr::NonNull;
use std::sync::Arc;

/// Where the ring's memory comes from.
#[derive(Debug)]
pub(crate) enum Backing {
    /// A named shared-memory segment, mapped by this handle, with its own role lock.
    Segment(Segment),
    /// A heap region shared by the two handles of one process (tests, loom models).
    Heap(Arc<HeapRegion<SpscHeader>>),
}

/// What a handle knows of its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// No peer has attached yet: keep waiting for one.
    NeverAttached,
    /// A peer holds its role.
    Alive,
    /// The peer that was attached detached or died.
    Gone,
}

/// One handle's view of the ring.
#[derive(Debug)]
pub(crate) struct Ring {
    header: NonNull<SpscHeader>,
    pub(crate) data: Bytes,
    /// Private copies, never re-read from shared memory.
    pub(crate) capacity: usize,
    pub(crate) mask: usize,
    pub(crate) max_message: usize,
    role: Role,
    // Last: the memory must outlive the pointers above (they are not used in drop).
    backing: Backing,
}

// SAFETY: the ring points into memory owned by `backing`, which moves with it; all shared
// accesses go through atomics or protocol-guarded windows. Not `Sync`: a handle is used
// by one thread at a time (`&mut self` on every operation).
unsafe impl Send for Ring {}

impl Ring {
    /// Attaches `role` to a ring whose memory is `backing`: takes the role or fails with
    /// `RoleTaken`.
    pub(crate) fn attach(
        backing: Backing,
        role: Role,
        capacity: usize,
        max_message: usize,
    ) -> Result<Ring, OpenError> {
        let taken = match &backing {
            Backing::Segment(seg) => {
                liveness::try_take(seg.fd(), role).map_err(|e| OpenError::Io {
                    op: "fcntl(F_OFD_SETLK)",
                    source: e,
                })?
            }
            Backing::Heap(region) => {
                // In one process the flag is the lock: nobody can die without us.
                // SAFETY: the region lives as long as the Arc we hold.
                let roles = unsafe { &region.header().as_ref().roles.0 };
                // SYNC(attach): AcqRel pairs with the Release in `detach` of the previous
                // holder.
                attached_flag(roles, role)
                    .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            }
        };
        if !taken {
            return Err(OpenError::RoleTaken { role });
        }
        Ok(Ring::attach_locked(backing, role, capacity, max_message))
    }

    /// Attaches `role` once its lock is held.
    pub(crate) fn attach_locked(
        backing: Backing,
        role: Role,
        capacity: usize,
        max_message: usize,
    ) -> Ring {
        let (header, data) = match &backing {
            Backing::Segment(seg) => {
                let base = seg.base();
                // SAFETY: the segment was validated (or made) to be `SPSC_HEADER_SIZE +
                // capacity` bytes long; the data area starts 128-aligned after the header.
                let data = unsafe {
                    Bytes::from_raw(
                        NonNull::new_unchecked(base.as_ptr().add(SPSC_HEADER_SIZE)),
                        capacity,
                    )
                };
                (base.cast::<SpscHeader>(), data)
            }
            Backing::Heap(region) => (region.header(), region.bytes()),
        };
        debug_assert_eq!(data.len(), capacity);
        let ring = Ring {
            header,
            data,
            capacity,
            mask: capacity - 1,
            max_message,
            role,
            backing,
        };
        let roles = &ring.hdr().roles.0;
        // SYNC(attach): Release pairs with the Acquire loads in `peer`.
        attached_flag(roles, role).store(1, Ordering::Release);
        attaches(roles, role).fetch_add(1, Ordering::Release);
        // SAFETY: the line lives in the ring's memory, which `ring` keeps alive.
        wait::advertise(unsafe { ring.wait_line(role) });
        ring
    }

    /// The shared header.
    #[inline]
    pub(crate) fn hdr(&self) -> &SpscHeader {
        // SAFETY: `header` points into memory that `backing` keeps alive and mapped for as
        // long as `self`; the header is made of atomics, valid for any bit pattern.
        unsafe { self.header.as_ref() }
    }

    /// A wait line with a lifetime detached from `&self`, so that a wait loop can borrow
    /// the handle mutably while it sleeps on the line.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    pub(crate) unsafe fn wait_line<'b>(&self, of: Role) -> &'b WaitLine {
        let h = self.header.as_ptr();
        // SAFETY: per the contract, the memory outlives the reference.
        unsafe {
            match of {
                Role::Producer => &(*h).producer_wait.0,
                Role::Consumer => &(*h).consumer_wait.0,
            }
        }
    }

    /// Is the peer alive? `thorough` also asks the kernel whether the role lock is still
    /// held (a syscall), which is the only way to notice a peer that crashed; without it
    /// only a graceful detach is seen.
    pub(crate) fn peer(&self, thorough: bool) -> Peer {
        let peer = self.role.peer();
        let roles = &self.hdr().roles.0;
        // SYNC(attach): Acquire pairs with the Release in `attach`/`detach`, so what the
        // peer published before detaching is visible once we see it gone.
        if attaches(roles, peer).load(Ordering::Acquire) == 0 {
            return Peer::NeverAttached;
        }
        if attached_flag(roles, peer).load(Ordering::Acquire) == 0 {
            return Peer::Gone;
        }
        match &self.backing {
            _ if !thorough => Peer::Alive,
            // A crashed peer leaves its flag set, but the kernel released its lock. If the
            // lock cannot be queried we cannot tell: report alive (waits are sliced).
            Backing::Segment(seg) => match liveness::is_held(seg.fd(), peer) {
                Ok(false) => Peer::Gone,
                _ => Peer::Alive,
            },
            Backing::Heap(_) => Peer::Alive,
        }
    }

    /// Graceful detach: clears the role flag and wakes the peer so that it notices at
    /// once. The role lock itself goes with the descriptor when the backing drops.
    pub(crate) fn detach(&self) {
        let roles = &self.hdr().roles.0;
        // SYNC(attach): pairs with the Acquire load in `peer`.
        attached_flag(roles, self.role).store(0, Ordering::Release);
        // SAFETY: the line reference does not outlive this call.
        wait::wake_always(unsafe { self.wait_line(self.role.peer()) });
    }
}

fn attached_flag(roles: &crate::layout::Roles, role: Role) -> &AtomicU32 {
    match role {
        Role::Producer => &roles.producer_attached,
        Role::Consumer => &roles.consumer_attached,
    }
}

fn attaches(roles: &crate::layout::Roles, role: Role) -> &AtomicU32 {
    match role {
        Role::Producer => &roles.producer_attaches,
        Role::Consumer => &roles.consumer_attaches,
    }
}
