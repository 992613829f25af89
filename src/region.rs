//! The memory of one ring as one handle sees it: a mapped segment, or a heap region shared
//! by the handles of one process (tests, loom models, sanitizers). Either way, the kind's
//! header, its role slots and its data area, reached through offsets from a base.

use crate::bytes::{Bytes, HeapBytes};
use crate::error::OpenError;
use crate::layout::{self, Identity, RoleSlot, SLOT_SIZE};
use crate::roles::{Locks, Slots};
use crate::segment::{self, Segment, Spec};
use crate::sync::Ordering;
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Arc;

/// A ring's header `H`, role slots and data area on the heap, zeroed like a fresh segment.
#[derive(Debug)]
pub(crate) struct HeapRegion<H> {
    header: Box<H>,
    slots: Box<[RoleSlot]>,
    data: HeapBytes,
}

impl<H: Default> HeapRegion<H> {
    /// A region with `slots` role slots and `data_len` bytes of data (a positive multiple
    /// of 8).
    pub(crate) fn new(slots: usize, data_len: usize) -> HeapRegion<H> {
        HeapRegion {
            header: Box::default(),
            slots: (0..slots).map(|_| RoleSlot::default()).collect(),
            data: HeapBytes::new(data_len),
        }
    }
}

/// A heap region and the geometry it was made for: what the in-process rings of every
/// kind share among their handles.
pub(crate) struct Heap<S: Spec> {
    region: Arc<HeapRegion<S::Header>>,
    pub(crate) geo: S::Geometry,
}

impl<S: Spec> Heap<S> {
    /// A fresh region for geometry `geo`, initialised by `init`.
    pub(crate) fn new(geo: S::Geometry, init: impl FnOnce(&Region<S::Header>)) -> Heap<S> {
        let region = Arc::new(HeapRegion::new(S::slots(&geo), S::data_len(&geo)));
        init(&Region::heap::<S>(region.clone()));
        Heap { region, geo }
    }

    /// A view of the region for one more handle.
    pub(crate) fn region(&self) -> Region<S::Header> {
        Region::heap::<S>(self.region.clone())
    }
}

impl<S: Spec> Clone for Heap<S> {
    fn clone(&self) -> Heap<S> {
        Heap {
            region: self.region.clone(),
            geo: self.geo,
        }
    }
}

impl<S: Spec> core::fmt::Debug for Heap<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Heap").finish_non_exhaustive()
    }
}

/// Keeps a ring's memory (not its handle) alive: what a helper thread that watches futex
/// words of the ring holds, so that a handle dropped meanwhile cannot unmap them.
#[cfg(not(ipcring_loom))]
pub(crate) type Keep = Arc<dyn core::fmt::Debug + Send + Sync>;

/// Where the memory comes from.
#[derive(Debug)]
enum Backing<H> {
    /// A shared-memory segment, mapped by this handle, with its own descriptor (which
    /// carries this handle's role lock).
    Segment(Segment),
    /// A heap region shared by the handles of one process, held to keep it alive.
    Heap {
        // Read only by `keep`, which loom builds lack.
        #[cfg_attr(ipcring_loom, allow(dead_code))]
        region: Arc<HeapRegion<H>>,
    },
}

/// One handle's view of a ring's memory.
#[derive(Debug)]
pub(crate) struct Region<H> {
    header: NonNull<H>,
    slots: NonNull<RoleSlot>,
    nslots: usize,
    data: Bytes,
    /// The roles this handle has seen held (a bit per role, see [`Slots::presence`]):
    /// private, so that no write to the shared memory can take back what it saw.
    seen: Cell<u8>,
    /// Set once this handle found the ring corrupted: every later call says so.
    poisoned: Cell<bool>,
    /// The identity line of the header, whose `state` word also carries the verdict of a
    /// handle that found the ring corrupted (see [`Region::poison`]).
    identity: NonNull<Identity>,
    // Last: the memory must outlive the pointers above (they are not used in drop).
    backing: Backing<H>,
}

