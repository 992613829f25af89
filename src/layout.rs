//! The parts of the shared layout that every ring kind has: an ABI between processes, with
//! fixed constants.
//!
//! A segment is a kind's header, then its role slots, then its data area:
//!
//! ```text
//! | Line<Identity> | the kind's lines ... | role slots (2 lines each) ... | data area ... |
//! ```
//!
//! Every hot field sits alone on a 128-byte line (two 64-byte lines, so the adjacent-line
//! prefetcher of x86 does not couple neighbours). The alignment is a fixed `align(128)`,
//! never a type whose alignment depends on the target. Offsets are asserted at compile
//! time, here for the common parts and in each kind's `layout.rs` for its own.

use crate::futex::Futex;
use crate::sync::{AtomicU32, AtomicU64};

/// Size of one line of the layout.
pub(crate) const LINE: usize = 128;

/// First 8 bytes of every ipcring segment: `"IPCRING\0"` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"IPCRING\0");

/// ABI major version: a segment of another major version is refused.
pub const ABI_MAJOR: u32 = 2;
/// ABI minor version: informational, compatible changes only. 1: the identity line holds
/// the ring's incarnation (0 in a ring made by minor version 0). 2: a wait line's
/// `waiting` hint (never set in a ring of an earlier minor version, whose peers ignore
/// it). 3: the hint is a time stamp, fresh for a while (2 stored 1; each takes the other's
/// for a hint that is stale, or fresh for good).
pub const ABI_MINOR: u32 = 3;

/// `state` once the header is complete (`"RDY!"`).
pub(crate) const STATE_READY: u32 = u32::from_le_bytes(*b"RDY!");

/// `state` once a handle found the ring corrupted (`"BAD!"`): no handle opens it again.
pub(crate) const STATE_BROKEN: u32 = u32::from_le_bytes(*b"BAD!");

/// Which kind of ring a segment holds: the `kind` word of its identity line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum Kind {
    /// Single producer, single consumer, variable-length records.
    Spsc = 1,
    /// Many producers, many consumers, fixed-size cells.
    Mpmc = 2,
    /// Many publishers, many subscribers that each see every message, fixed-size cells.
    Broadcast = 3,
    /// A blackboard: a fixed set of entries, each holding the latest value its writer set.
    Blackboard = 4,
    /// Event notification: ids that notifiers fire and listeners wait for.
    Event = 5,
}

impl Kind {
    /// The kind's name: `spsc`, `mpmc`, `broadcast`, `blackboard` or `event`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Spsc => "spsc",
            Kind::Mpmc => "mpmc",
            Kind::Broadcast => "broadcast",
            Kind::Blackboard => "blackboard",
            Kind::Event => "event",
        }
    }
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A value alone on its own 128-byte line.
#[derive(Debug, Default)]
#[repr(C, align(128))]
pub(crate) struct Line<T>(pub(crate) T);

/// Line 0 of every segment: what the segment is. Written by the creator before `state`
/// becomes READY and never again; openers validate it. The geometry of a ring (capacity,
/// slot sizes, role counts) is the kind's own and lives on the kind's next line.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Identity {
    /// [`MAGIC`].
    pub(crate) magic: AtomicU64,
    /// [`ABI_MAJOR`].
    pub(crate) abi_major: AtomicU32,
    /// [`ABI_MINOR`].
    pub(crate) abi_minor: AtomicU32,
    /// The layout hash of the creator's build for this kind.
    pub(crate) layout_hash: AtomicU64,
    /// 0 while the creator initialises, then [`STATE_READY`]; published last, with Release.
    /// [`STATE_BROKEN`] once a handle found the ring corrupted.
    pub(crate) state: AtomicU32,
    /// [`Kind`] as `u32`.
    pub(crate) kind: AtomicU32,
    /// Bytes before the data area: the kind's header and its role slots.
    pub(crate) header_size: AtomicU64,
    /// Bytes of the whole segment: the size the object must have.
    pub(crate) total_size: AtomicU64,
    /// A random word drawn at create, never 0: a ring removed and created again under
    /// the same name has another one, so that positions (which start again) together with
    /// it name a message of one creation only. 0 in a ring made before ABI minor 1.
    pub(crate) incarnation: AtomicU64,
}

