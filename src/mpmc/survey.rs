//! What a survey reports of an MPMC queue: its two indices and the messages between them.

use super::layout::{Geometry, Mpmc, MpmcHeader};
use crate::region::Region;
use crate::roles::Class;
use crate::survey::{self, Now, Position, Surveyed};
use crate::sync::Ordering;

impl Surveyed for Mpmc {
    fn roles(g: &Geometry) -> [(&'static str, Class); 2] {
        survey::cell_roles(&g.cells, ["producer", "consumer"])
    }

    fn geometry(g: &Geometry) -> survey::Geometry {
        survey::Geometry::of_cells(&g.cells, g.stall)
    }

    fn now(region: &Region<MpmcHeader>, g: &Geometry) -> Now {
        let h = region.header();
        // Relaxed: a report. Claimed positions count: a message being written or read.
        let head = h.head.0.pos.load(Ordering::Relaxed);
        let tail = h.tail.0.pos.load(Ordering::Relaxed);
        let fill = tail.saturating_sub(head).min(g.cells.capacity as u64);
        Now {
            positions: vec![
                Position {
                    name: "head",
                    value: head,
                },
                Position {
                    name: "tail",
                    value: tail,
                },
            ],
            fill,
            messages: fill,
            ..Now::default()
        }
    }
}
