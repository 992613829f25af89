//! Single producer, single consumer: variable-length messages, zero-copy both ways.
//!
//! Records are an 8-byte header word plus the payload, 8-byte aligned, with a padding
//! record at the end of the area so that a record never straddles the wrap. The header is
//! the commit flag (see `record.rs`); the consumer never writes the data area and tells the
//! producer its position lazily, on a line of its own.
//!
//! Either side may create the ring; the other opens it. At most one live producer and one
//! live consumer are attached at a time (`RoleTaken` otherwise). A new producer continues
//! after the last committed record; a new consumer resumes after the last released one.

mod consumer;
mod producer;
pub(crate) mod record;
mod shared;

pub use consumer::{Consumer, ReadGrant};
pub use producer::{Producer, WriteGrant};

use crate::error::OpenError;
use crate::layout::{Kind, SpscHeader, SPSC_HEADER_SIZE};
use crate::liveness::Role;
use crate::segment::{CreateOptions, Geometry, Segment};
use crate::sync::{HeapRegion, Ordering};
use crate::wait::WaitStrategy;
use shared::{Backing, Ring};
use std::sync::Arc;

/// Smallest data area, in bytes.
pub const MIN_CAPACITY: usize = 64;
/// Largest data area, in bytes (2 GiB).
pub const MAX_CAPACITY: usize = 1 << 31;
/// Data area of [`Builder`] when no capacity is given (1 MiB).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// The largest message of a ring of `capacity` bytes: a quarter of it.
pub const fn max_message_for(capacity: usize) -> usize {
    capacity / 4
}

pub(crate) fn capacity_ok(capacity: u64) -> bool {
    capacity.is_power_of_two() && capacity >= MIN_CAPACITY as u64 && capacity <= MAX_CAPACITY as u64
}

const _: () = assert!(max_message_for(MAX_CAPACITY) <= record::MAX_LEN);

/// Counters of a ring, read from its shared header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Messages committed by producers.
    pub sent: u64,
    /// Messages released by consumers.
    pub received: u64,
    /// `try_send` calls that found the ring full.
    pub rejected: u64,
    /// Futex wake calls made by producers (a busy pair makes none).
    pub producer_wakeups: u64,
    /// Futex wake calls made by consumers.
    pub consumer_wakeups: u64,
    /// Size of the data area in bytes.
    pub capacity: u64,
}

impl Stats {
    fn read(ring: &Ring) -> Stats {
        let h = ring.hdr();
        // Relaxed: statistics, each counter on its own; no ordering between them matters.
        let r = |a: &crate::sync::AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            sent: r(&h.producer.0.sent),
            received: r(&h.consumer.0.received),
            rejected: r(&h.producer.0.rejected),
            producer_wakeups: r(&h.producer.0.wakeups),
            consumer_wakeups: r(&h.consumer.0.wakeups),
            capacity: ring.capacity as u64,
        }
    }
}

/// Options of an SPSC ring, and the six ways to attach to one.
///
/// ```
/// # let name = format!("doc-builder-{}", std::process::id());
/// use ipcring::spsc::Builder;
/// use ipcring::WaitStrategy;
/// let tx = Builder::new(&name)
///     .capacity(1 << 16)
///     .mode(0o660)
///     .wait_strategy(WaitStrategy::BusySpin)
///     .create_producer()?;
/// let rx = Builder::new(&name).open_or_create_consumer()?;
/// assert_eq!(rx.capacity(), 1 << 16);
/// # drop((tx, rx));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), ipcring::OpenError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    name: String,
    capacity: usize,
    mode: u32,
    populate: bool,
    strategy: WaitStrategy,
    start: u64,
}

impl Builder {
    /// Options for the ring `name` (the shm object `/ipcring.<name>`).
    pub fn new(name: &str) -> Builder {
        Builder {
            name: name.to_owned(),
            capacity: DEFAULT_CAPACITY,
            mode: 0o600,
            populate: false,
            strategy: WaitStrategy::default(),
            start: 0,
        }
    }

