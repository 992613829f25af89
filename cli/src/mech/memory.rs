//! Mechanisms on plain shared memory (a memfd the child inherits): the hardware limit,
//! a raw futex ping-pong, and the fixed-slot reference ring.

use super::{seq_of, Link, Prepared, STOP};
use crate::child::ChildArgs;
use ipcring_bench_support::refring::{
    ref_consumer, ref_producer, ref_ring_bytes, RefConsumer, RefProducer,
};
use ipcring_bench_support::shm::SharedMem;
use rustix::thread::futex;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bytes of a line: two of them never share a cache line (nor an adjacent-line prefetch).
const LINE: usize = 128;
/// Lines per direction of the limit: round trip i uses line pair i mod 512, spread over
/// 2 x 64 KiB, because one fixed pair varies by +-25 % with its address.
const LINES: usize = 512;
const REGION: usize = LINES * LINE;

/// Slots of the reference ring: 1 MiB of 8-byte slots, the data area of the ipcring rings
/// it is compared with.
const REF_SLOTS: usize = 1 << 17;

fn prepared(link: Box<dyn Link>, fd: i32) -> Prepared {
    Prepared {
        link,
        child_fds: vec![fd],
        close_after_spawn: Vec::new(),
        name: String::new(),
        id: 0,
    }
}

fn inherited(args: &ChildArgs, len: usize) -> io::Result<SharedMem> {
    let fd = *args
        .fds
        .first()
        .ok_or_else(|| io::Error::other("no memfd given"))?;
    // SAFETY: the parent passed this descriptor to us alone; we own it from now on.
    unsafe { SharedMem::from_fd(fd, len) }
}

/// The limit: each direction stores the sequence number into its next line.
struct LimitLink {
    mem: SharedMem,
    tx: usize,
    rx: usize,
    sent: u64,
    received: u64,
}

impl LimitLink {
    fn line(&self, region: usize, n: u64) -> &AtomicU64 {
        let off = region + (n as usize % LINES) * LINE;
        debug_assert!(off + 8 <= 2 * REGION);
        // SAFETY: `off` is 8-aligned and inside the mapping, which lives as long as `self`;
        // the other process only accesses it atomically too.
        unsafe { &*self.mem.ptr().add(off).cast::<AtomicU64>() }
    }
}

