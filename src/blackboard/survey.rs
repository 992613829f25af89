//! What a survey reports of a blackboard: each entry's key, size, version and state.

use super::board::{key_of, mapped_table, owner_alive};
use super::layout::{Blackboard, BoardHeader, Geometry};
use super::seqlock::version;
use crate::region::Region;
use crate::role::Role;
use crate::roles::Class;
use crate::survey::{self, BoardEntry, EntryState, Now, Surveyed};
use crate::sync::Ordering;

impl Surveyed for Blackboard {
    /// Writers have slots; readers take none.
    fn roles(g: &Geometry) -> [(&'static str, Class); 2] {
        [
            ("writer", Class::of(Role::Producer, g.writers, 0)),
            ("reader", Class::of(Role::Consumer, g.writers, 0)),
        ]
    }

    fn geometry(g: &Geometry) -> survey::Geometry {
        survey::Geometry::of_entries(g.entries)
    }

    /// The fill is the number of entries set; an entry's value length and state are read
    /// without the sequence lock (a report, not a value).
    fn now(region: &Region<BoardHeader>, g: &Geometry) -> Now {
        let Some(table) = mapped_table(region, g) else {
            return Now::default();
        };
        let slots = region.slots();
        let mut entries = Vec::with_capacity(table.len());
        for (index, line) in table.iter().enumerate() {
            let e = &line.0;
            // Relaxed: a report.
            let seq = e.seq.load(Ordering::Relaxed);
            let state = match seq {
                0 => EntryState::Unset,
                s if s & 1 == 0 => EntryState::Set,
                _ if owner_alive(slots, g.writers, e.owner.load(Ordering::Relaxed), true) => {
                    EntryState::Writing
                }
                _ => EntryState::Abandoned,
            };
            entries.push(BoardEntry {
                index,
                key: key_of(e),
                max_size: e.max.load(Ordering::Relaxed),
                len: e.len.load(Ordering::Relaxed),
                version: version(seq),
                state,
            });
        }
        Now {
            fill: entries
                .iter()
                .filter(|e| e.state != EntryState::Unset)
                .count() as u64,
            max_message: entries.iter().map(|e| e.max_size).max(),
            entries,
            ..Now::default()
        }
    }
}