/// A position that handles advance (an index of a ring of cells).
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Position {
    pub(crate) pos: AtomicU64,
}

/// Where the threads of one side sleep: an announcement, the futex word, and whether
/// every process that waits here issues heavy fences.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct WaitLine {
    /// 1 once a waiter announced that it is about to sleep on `futex`. Only a waker clears
    /// it, and only to wake everybody who sleeps here, so no waiter's exit can erase
    /// another one's announcement (see `wait.rs`).
    pub(crate) announced: AtomicU32,
    /// The futex word; bumped by the waker.
    pub(crate) futex: Futex,
    /// 1 while every process that waits on this line issues a heavy fence (`membarrier`)
    /// between its announcement and its re-check, so that a waker may issue only a light
    /// one; 0 (the safe value) asks wakers for a full fence. Set by the creator, cleared
    /// for good by any waiter that cannot promise it.
    pub(crate) heavy: AtomicU32,
    /// While a handle of this side waits for the other side (spinning or asleep): the
    /// millisecond of the coarse monotonic clock at which it last said so, a hint that a
    /// kind may give the other side, never a protocol (see `hint`); 0 when nobody waits,
    /// and in a ring of ABI minor version 1 or before.
    pub(crate) waiting: AtomicU32,
}

/// The attachment of one role slot: read by peers only when they check liveness.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct SlotState {
    /// Bumped by every attach (0: the slot was never held).
    /// 0 until the slot's first attach.
    pub(crate) generation: AtomicU32,
    /// 1 while a handle is attached; cleared by a graceful detach (a crash leaves it set,
    /// and the kernel-released lock tells the truth then).
    pub(crate) attached: AtomicU32,
}

/// Counters of one role slot, kept by its holder (one writer, so plain stores of private
/// copies) and summed over the slots by readers. A new holder of the slot carries them on.
/// Each kind uses the ones that apply to its roles.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Counters {
    /// Messages committed.
    pub(crate) sent: AtomicU64,
    /// Messages released after reading.
    pub(crate) received: AtomicU64,
    /// Sends refused at once because the ring was full.
    pub(crate) rejected: AtomicU64,
    /// `FUTEX_WAKE` calls made.
    pub(crate) wakeups: AtomicU64,
    /// Claims of dead (or stalled) producers that this holder turned into skips.
    pub(crate) skipped: AtomicU64,
    /// Messages of dead readers that this holder delivered again.
    pub(crate) redelivered: AtomicU64,
    /// The largest fill this holder saw (messages or bytes in the ring, as the kind
    /// counts).
    pub(crate) high_water: AtomicU64,
    /// A position the kind keeps per slot (for SPSC: where a successor resumes; for
    /// MPMC: the position its holder claims or holds, see `claims.rs`; for a broadcast
    /// subscriber: its cursor).
    pub(crate) mark: AtomicU64,
    /// Messages this holder never received because publishers overwrote them first (a
    /// lossy broadcast subscriber that was lapped).
    pub(crate) missed: AtomicU64,
    /// Subscribers this holder evicted (a broadcast publisher), or times this holder was
    /// evicted (a broadcast subscriber).
    pub(crate) evicted: AtomicU64,
    /// Payload bytes of the messages counted in `sent` (writers) or `received` (readers).
    pub(crate) bytes: AtomicU64,
}

/// One role slot: its attachment and, on a line of their own (they change with every
/// message), its holder's counters.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct RoleSlot {
    /// Read by peers.
    pub(crate) state: Line<SlotState>,
    /// Written by the holder on its hot path.
    pub(crate) counters: Line<Counters>,
}

/// Size of one role slot.
pub(crate) const SLOT_SIZE: usize = 2 * LINE;

