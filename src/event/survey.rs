//! What a survey reports of an event segment: its epoch and how many times each id fired.

use super::layout::{Event, EventHeader, Geometry};
use crate::region::Region;
use crate::role::Role;
use crate::roles::Class;
use crate::survey::{self, EventCount, Now, Position, Surveyed};
use crate::sync::Ordering;

impl Surveyed for Event {
    fn roles(g: &Geometry) -> [(&'static str, Class); 2] {
        [
            ("notifier", g.class(Role::Producer)),
            ("listener", g.class(Role::Consumer)),
        ]
    }

    fn geometry(g: &Geometry) -> survey::Geometry {
        survey::Geometry::of_entries(g.ids)
    }

    /// The fill is the number of ids that ever fired; `messages` the notifications.
    fn now(region: &Region<EventHeader>, g: &Geometry) -> Now {
        let data = region.data();
        // Relaxed: a report. The data area holds a counter per id of the validated
        // geometry.
        let events: Vec<EventCount> = (0..g.ids)
            .map(|id| EventCount {
                id,
                count: data.word(id * 8).load(Ordering::Relaxed),
            })
            .collect();
        let epoch = region.header().epoch.0.epoch.load(Ordering::Relaxed);
        Now {
            positions: vec![Position {
                name: "epoch",
                value: epoch,
            }],
            fill: events.iter().filter(|e| e.count != 0).count() as u64,
            messages: events.iter().fold(0u64, |n, e| n.wrapping_add(e.count)),
            events,
            ..Now::default()
        }
    }
}
