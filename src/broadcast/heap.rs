//! Broadcast topics on the heap, in one process: for tests, loom models and sanitizers.

use super::layout::{Broadcast, Geometry};
use super::topic::{init, Join, Topic};
use super::{Publisher, Subscriber};
use crate::cells::Shape;
use crate::error::OpenError;
use crate::region::Heap;
use crate::role::Role;
use crate::wait::WaitStrategy;
use std::time::Duration;

/// One topic on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named topic, up to its role
/// slots. Clones share the topic.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapTopic(Heap<Broadcast>);

impl HeapTopic {
    /// A fresh topic of `capacity` slots of `slot_size` bytes, with `roles.0` publisher
    /// and `roles.1` subscriber slots, lossy or not, with a `max_lag` or not, whose
    /// positions start at `start`.
    ///
    /// # Panics
    /// If the geometry is not valid (see [`super::Builder`]).
    pub fn new(
        capacity: usize,
        slot_size: usize,
        roles: (usize, usize),
        lossy: bool,
        max_lag: Option<Duration>,
        start: u64,
    ) -> HeapTopic {
        let geo = Geometry {
            cells: Shape {
                capacity,
                slot_size,
                producers: roles.0,
                consumers: roles.1,
            },
            lossy,
            max_lag,
            start,
            stall: None,
        }
        .check()
        .expect("a valid geometry");
        HeapTopic(Heap::new(geo, |region| init(region, &geo)))
    }

    fn attach(&self, role: Role) -> Result<Topic, OpenError> {
        Topic::attach(self.0.region(), role, self.0.geo)
    }

    /// Attaches a publisher.
    ///
    /// # Errors
    /// `RoleTaken` while every publisher slot is held.
    pub fn publisher(&self, strategy: WaitStrategy) -> Result<Publisher, OpenError> {
        Ok(Publisher::attach(self.attach(Role::Producer)?, strategy))
    }

    /// Attaches a subscriber at the next message, or at the oldest one held.
    ///
    /// # Errors
    /// `RoleTaken` while every subscriber slot is held.
    pub fn subscriber(
        &self,
        strategy: WaitStrategy,
        from_oldest: bool,
    ) -> Result<Subscriber, OpenError> {
        let join = if from_oldest {
            Join::Oldest
        } else {
            Join::Next
        };
        Ok(Subscriber::attach(
            self.attach(Role::Consumer)?,
            strategy,
            join,
        ))
    }
}