    /// Size of the data area in bytes when creating: a power of two from
    /// [`MIN_CAPACITY`] to [`MAX_CAPACITY`]. Messages may be up to a quarter of it.
    pub fn capacity(mut self, bytes: usize) -> Builder {
        self.capacity = bytes;
        self
    }

    /// Permission bits of a created segment (default 0600; 0660 lets the group in).
    pub fn mode(mut self, mode: u32) -> Builder {
        self.mode = mode & 0o777;
        self
    }

    /// Pre-fault every page when mapping, on create and on open (`MAP_POPULATE`): no page
    /// fault on first use.
    pub fn populate(mut self, yes: bool) -> Builder {
        self.populate = yes;
        self
    }

    /// How the handle's blocking calls wait.
    pub fn wait_strategy(mut self, strategy: WaitStrategy) -> Builder {
        self.strategy = strategy;
        self
    }

    /// Test hook: start a created ring's positions at `pos` (rounded down to 8), for
    /// example near `u64::MAX` to exercise wrapping arithmetic.
    #[doc(hidden)]
    pub fn start_position(mut self, pos: u64) -> Builder {
        self.start = pos & !7;
        self
    }

    /// Creates the ring and attaches as its producer.
    ///
    /// # Errors
    /// See [`Producer::create`].
    pub fn create_producer(self) -> Result<Producer, OpenError> {
        let s = self.strategy;
        Producer::attach(self.create(Role::Producer)?, s)
    }

    /// Opens the ring as its producer.
    ///
    /// # Errors
    /// See [`Producer::open`].
    pub fn open_producer(self) -> Result<Producer, OpenError> {
        let s = self.strategy;
        Producer::attach(self.open(Role::Producer)?, s)
    }

    /// Opens the ring as its producer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Producer::create`] and [`Producer::open`].
    pub fn open_or_create_producer(self) -> Result<Producer, OpenError> {
        let s = self.strategy;
        Producer::attach(self.open_or_create(Role::Producer)?, s)
    }

    /// Creates the ring and attaches as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::create`].
    pub fn create_consumer(self) -> Result<Consumer, OpenError> {
        let s = self.strategy;
        Consumer::attach(self.create(Role::Consumer)?, s)
    }

    /// Opens the ring as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::open`].
    pub fn open_consumer(self) -> Result<Consumer, OpenError> {
        let s = self.strategy;
        Consumer::attach(self.open(Role::Consumer)?, s)
    }

    /// Opens the ring as its consumer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Consumer::create`] and [`Consumer::open`].
    pub fn open_or_create_consumer(self) -> Result<Consumer, OpenError> {
        let s = self.strategy;
        Consumer::attach(self.open_or_create(Role::Consumer)?, s)
    }

    fn geometry(&self) -> Result<Geometry, OpenError> {
        if !capacity_ok(self.capacity as u64) {
            return Err(OpenError::InvalidCapacity {
                capacity: self.capacity,
                min: MIN_CAPACITY,
                max: MAX_CAPACITY,
            });
        }
        Ok(Geometry {
            kind: Kind::Spsc,
            header_size: SPSC_HEADER_SIZE,
            capacity: self.capacity,
            max_message: max_message_for(self.capacity),
        })
    }

    fn create(&self, role: Role) -> Result<Ring, OpenError> {
        let geo = self.geometry()?;
        let opts = CreateOptions {
            mode: self.mode,
            populate: self.populate,
        };
        let start = self.start;
        let mut ring = None;
        Segment::create(&self.name, geo, opts, |seg| {
            // Attach before READY, so that no opener can take our role first. The ring
            // only borrows the segment's memory; the segment moves into it below.
            let h = seg.base().cast::<SpscHeader>();
            // SAFETY: the segment is mapped, at least `SPSC_HEADER_SIZE` long, and no
            // other process can use it before READY.
            let h = unsafe { h.as_ref() };
            // Relaxed: published by the READY store that follows.
            h.read.0.pos.store(start, Ordering::Relaxed);
            h.consumer.0.released.store(start, Ordering::Relaxed);
            h.producer.0.written.store(start, Ordering::Relaxed);
            ring = Some(crate::liveness::try_take(seg.fd(), role));
            Ok(())
        })
        .and_then(|seg| match ring {
            Some(Ok(true)) => Ok(Ring::attach_locked(
                Backing::Segment(seg),
                role,
                geo.capacity,
                geo.max_message,
            )),
            Some(Ok(false)) | None => Err(OpenError::RoleTaken { role }),
            Some(Err(e)) => Err(OpenError::Io {
                op: "fcntl(F_OFD_SETLK)",
                source: e,
            }),
        })
    }

