//! A blackboard: a fixed set of entries, each holding the newest value that a writer set,
//! for processes that share state ("the current price, configuration, position") rather
//! than pass messages.
//!
//! Entries are fixed at create (up to 4096), each with its largest value size and an
//! optional key. Writers (one slot by default, up to 64) set values; any number of readers
//! get them, without a role slot and without ever making a writer wait. A read returns the
//! newest value that was set whole, never a torn one: each entry is a sequence lock (see
//! `seqlock.rs`) whose reads retry when a write overlapped them. Each entry has a version
//! (how many times it was set) and a futex that readers sleep on to wait for a change
//! ([`Reader::wait_changed`], or a [`crate::WaitSet`] member made by [`Reader::change`]);
//! the writer makes a wake-up syscall only when a reader sleeps.
//!
//! Crashes: a writer that dies between two writes leaves every value whole. One that dies
//! in the middle of setting an entry leaves that entry *abandoned* (its sequence odd, its
//! owner dead): readers report it as [`GetError::Abandoned`], never wait for it for good,
//! and the entry is whole again once a writer sets it. A live writer whose
//! [`Writer::set_with`] closure panics leaves its entry abandoned the same way.
//!
//! ```
//! # let name = format!("doc-board-{}", std::process::id());
//! use ipcring::blackboard::{Reader, Writer};
//! let mut w = Writer::create(&name, 4, 64)?;  // 4 entries of up to 64 bytes
//! let mut r = Reader::open(&name)?;
//! let v = w.set(2, b"price=101.5")?;
//! let mut buf = Vec::new();
//! assert_eq!(r.get_into(2, &mut buf)?, v);
//! assert_eq!(buf, b"price=101.5");
//! # drop((w, r));
//! # ipcring::unlink(&name)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// What every handle of a board tells of its entries (from its private copies).
macro_rules! entries {
    ($handle:ty) => {
        impl $handle {
            /// The index of the entry whose key is `key`.
            pub fn key(&self, key: &str) -> Option<usize> {
                self.board.index_of(key)
            }

            /// The keys of the entries, in index order (empty for an entry created
            /// without one).
            pub fn keys(&self) -> &[String] {
                self.board.keys()
            }

            /// How many entries the board has.
            pub fn entries(&self) -> usize {
                self.board.geo.entries
            }

            /// Largest value of entry `key`, in bytes.
            pub fn max_size(&self, key: usize) -> Option<usize> {
                self.board.max(key)
            }

            /// The board's counters (see [`crate::blackboard::Stats`]).
            pub fn stats(&self) -> $crate::blackboard::Stats {
                $crate::blackboard::Stats::read(&self.board)
            }
        }
    };
}
use entries;

mod board;
mod builder;
mod error;
mod heap;
mod layout;
mod reader;
mod seqlock;
mod stats;
mod survey;
mod writer;

pub use builder::{Builder, Shape};
pub use error::{GetError, SetError};
pub use heap::HeapBoard;
pub(crate) use layout::Blackboard;
pub use layout::{MAX_ENTRIES, MAX_KEY_LEN, MAX_VALUE_SIZE};
pub use reader::{Change, Reader};
pub use stats::Stats;
pub use writer::Writer;