// SAFETY: the pointers point into memory owned by `backing`, which moves with the region;
// all shared accesses go through atomics or protocol-guarded windows.
unsafe impl<H: Sync> Send for Region<H> {}

impl<H> Region<H> {
    /// The view of a mapped segment of kind `S` and geometry `geo`: the header at the
    /// start, the role slots after it, the data area after them.
    pub(crate) fn segment<S: Spec<Header = H>>(seg: Segment, geo: &S::Geometry) -> Region<H> {
        let base = seg.base().as_ptr();
        let nslots = S::slots(geo);
        let data_len = S::data_len(geo);
        let data_at = segment::header_size::<S>(geo);
        assert!(
            data_at + data_len <= seg.len(),
            "a segment maps its whole geometry"
        );
        // SAFETY: the segment maps `data_at + data_len` bytes (asserted above; `create`
        // and `open` map exactly the geometry's size); the fixed header is a whole number
        // of 128-byte lines, so the slots and the data area after it are 128-aligned.
        let (slots, data) = unsafe {
            let slots = NonNull::new_unchecked(base.add(core::mem::size_of::<H>()).cast());
            let data = Bytes::from_raw(NonNull::new_unchecked(base.add(data_at)), data_len);
            (slots, data)
        };
        debug_assert_eq!(core::mem::size_of::<H>() + nslots * SLOT_SIZE, data_at);
        let header: NonNull<H> = seg.base().cast();
        // SAFETY: the header lies at the start of the mapping, which the region keeps (in
        // `backing`) as long as it keeps this pointer; it is made of atomics.
        let identity = NonNull::from(S::identity(unsafe { header.as_ref() }));
        Region {
            identity,
            header,
            slots,
            nslots,
            data,
            seen: Cell::new(0),
            poisoned: Cell::new(false),
            backing: Backing::Segment(seg),
        }
    }

    /// The view of a heap region.
    pub(crate) fn heap<S: Spec<Header = H>>(region: Arc<HeapRegion<H>>) -> Region<H> {
        Region {
            identity: NonNull::from(S::identity(&region.header)),
            header: NonNull::from(&*region.header),
            slots: NonNull::from(&region.slots[..]).cast(),
            nslots: region.slots.len(),
            data: region.data.bytes(),
            seen: Cell::new(0),
            poisoned: Cell::new(false),
            backing: Backing::Heap { region },
        }
    }

    /// The kind's header.
    #[inline]
    pub(crate) fn header(&self) -> &H {
        // SAFETY: `header` points into memory that `backing` keeps alive and mapped for as
        // long as `self`; headers are made of atomics, valid for any bit pattern.
        unsafe { self.header.as_ref() }
    }

    /// The header with a lifetime detached from `&self`, so that a wait loop can borrow
    /// the handle mutably while it sleeps on one of its lines.
    ///
    /// # Safety
    /// The returned reference must not outlive `self`.
    #[inline]
    pub(crate) unsafe fn header_unbound<'b>(&self) -> &'b H {
        // SAFETY: as in `header`; the caller keeps `self` alive for `'b`.
        unsafe { &*self.header.as_ptr() }
    }

    /// The data area.
    #[inline]
    pub(crate) fn data(&self) -> Bytes {
        self.data
    }

    /// The start of the data area of a mapped segment, for a kind whose data area begins
    /// with a table of shared structures (made of atomics); `None` for a heap region,
    /// whose kind keeps such a table on the heap of its own.
    pub(crate) fn mapped_data(&self) -> Option<NonNull<u8>> {
        match self.backing {
            Backing::Segment(_) => Some(self.data.base()),
            Backing::Heap { .. } => None,
        }
    }

