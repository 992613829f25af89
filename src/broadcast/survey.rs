//! What a survey reports of a broadcast topic: its tail, and how far behind it each
//! subscriber reads.

use super::layout::{Broadcast, BroadcastHeader, Geometry};
use super::room::is_cursor;
use crate::claims;
use crate::region::Region;
use crate::role::Role;
use crate::roles::Class;
use crate::survey::{self, Now, Position, Surveyed};
use crate::sync::Ordering;

impl Surveyed for Broadcast {
    fn roles(g: &Geometry) -> [(&'static str, Class); 2] {
        survey::cell_roles(&g.cells, ["publisher", "subscriber"])
    }

    fn geometry(g: &Geometry) -> survey::Geometry {
        survey::Geometry {
            lossy: Some(g.lossy),
            max_lag: g.max_lag,
            ..survey::Geometry::of_cells(&g.cells, g.stall)
        }
    }

    /// A topic holds the last lap of messages; a subscriber's lag is how many of the
    /// messages published it has not read (more than the capacity: it was overtaken).
    fn now(region: &Region<BroadcastHeader>, g: &Geometry) -> Now {
        // Relaxed: a report.
        let tail = region.header().tail.0.pos.load(Ordering::Relaxed);
        let cap = g.cells.capacity as u64;
        let slots = region.slots();
        let subscribers = g.class(Role::Consumer);
        let mut lag = Vec::new();
        for slot in subscribers.first..subscribers.first + subscribers.count {
            // Relaxed: a report. A detached subscriber's cursor holds nobody back.
            let c = slots.get(slot).counters.0.mark.load(Ordering::Relaxed);
            if slots.alive(slot, false) && is_cursor(tail, c) && !claims::past(c, tail) {
                lag.push((slot, tail.wrapping_sub(c)));
            }
        }
        let written = tail.wrapping_sub(g.start).min(cap);
        let fill = if g.lossy {
            written
        } else {
            lag.iter().map(|l| l.1).max().unwrap_or(0).min(cap)
        };
        Now {
            positions: vec![Position {
                name: "tail",
                value: tail,
            }],
            fill,
            messages: written,
            lag,
            ..Now::default()
        }
    }
}
