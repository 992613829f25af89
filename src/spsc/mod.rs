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
mod layout;
mod producer;
pub(crate) mod record;
mod shared;

pub use consumer::{Consumer, ReadGrant};
pub use layout::{max_message_for, MAX_CAPACITY, MIN_CAPACITY};
pub use producer::{Producer, WriteGrant};

use crate::error::OpenError;
use crate::region::{HeapRegion, Region};
use crate::roles::Role;
use crate::segment::Segment;
use crate::sync::Ordering;
use crate::wait::{self, WaitStrategy};
use layout::{Geometry, Spsc, SpscHeader, CONSUMERS, PRODUCERS};
use shared::Ring;
use std::sync::Arc;

/// Data area of [`Builder`] when no capacity is given (1 MiB).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

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
        let p = ring.counters(Role::Producer);
        let c = ring.counters(Role::Consumer);
        // Relaxed: statistics, each counter on its own; no ordering between them matters.
        let r = |a: &crate::sync::AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            sent: r(&p.sent),
            received: r(&c.received),
            rejected: r(&p.rejected),
            producer_wakeups: r(&p.wakeups),
            consumer_wakeups: r(&c.wakeups),
            capacity: ring.capacity as u64,
        }
    }
}

/// The SPSC part of a [`Builder`]: the size of the data area.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    capacity: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            capacity: DEFAULT_CAPACITY,
        }
    }
}

/// Options of an SPSC ring, and the six ways to attach to one. The options every kind
/// shares (mode, populate, wait strategy) are those of [`crate::Builder`].
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
pub type Builder = crate::Builder<Shape>;

impl crate::Builder<Shape> {
    /// Size of the data area in bytes when creating: a power of two from
    /// [`MIN_CAPACITY`] to [`MAX_CAPACITY`]. Messages may be up to a quarter of it.
    pub fn capacity(mut self, bytes: usize) -> Builder {
        self.kind.capacity = bytes;
        self
    }

    /// Creates the ring and attaches as its producer.
    ///
    /// # Errors
    /// See [`Producer::create`].
    pub fn create_producer(self) -> Result<Producer, OpenError> {
        Producer::attach(self.create(Role::Producer)?, self.strategy)
    }

    /// Opens the ring as its producer.
    ///
    /// # Errors
    /// See [`Producer::open`].
    pub fn open_producer(self) -> Result<Producer, OpenError> {
        Producer::attach(self.open(Role::Producer)?, self.strategy)
    }

    /// Opens the ring as its producer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Producer::create`] and [`Producer::open`].
    pub fn open_or_create_producer(self) -> Result<Producer, OpenError> {
        let ring = self.open_or_create(|b| b.open(Role::Producer), |b| b.create(Role::Producer))?;
        Producer::attach(ring, self.strategy)
    }

    /// Creates the ring and attaches as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::create`].
    pub fn create_consumer(self) -> Result<Consumer, OpenError> {
        Consumer::attach(self.create(Role::Consumer)?, self.strategy)
    }

    /// Opens the ring as its consumer.
    ///
    /// # Errors
    /// See [`Consumer::open`].
    pub fn open_consumer(self) -> Result<Consumer, OpenError> {
        Consumer::attach(self.open(Role::Consumer)?, self.strategy)
    }

    /// Opens the ring as its consumer, creating it if it does not exist.
    ///
    /// # Errors
    /// See [`Consumer::create`] and [`Consumer::open`].
    pub fn open_or_create_consumer(self) -> Result<Consumer, OpenError> {
        let ring = self.open_or_create(|b| b.open(Role::Consumer), |b| b.create(Role::Consumer))?;
        Consumer::attach(ring, self.strategy)
    }

    fn create(&self, role: Role) -> Result<Ring, OpenError> {
        let geo = Geometry::of(self.kind.capacity)?;
        let seg = Segment::create::<Spsc>(&self.name, &geo, self.create_options())?;
        let region = Region::segment::<Spsc>(seg, &geo);
        init(&region, self.start);
        // Attach before READY, so that no opener can take our role first.
        let mut ring = Ring::attach(region, role, geo)?;
        ring.publish()?;
        Ok(ring)
    }

    fn open(&self, role: Role) -> Result<Ring, OpenError> {
        let (seg, geo) = Segment::open::<Spsc>(&self.name, self.populate)?;
        Ring::attach(Region::segment::<Spsc>(seg, &geo), role, geo)
    }
}

/// Initialises the header of a new ring whose positions start at `start`: nothing has
/// been written, read or released before it.
fn init(region: &Region<SpscHeader>, start: u64) {
    let h = region.header();
    let slots = region.slots();
    // Relaxed: a segment's header is published by its READY store; a heap ring reaches
    // other threads only by being moved or cloned into them.
    h.read.0.pos.store(start, Ordering::Relaxed);
    for class in [PRODUCERS, CONSUMERS] {
        slots
            .get(class.first)
            .counters
            .0
            .mark
            .store(start, Ordering::Relaxed);
    }
    wait::prepare(&h.consumer_wait.0);
    wait::prepare(&h.producer_wait.0);
}

/// One ring on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named ring: one producer and
/// one consumer at a time (`RoleTaken` otherwise), and a new one continues where the last
/// one of its role stopped. Clones share the ring.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapRing {
    region: Arc<HeapRegion<SpscHeader>>,
    geo: Geometry,
}

impl HeapRing {
    /// A fresh ring of `capacity` bytes whose positions start at `start` (rounded down
    /// to 8).
    ///
    /// # Panics
    /// If `capacity` is not valid (see [`Builder::capacity`]).
    pub fn new(capacity: usize, start: u64) -> HeapRing {
        let geo = Geometry::of(capacity).expect("a valid capacity");
        let region = Arc::new(HeapRegion::new(layout::SLOTS, capacity));
        init(&Region::heap(region.clone()), start & !7);
        HeapRing { region, geo }
    }

    fn attach(&self, role: Role) -> Result<Ring, OpenError> {
        Ring::attach(Region::heap(self.region.clone()), role, self.geo)
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
