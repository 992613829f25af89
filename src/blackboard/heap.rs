//! Blackboards on the heap, in one process: for tests, loom models and sanitizers.

use super::board::{geometry, heap_table, init, Board, NewEntry};
use super::layout::{Blackboard, Entry};
use super::{Reader, Writer};
use crate::error::OpenError;
use crate::layout::Line;
use crate::region::Heap;
use crate::wait::WaitStrategy;
use std::sync::Arc;

/// One board on the heap, in this process: for tests, loom models and sanitizers (which
/// cannot follow shared memory). Handles attach to it as to a named board. Clones share
/// the board.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct HeapBoard {
    heap: Heap<Blackboard>,
    table: Arc<[Line<Entry>]>,
}

impl HeapBoard {
    /// A fresh board of `entries` entries without keys, of up to `max_size` bytes each,
    /// with `writers` writer slots.
    ///
    /// # Panics
    /// If the geometry is not valid (see [`super::Builder`]).
    pub fn new(entries: usize, max_size: usize, writers: usize) -> HeapBoard {
        let entry = NewEntry {
            key: String::new(),
            max: max_size,
        };
        let entries = vec![entry; entries];
        let geo = geometry(&entries, writers).expect("a valid geometry");
        let table = heap_table(&geo);
        init(&table, &entries);
        HeapBoard {
            heap: Heap::new(geo, |_| {}),
            table,
        }
    }

    fn board(&self) -> Result<Board, OpenError> {
        let table = Some(self.table.clone());
        Board::new(self.heap.region(), self.heap.geo, table, None)
    }

    /// Attaches a writer.
    ///
    /// # Errors
    /// `RoleTaken` while every writer slot is held.
    pub fn writer(&self, strategy: WaitStrategy) -> Result<Writer, OpenError> {
        Writer::attach(self.board()?, strategy)
    }

    /// Attaches a reader.
    ///
    /// # Errors
    /// None in practice (the board's table is valid).
    pub fn reader(&self, strategy: WaitStrategy) -> Result<Reader, OpenError> {
        Ok(Reader::new(self.board()?, strategy))
    }
}
