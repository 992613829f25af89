//! SPSC rings on the heap, in one process: for tests, loom models and sanitizers.

use super::builder::init;
use super::layout::{Geometry, Spsc};
use super::shared::Ring;
use super::{Consumer, Producer};
use crate::error::OpenError;
use crate::region::Heap;
use crate::role::Role;
use crate::wait::WaitStrategy;

/// One ring on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named ring: one producer and
/// one consumer at a time (`RoleTaken` otherwise), and a new one continues where the last
/// one of its role stopped. Clones share the ring.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapRing(Heap<Spsc>);

impl HeapRing {
    /// A fresh ring of `capacity` bytes whose positions start at `start` (rounded down
    /// to 8).
    ///
    /// # Panics
    /// If `capacity` is not valid (see [`Builder::capacity`]).
    pub fn new(capacity: usize, start: u64) -> HeapRing {
        let geo = Geometry::of(capacity).expect("a valid capacity");
        HeapRing(Heap::new(geo, |region| init(region, start & !7)))
    }

    fn attach(&self, role: Role) -> Result<Ring, OpenError> {
        Ring::attach(self.0.region(), role, self.0.geo)
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
