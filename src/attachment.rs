//! A handle's attachment to a ring whose roles have many slots (MPMC queues, broadcast
//! topics): the ring's memory, the slot the handle holds and its counters there, and the
//! wait lines where each role sleeps.

use crate::error::OpenError;
use crate::layout::{Counters, RoleSlot, WaitLine};
use crate::region::Region;
use crate::role::Role;
use crate::roles::{Claim, Class, Presence, Slots};
use crate::segment::Spec;
use crate::wait;
use std::ptr::NonNull;

/// A kind's header that has a wait line for each role.
pub(crate) trait WaitLines {
    /// Where the handles of `role` sleep.
    fn line(&self, role: Role) -> &WaitLine;
}

/// One handle's attachment: its view of the ring's memory and the slot it holds.
#[derive(Debug)]
pub(crate) struct Attachment<H> {
    role: Role,
    claim: Claim,
    /// Whether this process receives heavy fences (see `wait::advertise`).
    registered: bool,
    /// This handle's own counters, in its slot.
    own: NonNull<Counters>,
    region: Region<H>,
}

// SAFETY: `own` points into the memory of `region`, which moves with the attachment; all
// shared accesses go through atomics. Not `Sync`: a handle is used by one thread at a time.
unsafe impl<H: Sync> Send for Attachment<H> {}

impl<H: WaitLines + 'static> Attachment<H> {
    /// Takes a slot of `class` in `region` (or fails with `RoleTaken`); `fresh` runs on the
    /// header and the slot before peers can see the slot held (see [`Slots::attach`]).
    pub(crate) fn attach(
        region: Region<H>,
        class: Class,
        fresh: impl FnOnce(&H, &RoleSlot),
    ) -> Result<Attachment<H>, OpenError> {
        let claim = region
            .slots()
            .attach(class, |slot| fresh(region.header(), slot))?;
        let own = NonNull::from(&region.slots().get(claim.slot).counters.0);
        let registered = wait::advertise(region.header().line(class.role));
        Ok(Attachment {
            role: class.role,
            claim,
            registered,
            own,
            region,
        })
    }

    /// Makes a ring this handle created, of kind `S`, visible to openers.
    pub(crate) fn publish<S: Spec<Header = H>>(&mut self) -> Result<(), OpenError> {
        self.region.publish::<S>()
    }

    /// The shared header.
    #[inline]
    pub(crate) fn hdr(&self) -> &H {
        self.region.header()
    }

    /// The memory of the ring.
    pub(crate) fn region(&self) -> &Region<H> {
        &self.region
    }

    /// See [`Region::broken`].
    pub(crate) fn broken(&self) -> bool {
        self.region.broken()
    }

    /// See [`Region::poison`].
    pub(crate) fn poison(&self) {
        self.region.poison();
    }

    /// See [`Region::poisoned`].
    #[inline(always)]
    pub(crate) fn poisoned(&self) -> bool {
        self.region.poisoned()
    }

    /// The role slots.
    pub(crate) fn slots(&self) -> Slots<'_> {
        self.region.slots()
    }

    /// The index of the role slot this handle holds, among all the ring's slots.
    pub(crate) fn slot(&self) -> usize {
        self.claim.slot
    }

    /// This handle's own counters.
    #[inline]
    pub(crate) fn own(&self) -> &Counters {
        // SAFETY: `own` points into the region's memory, which lives as long as `self`;
        // counters are atomics, valid for any bit pattern.
        unsafe { self.own.as_ref() }
    }

    /// The wait line of `of`.
    pub(crate) fn wait_line(&self, of: Role) -> &WaitLine {
        self.hdr().line(of)
    }

    /// The wait line of `of`, with a lifetime detached from `&self`, so that a wait loop
    /// can borrow the handle mutably while it sleeps on the line.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    pub(crate) unsafe fn wait_line_unbound<'b>(&self, of: Role) -> &'b WaitLine {
        // SAFETY: per the contract, the memory outlives the reference.
        unsafe { self.region.header_unbound() }.line(of)
    }

    /// Whether anybody holds a slot of `class`; `thorough` asks the kernel (a syscall per
    /// attached slot). `met`: the kind has seen a holder's work (an index it moves), so
    /// that holders gone are `Gone` whatever their slots say (see [`Slots::presence`]).
    pub(crate) fn presence(&self, class: Class, thorough: bool, met: bool) -> Presence {
        let slots = self.slots();
        if met {
            slots.saw(class.role);
        }
        slots.presence(class, thorough)
    }

    /// Graceful detach: clears the slot's flag and wakes the other role's sleepers so
    /// that they notice at once.
    pub(crate) fn detach(&self) {
        self.slots().detach(self.claim);
        let other = match self.role {
            Role::Producer => Role::Consumer,
            Role::Consumer => Role::Producer,
        };
        wait::wake_always(self.wait_line(other));
    }

    /// Wakes the sleepers of `role`, if any announced themselves (counted).
    #[inline]
    pub(crate) fn wake(&self, role: Role) {
        if wait::wake(self.wait_line(role), self.registered) {
            crate::claims::bump(&self.own().wakeups);
        }
    }
}