/// FNV-1a over `parts`, for the layout hashes: sizes and offsets of every shared field,
/// so that two builds that disagree about a layout refuse each other even at the same ABI
/// version.
pub(crate) const fn hash(parts: &[u64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < parts.len() {
        h ^= parts[i];
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The layout hash of the parts above, which every kind folds into its own. The identity's
/// `incarnation` is not in it: a build of ABI minor 0 reads the line without it and may
/// open a ring that has one.
pub(crate) const CORE_HASH: u64 = hash(&[
    LINE as u64,
    core::mem::offset_of!(Identity, state) as u64,
    core::mem::offset_of!(Identity, total_size) as u64,
    core::mem::offset_of!(WaitLine, futex) as u64,
    core::mem::offset_of!(WaitLine, heavy) as u64,
    core::mem::offset_of!(RoleSlot, counters) as u64,
    core::mem::offset_of!(Counters, mark) as u64,
    core::mem::offset_of!(Counters, evicted) as u64,
    core::mem::offset_of!(Counters, bytes) as u64,
    core::mem::size_of::<Counters>() as u64,
    SLOT_SIZE as u64,
]);

const _: () = assert!(core::mem::align_of::<Line<u8>>() == LINE);
const _: () = assert!(core::mem::size_of::<Line<Identity>>() == LINE);
const _: () = assert!(core::mem::size_of::<Line<WaitLine>>() == LINE);
const _: () = assert!(core::mem::size_of::<RoleSlot>() == SLOT_SIZE);
// Loom's atomics are larger: the exact offsets hold for real builds only.
#[cfg(not(ipcring_loom))]
mod abi_asserts {
    use super::*;
    use core::mem::{offset_of, size_of};
    const _: () = assert!(offset_of!(Identity, magic) == 0);
    const _: () = assert!(offset_of!(Identity, abi_major) == 8);
    const _: () = assert!(offset_of!(Identity, abi_minor) == 12);
    const _: () = assert!(offset_of!(Identity, layout_hash) == 16);
    const _: () = assert!(offset_of!(Identity, state) == 24);
    const _: () = assert!(offset_of!(Identity, kind) == 28);
    const _: () = assert!(offset_of!(Identity, header_size) == 32);
    const _: () = assert!(offset_of!(Identity, total_size) == 40);
    const _: () = assert!(offset_of!(Identity, incarnation) == 48);
    const _: () = assert!(size_of::<Identity>() == 56);
    const _: () = assert!(offset_of!(WaitLine, announced) == 0);
    const _: () = assert!(offset_of!(WaitLine, futex) == 4);
    const _: () = assert!(offset_of!(WaitLine, heavy) == 8);
    // Not in the layout hash: a compatible addition (ABI minor version 2).
    const _: () = assert!(offset_of!(WaitLine, waiting) == 12);
    const _: () = assert!(size_of::<Futex>() == 4);
    const _: () = assert!(offset_of!(SlotState, generation) == 0);
    const _: () = assert!(offset_of!(SlotState, attached) == 4);
    const _: () = assert!(offset_of!(RoleSlot, counters) == LINE);
    const _: () = assert!(offset_of!(Counters, sent) == 0);
    const _: () = assert!(offset_of!(Counters, received) == 8);
    const _: () = assert!(offset_of!(Counters, rejected) == 16);
    const _: () = assert!(offset_of!(Counters, wakeups) == 24);
    const _: () = assert!(offset_of!(Counters, skipped) == 32);
    const _: () = assert!(offset_of!(Counters, redelivered) == 40);
    const _: () = assert!(offset_of!(Counters, high_water) == 48);
    const _: () = assert!(offset_of!(Counters, mark) == 56);
    const _: () = assert!(offset_of!(Counters, missed) == 64);
    const _: () = assert!(offset_of!(Counters, evicted) == 72);
    const _: () = assert!(offset_of!(Counters, bytes) == 80);
    const _: () = assert!(size_of::<Counters>() == 88);
    const _: () = assert!(size_of::<Position>() == 8);
}