impl Link for LimitLink {
    fn send(&mut self, msg: &[u8]) {
        self.sent += 1;
        // SYNC(limit): Release pairs with the Acquire load in the peer's `recv`.
        self.line(self.tx, self.sent)
            .store(seq_of(msg), Ordering::Release);
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        self.received += 1;
        let k = self.received;
        let line = self.line(self.rx, k);
        let v = loop {
            // SYNC(limit): Acquire pairs with the Release store in the peer's `send`.
            let v = line.load(Ordering::Acquire);
            // Values on one line only grow (k, k + 512, ...): a smaller one is a stale lap.
            if v & !STOP >= k {
                break v;
            }
            std::hint::spin_loop();
        };
        buf.clear();
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

pub fn prepare_limit() -> io::Result<Prepared> {
    let mem = SharedMem::create(2 * REGION)?;
    let fd = mem.fd();
    let link = LimitLink {
        mem,
        tx: 0,
        rx: REGION,
        sent: 0,
        received: 0,
    };
    Ok(prepared(Box::new(link), fd))
}

pub fn open_limit(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    Ok(Box::new(LimitLink {
        mem: inherited(args, 2 * REGION)?,
        tx: REGION,
        rx: 0,
        sent: 0,
        received: 0,
    }))
}

/// A raw futex ping-pong: store the number, FUTEX_WAKE; the receiver FUTEX_WAITs until
/// its word holds the number it expects. Bit 31 of a word is [`STOP`].
struct FutexLink {
    mem: SharedMem,
    tx: usize,
    rx: usize,
    received: u64,
}

const LOW31: u32 = 0x7fff_ffff;

impl FutexLink {
    fn word(&self, off: usize) -> &AtomicU32 {
        // SAFETY: `off` is 0 or LINE, inside the 4 KiB mapping that lives as long as
        // `self`; the other process only accesses it atomically too.
        unsafe { &*self.mem.ptr().add(off).cast::<AtomicU32>() }
    }
}

/// Futex flags: none. The word is in memory shared with another process, hence no
/// FUTEX_PRIVATE_FLAG.
const SHARED: futex::Flags = futex::Flags::empty();

impl Link for FutexLink {
    fn send(&mut self, msg: &[u8]) {
        let s = seq_of(msg);
        let v = (s as u32 & LOW31) | if s & STOP != 0 { !LOW31 } else { 0 };
        let word = self.word(self.tx);
        // SYNC(futex): Release pairs with the Acquire load in the peer's `recv`.
        word.store(v, Ordering::Release);
        let _ = futex::wake(word, SHARED, 1);
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        self.received += 1;
        let k = self.received;
        let word = self.word(self.rx);
        let v = loop {
            // SYNC(futex): Acquire pairs with the Release store in the peer's `send`.
            let v = word.load(Ordering::Acquire);
            if v & LOW31 == k as u32 & LOW31 {
                break v;
            }
            // Sleeps only while the word still holds `v`: no lost wake-up. (EAGAIN: it
            // changed already; EINTR: a signal. Either way, look again.)
            let _ = futex::wait(word, SHARED, v, None);
        };
        let seq = k | if v & !LOW31 != 0 { STOP } else { 0 };
        buf.clear();
        buf.extend_from_slice(&seq.to_le_bytes());
    }
}

pub fn prepare_futex() -> io::Result<Prepared> {
    let mem = SharedMem::create(4096)?;
    let fd = mem.fd();
    let link = FutexLink {
        mem,
        tx: 0,
        rx: LINE,
        received: 0,
    };
    Ok(prepared(Box::new(link), fd))
}

pub fn open_futex(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    Ok(Box::new(FutexLink {
        mem: inherited(args, 4096)?,
        tx: LINE,
        rx: 0,
        received: 0,
    }))
}

/// Two reference rings, one per direction, carrying the sequence number only.
struct RefLink {
    tx: RefProducer,
    rx: RefConsumer,
    // Last: the rings point into it.
    _mem: SharedMem,
}

impl Link for RefLink {
    fn send(&mut self, msg: &[u8]) {
        assert_eq!(msg.len(), 8, "the reference ring carries 8-byte messages");
        self.tx.push(seq_of(msg));
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        let v = self.rx.pop();
        buf.clear();
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

const REF_BYTES: usize = ref_ring_bytes(REF_SLOTS);

fn ref_link(mem: SharedMem, parent: bool) -> RefLink {
    let (tx, rx) = if parent {
        (0, REF_BYTES)
    } else {
        (REF_BYTES, 0)
    };
    // SAFETY: both rings lie inside the zeroed mapping, at 128-aligned offsets
    // (REF_BYTES is a multiple of 128); the mapping moves into the link and outlives
    // the handles; each process takes one role of each ring.
    let (tx, rx) = unsafe {
        (
            ref_producer(mem.ptr().add(tx), REF_SLOTS),
            ref_consumer(mem.ptr().add(rx), REF_SLOTS),
        )
    };
    RefLink { tx, rx, _mem: mem }
}

pub fn prepare_ref_ring(size: usize) -> io::Result<Prepared> {
    if size != 8 {
        return Err(io::Error::other(
            "the reference ring carries 8-byte messages",
        ));
    }
    let mem = SharedMem::create(2 * REF_BYTES)?;
    let fd = mem.fd();
    Ok(prepared(Box::new(ref_link(mem, true)), fd))
}

pub fn open_ref_ring(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    Ok(Box::new(ref_link(inherited(args, 2 * REF_BYTES)?, false)))
}
