//! Event segments on the heap, in one process: for tests, loom models and sanitizers.

use super::layout::{Event, Geometry};
use super::shared::{init, Events};
use super::{Listener, Notifier};
use crate::error::OpenError;
use crate::region::Heap;
use crate::role::Role;
use crate::wait::WaitStrategy;

/// One event segment on the heap, in this process: for tests, loom models and sanitizers
/// (which cannot follow shared memory). Handles attach to it as to a named segment, up to
/// its role slots. Clones share the segment.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapEvents(Heap<Event>);

impl HeapEvents {
    /// A fresh segment of `ids` ids with `notifiers` and `listeners` role slots, whose
    /// counters and epoch start at `start`.
    ///
    /// # Panics
    /// If the geometry is not valid (see [`super::Builder`]).
    pub fn new(ids: usize, notifiers: usize, listeners: usize, start: u64) -> HeapEvents {
        let geo = Geometry {
            ids,
            notifiers,
            listeners,
        }
        .check()
        .expect("a valid geometry");
        HeapEvents(Heap::new(geo, |region| init(region, &geo, start)))
    }

    fn attach(&self, role: Role) -> Result<Events, OpenError> {
        Events::attach(self.0.region(), role, self.0.geo)
    }

    /// Attaches a notifier.
    ///
    /// # Errors
    /// `RoleTaken` while every notifier slot is held.
    pub fn notifier(&self) -> Result<Notifier, OpenError> {
        Ok(Notifier::attach(self.attach(Role::Producer)?))
    }

    /// Attaches a listener.
    ///
    /// # Errors
    /// `RoleTaken` while every listener slot is held.
    pub fn listener(&self, strategy: WaitStrategy) -> Result<Listener, OpenError> {
        Ok(Listener::attach(self.attach(Role::Consumer)?, strategy))
    }
}
