//! The shared-memory layout: an ABI between processes, with fixed constants.
//!
//! Every hot field sits alone on a 128-byte line (two 64-byte lines, so the adjacent-line
//! prefetcher of x86 does not couple neighbours). The alignment is a fixed `align(128)`,
//! never a type whose alignment depends on the target. Offsets are asserted at compile
//! time and mirrored by the C header's documentation.

use crate::sync::{AtomicU32, AtomicU64, Futex};

/// Size of one line of the layout.
pub const LINE: usize = 128;

/// First 8 bytes of every ipcring segment: `"IPCRING\0"` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"IPCRING\0");

/// ABI major version: a segment of another major version is refused.
pub const ABI_MAJOR: u32 = 1;
/// ABI minor version: informational, compatible changes only.
pub const ABI_MINOR: u32 = 0;

/// `state` once the header is complete (`"RDY!"`).
pub const STATE_READY: u32 = u32::from_le_bytes(*b"RDY!");

/// Which kind of ring a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// Single producer, single consumer, variable-length records.
    Spsc = 1,
}

/// A value alone on its own 128-byte line.
#[derive(Debug, Default)]
#[repr(C, align(128))]
pub struct Line<T>(pub T);

/// Line 0: what the segment is. Written by the creator before `state` becomes READY and
/// never again; openers validate it and keep private copies.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Identity {
    /// [`MAGIC`].
    pub magic: AtomicU64,
    /// [`ABI_MAJOR`].
    pub abi_major: AtomicU32,
    /// [`ABI_MINOR`].
    pub abi_minor: AtomicU32,
    /// [`LAYOUT_HASH`] of the creator.
    pub layout_hash: AtomicU64,
    /// 0 while the creator initialises, then [`STATE_READY`]; published last, with Release.
    pub state: AtomicU32,
    /// [`Kind`] as `u32`.
    pub kind: AtomicU32,
    /// Bytes before the data area.
    pub header_size: AtomicU64,
    /// Bytes of the data area (a power of two).
    pub capacity: AtomicU64,
    /// Largest payload of one message.
    pub max_message: AtomicU64,
    /// `header_size + capacity`: the size the object must have.
    pub total_size: AtomicU64,
}

/// Per-role attachment record, on a cold line.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Roles {
    /// 1 while a producer is attached; cleared by a graceful detach (a crash leaves it set,
    /// the kernel-released lock tells the truth then).
    pub producer_attached: AtomicU32,
    /// How many producers have attached so far.
    pub producer_attaches: AtomicU32,
    /// 1 while a consumer is attached.
    pub consumer_attached: AtomicU32,
    /// How many consumers have attached so far.
    pub consumer_attaches: AtomicU32,
}

/// The consumer's position as the producer sees it: published lazily.
#[derive(Debug, Default)]
#[repr(C)]
pub struct ReadPosition {
    /// Everything before this position may be overwritten by the producer.
    pub pos: AtomicU64,
}

/// The consumer's own line: nobody reads it on the hot path.
#[derive(Debug, Default)]
#[repr(C)]
pub struct ConsumerLine {
    /// Position after the last released message (updated per message; where a new
    /// consumer resumes).
    pub released: AtomicU64,
    /// Messages received.
    pub received: AtomicU64,
    /// FUTEX_WAKE calls made by the consumer.
    pub wakeups: AtomicU64,
}

/// The producer's own line: nobody reads it on the hot path.
#[derive(Debug, Default)]
#[repr(C)]
pub struct ProducerLine {
    /// Position after the last committed message as of the producer's last wait or
    /// detach: where a taking-over producer starts its walk over the headers.
    pub written: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// `try_send` calls rejected because the ring was full.
    pub rejected: AtomicU64,
    /// FUTEX_WAKE calls made by the producer.
    pub wakeups: AtomicU64,
}

/// Where one side sleeps: a waiter count and the futex word.
#[derive(Debug, Default)]
#[repr(C)]
pub struct WaitLine {
    /// 1 while the side's thread announced that it is about to sleep on `futex`; the
    /// waker that sees it swaps it back to 0 (so one sleep costs one wake-up).
    pub waiters: AtomicU32,
    /// The futex word; bumped by the waker.
    pub futex: Futex,
    /// 1 while the side's process issues a heavy fence (`membarrier`) between its
    /// announcement and its re-check, so that a waker may issue only a light one; 0 (the
    /// safe default) asks wakers for a full fence. Written by the waiting side at attach.
    pub heavy: AtomicU32,
}

/// Everything of an SPSC segment before its data area.
#[derive(Debug, Default)]
#[repr(C)]
pub struct SpscHeader {
    /// Line 0.
    pub identity: Line<Identity>,
    /// Line 1.
    pub roles: Line<Roles>,
    /// Line 2: the one line the producer reads from the consumer (rarely).
    pub read: Line<ReadPosition>,
    /// Line 3.
    pub consumer: Line<ConsumerLine>,
    /// Line 4.
    pub producer: Line<ProducerLine>,
    /// Line 5: the consumer sleeps here when the ring is empty.
    pub consumer_wait: Line<WaitLine>,
    /// Line 6: the producer sleeps here when the ring is full.
    pub producer_wait: Line<WaitLine>,
}

/// Size of [`SpscHeader`] in shared memory; the data area starts here.
pub const SPSC_HEADER_SIZE: usize = 7 * LINE;

/// A hash of the layout: sizes and offsets of every shared field, so that two builds that
/// disagree about the layout refuse each other even at the same ABI version.
pub const LAYOUT_HASH: u64 = {
    let parts: [u64; 13] = [
        LINE as u64,
        SPSC_HEADER_SIZE as u64,
        core::mem::offset_of!(Identity, state) as u64,
        core::mem::offset_of!(Identity, total_size) as u64,
        core::mem::offset_of!(SpscHeader, roles) as u64,
        core::mem::offset_of!(SpscHeader, read) as u64,
        core::mem::offset_of!(SpscHeader, consumer) as u64,
        core::mem::offset_of!(SpscHeader, producer) as u64,
        core::mem::offset_of!(SpscHeader, consumer_wait) as u64,
        core::mem::offset_of!(SpscHeader, producer_wait) as u64,
        core::mem::offset_of!(WaitLine, futex) as u64,
        core::mem::offset_of!(WaitLine, heavy) as u64,
        crate::spsc::record::FORMAT,
    ];
    // FNV-1a over the parts.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < parts.len() {
        h ^= parts[i];
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
};

// The shared layout is an ABI: pin it down. (Loom's atomics are larger, so the exact
// sizes hold for real builds only; the line structure holds for both.)
const _: () = assert!(core::mem::align_of::<Line<u8>>() == LINE);
const _: () = assert!(core::mem::size_of::<Line<Identity>>() == LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, identity) == 0);
const _: () = assert!(core::mem::offset_of!(SpscHeader, roles) == LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, read) == 2 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, consumer) == 3 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, producer) == 4 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, consumer_wait) == 5 * LINE);
const _: () = assert!(core::mem::offset_of!(SpscHeader, producer_wait) == 6 * LINE);
const _: () = assert!(core::mem::size_of::<SpscHeader>() == SPSC_HEADER_SIZE);
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
    const _: () = assert!(offset_of!(Identity, capacity) == 40);
    const _: () = assert!(offset_of!(Identity, max_message) == 48);
    const _: () = assert!(offset_of!(Identity, total_size) == 56);
    const _: () = assert!(size_of::<Identity>() == 64);
    const _: () = assert!(offset_of!(WaitLine, futex) == 4);
    const _: () = assert!(size_of::<Futex>() == 4);
}
