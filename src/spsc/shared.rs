//! What both handles of an SPSC ring hold: the memory, private copies of its geometry,
//! and the role slot they hold in it.

use super::layout::{Geometry, Spsc, SpscHeader, CONSUMERS, PRODUCERS};
use crate::bytes::Bytes;
use crate::error::OpenError;
use crate::layout::{Counters, WaitLine};
use crate::region::Region;
use crate::role::Role;
use crate::roles::{Claim, Class, Presence};
use crate::wait;
use std::ptr::NonNull;

/// One handle's view of the ring.
#[derive(Debug)]
pub(crate) struct Ring {
    pub(crate) data: Bytes,
    /// Private copies, never re-read from shared memory.
    pub(crate) capacity: usize,
    pub(crate) mask: usize,
    pub(crate) max_message: usize,
    role: Role,
    claim: Claim,
    /// Whether this process receives heavy fences (see `wait::advertise`).
    pub(crate) registered: bool,
    /// This handle's own counters, in its slot (on its hot path).
    own: NonNull<Counters>,
    region: Region<SpscHeader>,
}

// SAFETY: `own` points into the memory of `region`, which moves with the ring; it is only
// accessed through atomics.
unsafe impl Send for Ring {}

/// The slots of a role.
fn class(role: Role) -> Class {
    match role {
        Role::Producer => PRODUCERS,
        Role::Consumer => CONSUMERS,
    }
}

/// The other side.
fn peer(role: Role) -> Role {
    match role {
        Role::Producer => Role::Consumer,
        Role::Consumer => Role::Producer,
    }
}

impl Ring {
    /// The memory of the ring.
    pub(crate) fn region(&self) -> &Region<SpscHeader> {
        &self.region
    }

    /// Attaches `role` to the ring in `region`: takes its slot or fails with `RoleTaken`.
    pub(crate) fn attach(
        region: Region<SpscHeader>,
        role: Role,
        geo: Geometry,
    ) -> Result<Ring, OpenError> {
        let claim = region.slots().attach(class(role), |_| {})?;
        let own = NonNull::from(&region.slots().get(claim.slot).counters.0);
        debug_assert_eq!(region.data().len(), geo.capacity);
        let mut ring = Ring {
            data: region.data(),
            capacity: geo.capacity,
            mask: geo.capacity - 1,
            max_message: geo.max_message,
            role,
            claim,
            registered: false,
            own,
            region,
        };
        // SAFETY: the line lives in the ring's memory, which `ring` keeps alive.
        ring.registered = wait::advertise(unsafe { ring.wait_line(role) });
        Ok(ring)
    }

    /// Makes a ring this handle created visible to openers.
    pub(crate) fn publish(&mut self) -> Result<(), OpenError> {
        self.region.publish::<Spsc>()
    }

    /// The shared header.
    #[inline]
    pub(crate) fn hdr(&self) -> &SpscHeader {
        self.region.header()
    }

    /// The counters (and `mark`) of the slot of `role`.
    #[inline]
    pub(crate) fn counters(&self, role: Role) -> &Counters {
        &self.region.slots().get(class(role).first).counters.0
    }

    /// This handle's own counters.
    #[inline(always)]
    pub(crate) fn own(&self) -> &Counters {
        // SAFETY: `own` points into the region's memory, which lives as long as `self`;
        // counters are atomics, valid for any bit pattern.
        unsafe { self.own.as_ref() }
    }

    /// The wait line of `of`, with a lifetime detached from `&self`, so that a wait loop
    /// can borrow the handle mutably while it sleeps on the line.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    pub(crate) unsafe fn wait_line<'b>(&self, of: Role) -> &'b WaitLine {
        // SAFETY: per the contract, the memory outlives the reference.
        let h = unsafe { self.region.header_unbound() };
        match of {
            Role::Producer => &h.producer_wait.0,
            Role::Consumer => &h.consumer_wait.0,
        }
    }

    /// See [`Region::keep`].
    #[cfg(not(ipcring_loom))]
    pub(crate) fn keep(&self) -> crate::region::Keep {
        self.region.keep()
    }

    /// See [`Region::poison`].
    pub(crate) fn poison(&self) {
        self.region.poison();
    }

    /// See [`Region::broken`].
    pub(crate) fn broken(&self) -> bool {
        self.region.broken()
    }

    /// See [`Region::poisoned`].
    #[inline(always)]
    pub(crate) fn poisoned(&self) -> bool {
        self.region.poisoned()
    }

    /// Is the peer attached? `thorough` also asks the kernel whether its lock is still
    /// held (a syscall): the only way to notice a peer that crashed. `met`: this handle
    /// has evidence of its own that a peer was there (a message it received, room it got
    /// back), so that a peer gone is `Gone` whatever its slot says.
    pub(crate) fn peer(&self, thorough: bool, met: bool) -> Presence {
        let slots = self.region.slots();
        let role = peer(self.role);
        if met {
            slots.saw(role);
        }
        slots.presence(class(role), thorough)
    }

    /// Whether the peer's slot says attached (one load): the fast way to see that it has
    /// not detached; a crashed peer still says so.
    #[inline]
    pub(crate) fn peer_attached(&self) -> bool {
        self.region
            .slots()
            .alive(class(peer(self.role)).first, false)
    }

    /// Graceful detach: clears the slot's flag and wakes the peer so that it notices at
    /// once. The role lock itself goes with the descriptor when the region drops.
    pub(crate) fn detach(&self) {
        self.region.slots().detach(self.claim);
        // SAFETY: the line reference does not outlive this call.
        wait::wake_always(unsafe { self.wait_line(peer(self.role)) });
    }
}
