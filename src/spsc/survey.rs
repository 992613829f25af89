//! What a survey reports of an SPSC ring: the consumer's positions, and the records
//! between them and the producer, walked header by header.

use super::layout::{Geometry, Spsc, SpscHeader, CONSUMERS, PRODUCERS};
use super::record::{self, Header};
use crate::region::Region;
use crate::roles::Class;
use crate::survey::{self, Now, Position, Surveyed, Unit};
use crate::sync::Ordering;

impl Surveyed for Spsc {
    fn roles(_: &Geometry) -> [(&'static str, Class); 2] {
        [("producer", PRODUCERS), ("consumer", CONSUMERS)]
    }

    fn geometry(g: &Geometry) -> survey::Geometry {
        survey::Geometry {
            capacity: g.capacity as u64,
            unit: Unit::Bytes,
            slot_size: None,
            max_message: g.max_message as u64,
            lossy: None,
            max_lag: None,
            stall_timeout: None,
        }
    }

    /// The producer publishes no position: the records after the consumer's are walked
    /// (each header read once, as the consumer would) until the first one not committed.
    fn now(region: &Region<SpscHeader>, g: &Geometry) -> Now {
        // Relaxed: a report; both are bounds of the walk below, checked against each other.
        let published = region.header().read.0.pos.load(Ordering::Relaxed);
        let released = region
            .slots()
            .get(CONSUMERS.first)
            .counters
            .0
            .mark
            .load(Ordering::Relaxed);
        let cap = g.capacity as u64;
        // The consumer releases at or after what it published, by less than a lap.
        let start = if released.wrapping_sub(published) <= cap {
            released
        } else {
            published
        };
        let data = region.data();
        let mask = g.capacity - 1;
        let (mut pos, mut messages) = (start, 0);
        // Positions of records are multiples of 8: a peer's scribbles can end the walk, not
        // misalign it.
        while pos.wrapping_sub(start) < cap && pos % 8 == 0 {
            // Acquire: a committed header's record is complete (as the consumer's load).
            let w = data.word(pos as usize & mask).load(Ordering::Acquire);
            let size = match record::decode(w, pos) {
                Header::Data(len) => {
                    messages += 1;
                    record::size(len)
                }
                Header::Pad(len) => record::HEADER + len,
                Header::Empty | Header::Corrupt => break,
            };
            pos = pos.wrapping_add(size as u64);
        }
        Now {
            positions: vec![
                Position {
                    name: "published",
                    value: published,
                },
                Position {
                    name: "released",
                    value: released,
                },
                Position {
                    name: "written",
                    value: pos,
                },
            ],
            fill: pos.wrapping_sub(start).min(cap),
            messages,
            ..Now::default()
        }
    }
}
