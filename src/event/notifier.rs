//! The firing side of an event segment.

use super::shared::Events;
use super::stats::Stats;
use crate::claims::bump;

/// Why a notification was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The id is not one of the segment's: they are 0 to `ids - 1`. Nothing was sent.
    #[error("event id {id} does not exist: this segment has {ids} ids, 0 to {}", ids - 1)]
    UnknownId {
        /// The id asked for.
        id: u32,
        /// How many ids the segment has.
        ids: usize,
    },
}

/// A firing handle of an event segment. Any number of notifiers (up to the segment's
/// notifier slots) fire at once, from any processes; every listener sees every
/// notification. `Send`, not `Sync`.
///
/// A notification costs two atomic additions in shared memory, and a wake-up syscall only
/// when a listener announced that it sleeps.
///
/// ```
/// # let name = format!("doc-event-notifier-{}", std::process::id());
/// use ipcring::event::{Listener, Notifier, NotifyError};
/// let mut tx = Notifier::create(&name, 4)?;    // ids 0 to 3
/// let mut rx = Listener::open(&name)?;
/// tx.notify(2)?;
/// assert_eq!(tx.notify(4), Err(NotifyError::UnknownId { id: 4, ids: 4 }));
/// assert_eq!(rx.wait()?.count(2), 1);
/// # drop((rx, tx));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Notifier {
    ev: Events,
}

impl Notifier {
    pub(crate) fn attach(ev: Events) -> Notifier {
        Notifier { ev }
    }

    /// Number of event ids of the segment: ids are 0 to this minus one.
    pub fn ids(&self) -> usize {
        self.ev.geo.ids
    }

    /// Counters of the segment, read from shared memory.
    pub fn stats(&self) -> Stats {
        Stats::read(&self.ev)
    }

    /// Fires `id`: every listener's next wait reports it (with the number of times it
    /// fired since that listener's wait before). Never waits. What this thread wrote before
    /// is visible to a listener once it saw `id` fire.
    ///
    /// # Errors
    /// `UnknownId` if `id` is not below [`Notifier::ids`].
    #[inline]
    pub fn notify(&mut self, id: u32) -> Result<(), NotifyError> {
        let ids = self.ev.geo.ids;
        if id as usize >= ids {
            return Err(NotifyError::UnknownId { id, ids });
        }
        self.ev.fire(id as usize);
        bump(&self.ev.own().sent);
        Ok(())
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.ev.detach();
    }
}
