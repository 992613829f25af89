//! MPMC queues on the heap, in one process: for tests, loom models and sanitizers.

use super::layout::{Geometry, Mpmc};
use super::queue::{init, Queue};
use super::{Consumer, Producer};
use crate::cells::Shape;
use crate::error::OpenError;
use crate::region::Heap;
use crate::role::Role;
use crate::wait::WaitStrategy;

/// One queue on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named queue, up to its role
/// slots. Clones share the queue.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapQueue(Heap<Mpmc>);

impl HeapQueue {
    /// A fresh queue of `capacity` slots of `slot_size` bytes, with `roles` producer and
    /// `roles` consumer slots, whose positions start at `start`.
    ///
    /// # Panics
    /// If the geometry is not valid (see [`super::Builder`]).
    pub fn new(capacity: usize, slot_size: usize, roles: usize, start: u64) -> HeapQueue {
        let geo = Geometry {
            cells: Shape {
                capacity,
                slot_size,
                producers: roles,
                consumers: roles,
            },
            stall: None,
        }
        .check()
        .expect("a valid geometry");
        HeapQueue(Heap::new(geo, |region| init(region, &geo, start)))
    }

    fn attach(&self, role: Role) -> Result<Queue, OpenError> {
        Queue::attach(self.0.region(), role, self.0.geo)
    }

    /// Attaches a producer.
    ///
    /// # Errors
    /// `RoleTaken` while every producer slot is held.
    pub fn producer(&self, strategy: WaitStrategy) -> Result<Producer, OpenError> {
        Ok(Producer::attach(self.attach(Role::Producer)?, strategy))
    }

    /// Attaches a consumer.
    ///
    /// # Errors
    /// `RoleTaken` while every consumer slot is held.
    pub fn consumer(&self, strategy: WaitStrategy) -> Result<Consumer, OpenError> {
        Ok(Consumer::attach(self.attach(Role::Consumer)?, strategy))
    }
}