    fn open(&self, role: Role) -> Result<Ring, OpenError> {
        let (seg, geo) = Segment::open(&self.name, self.geometry_for_open(), self.populate)?;
        Ring::attach(Backing::Segment(seg), role, geo.capacity, geo.max_message)
    }

    fn geometry_for_open(&self) -> Geometry {
        Geometry {
            kind: Kind::Spsc,
            header_size: SPSC_HEADER_SIZE,
            capacity: 0,
            max_message: 0,
        }
    }

    fn open_or_create(&self, role: Role) -> Result<Ring, OpenError> {
        // Another process may create or remove the ring between our two attempts.
        let mut last = None;
        for _ in 0..4 {
            match self.open(role) {
                Err(OpenError::NotFound { .. }) => {}
                other => return other,
            }
            match self.create(role) {
                Err(e @ OpenError::AlreadyExists { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.expect("the loop ran"))
    }
}

/// One ring on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named ring: one producer and
/// one consumer at a time (`RoleTaken` otherwise), and a new one continues where the last
/// one of its role stopped. Clones share the ring.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapRing {
    region: Arc<HeapRegion<SpscHeader>>,
    capacity: usize,
}

impl HeapRing {
    /// A fresh ring of `capacity` bytes whose positions start at `start` (rounded down
    /// to 8).
    ///
    /// # Panics
    /// If `capacity` is not valid (see [`Builder::capacity`]).
    pub fn new(capacity: usize, start: u64) -> HeapRing {
        assert!(capacity_ok(capacity as u64), "invalid capacity {capacity}");
        let region = Arc::new(HeapRegion::<SpscHeader>::new(capacity));
        // SAFETY: the region is alive (we hold it) and nobody else uses it yet.
        let h = unsafe { region.header().as_ref() };
        // Relaxed: the ring reaches other threads only by being moved or cloned into them,
        // which orders these stores before any use there.
        h.read.0.pos.store(start & !7, Ordering::Relaxed);
        h.consumer.0.released.store(start & !7, Ordering::Relaxed);
        h.producer.0.written.store(start & !7, Ordering::Relaxed);
        HeapRing { region, capacity }
    }

    fn attach(&self, role: Role) -> Result<Ring, OpenError> {
        let backing = Backing::Heap(self.region.clone());
        Ring::attach(backing, role, self.capacity, max_message_for(self.capacity))
    }

    /// Attaches a producer.
    ///
    /// # Errors
    /// `RoleTaken` while another producer is attached.
    pub fn producer(&self, strategy: WaitStrategy) -> Result<Producer, OpenError> {
        Producer::attach(self.attach(Role::Producer)?, strategy)
    }

    /// Attaches a consumer.
    ///
    /// # Errors
    /// `RoleTaken` while another consumer is attached.
    pub fn consumer(&self, strategy: WaitStrategy) -> Result<Consumer, OpenError> {
        Consumer::attach(self.attach(Role::Consumer)?, strategy)
    }
}

/// A producer and a consumer of a fresh [`HeapRing`].
///
/// # Panics
/// If `capacity` is not valid (see [`Builder::capacity`]).
#[doc(hidden)]
pub fn heap_pair(capacity: usize, strategy: WaitStrategy, start: u64) -> (Producer, Consumer) {
    let ring = HeapRing::new(capacity, start);
    let tx = ring.producer(strategy).expect("fresh ring");
    let rx = ring.consumer(strategy).expect("fresh ring");
    (tx, rx)
}