    /// Records that this handle found the ring corrupted (a value no ipcring writes, where
    /// the protocol allows no other): from now on every call of the handle that touches
    /// the ring returns `Corrupted`, so that nothing more is read from or written to a
    /// ring known to be bad.
    ///
    /// The verdict is also written into the segment (the identity's `state` becomes
    /// `BROKEN`), for the other handles: a peer waiting for what this handle will no
    /// longer do (room, a message) learns it at its next thorough look
    /// ([`Region::broken`]) instead of waiting for good, and new handles cannot open the
    /// segment.
    #[cold]
    pub(crate) fn poison(&self) {
        self.poisoned.set(true);
        // Relaxed: a verdict, not a publication; whoever reads it stops reading the ring.
        self.identity()
            .state
            .store(layout::STATE_BROKEN, Ordering::Relaxed);
    }

    /// Whether [`Region::poison`] was called.
    #[inline(always)]
    pub(crate) fn poisoned(&self) -> bool {
        self.poisoned.get()
    }

    /// Whether this handle or another one found the ring corrupted (see
    /// [`Region::poison`]): one load of a line that nobody writes while the ring is intact,
    /// for the thorough looks of waits and polls. Poisons this handle if another did.
    #[cold]
    pub(crate) fn broken(&self) -> bool {
        // Relaxed: as in `poison`.
        if self.identity().state.load(Ordering::Relaxed) == layout::STATE_BROKEN {
            self.poisoned.set(true);
        }
        self.poisoned.get()
    }

    /// The segment's incarnation (see [`Identity::incarnation`]); 0 for a heap region.
    pub(crate) fn incarnation(&self) -> u64 {
        // Relaxed: written before READY, whose Acquire load in the open orders it; never
        // written again by an intact peer, and only reported.
        self.identity().incarnation.load(Ordering::Relaxed)
    }

    fn identity(&self) -> &Identity {
        // SAFETY: the identity line lives in the header, as long as `self` (see `header`).
        unsafe { self.identity.as_ref() }
    }

    /// The role slots and how they are locked.
    pub(crate) fn slots(&self) -> Slots<'_> {
        // SAFETY: `nslots` slots lie at `slots`, in memory that lives as long as `self`;
        // they are made of atomics, valid for any bit pattern.
        let lines = unsafe { core::slice::from_raw_parts(self.slots.as_ptr(), self.nslots) };
        let locks = match &self.backing {
            Backing::Segment(seg) => Locks::Kernel(seg.fd()),
            Backing::Heap { .. } => Locks::InProcess,
        };
        Slots {
            lines,
            locks,
            seen: &self.seen,
        }
    }

    /// Keeps this region's memory alive (see [`Keep`]).
    #[cfg(not(ipcring_loom))]
    pub(crate) fn keep(&self) -> Keep
    where
        H: core::fmt::Debug + Send + Sync + 'static,
    {
        match &self.backing {
            Backing::Segment(seg) => seg.keep(),
            Backing::Heap { region } => region.clone(),
        }
    }

    /// Writes a segment back to its file's storage (see [`Segment::flush`]); nothing to do
    /// for a heap region.
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        match &self.backing {
            Backing::Segment(seg) => seg.flush(),
            Backing::Heap { .. } => Ok(()),
        }
    }

    /// The mapping of a segment, kept alive, for a thread that syncs it (see
    /// [`crate::mapping::Mapping::sync`]) without holding the handle's descriptor;
    /// `None` for a heap region, which has no file.
    #[cfg(not(ipcring_loom))]
    pub(crate) fn mapping(&self) -> Option<Arc<crate::mapping::Mapping>> {
        match &self.backing {
            Backing::Segment(seg) => Some(seg.keep()),
            Backing::Heap { .. } => None,
        }
    }

    /// Publishes a segment this handle created, of kind `S` (see [`Segment::publish`]).
    pub(crate) fn publish<S: Spec<Header = H>>(&mut self) -> Result<(), OpenError> {
        // SAFETY: the header lives as long as `self`, which the call below does not drop.
        let id = S::identity(unsafe { self.header_unbound() });
        match &mut self.backing {
            Backing::Segment(seg) => seg.publish(id),
            Backing::Heap { .. } => Ok(()),
        }
    }
}
