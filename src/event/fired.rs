//! What a wait of a listener reports: the ids that fired, each with how many times, and
//! the peers that left.

/// The two roles of an event segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Party {
    /// A [`super::Notifier`].
    Notifier,
    /// A [`super::Listener`].
    Listener,
}

impl core::fmt::Display for Party {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Party::Notifier => "notifier",
            Party::Listener => "listener",
        })
    }
}

/// A peer that left: the holder (or holders) of a role slot that went away since the
/// listener last looked, by a graceful detach (the handle dropped) or a crash (the kernel
/// released its lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Departure {
    /// Whether a notifier or a listener left.
    pub role: Party,
    /// Which slot of its role it held: 0 to the segment's number of notifiers (or
    /// listeners) minus one. The next handle of that role may take it again.
    pub slot: usize,
}

/// What one wait of a [`super::Listener`] found: the ids that fired since the wait
/// before, each once with the number of times it fired, and the peers that left.
///
/// Every notification is counted by exactly one wait. A wait does not keep the order of
/// notifications of different ids, and one taken while ids fire may count a notification
/// of one id and not yet an earlier one of another (the ids are read one after the
/// other): the next wait counts it. A graceful departure comes with, or after, every
/// notification that the peer made before it left.
///
/// A buffer that the listener keeps and lends to each wait: it allocates only while it
/// grows to the segment's number of ids (once, at attach) and departures.
///
/// ```
/// # let name = format!("doc-event-fired-{}", std::process::id());
/// use ipcring::event::{Listener, Notifier};
/// let mut rx = Listener::create(&name, 8)?;
/// let mut tx = Notifier::open(&name)?;
/// tx.notify(3)?;
/// tx.notify(3)?;
/// tx.notify(5)?;
/// let fired = rx.try_wait()?;
/// assert_eq!(fired.iter().collect::<Vec<_>>(), [(3, 2), (5, 1)]);
/// assert_eq!((fired.count(3), fired.count(4)), (2, 0));
/// assert!(fired.departures().is_empty());
/// # drop((rx, tx));
/// # ipcring::unlink(&name)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Fired {
    /// Per id: how many times it fired in this report (0: not in it).
    counts: Vec<u64>,
    /// The ids with a count, each once.
    ids: Vec<u32>,
    departures: Vec<Departure>,
}

impl Fired {
    /// A buffer for `ids` ids, empty.
    pub(crate) fn new(ids: usize) -> Fired {
        Fired {
            counts: vec![0; ids],
            ids: Vec::with_capacity(ids),
            departures: Vec::new(),
        }
    }

    /// Forgets the last report, keeping the memory.
    pub(crate) fn clear(&mut self) {
        for &id in &self.ids {
            self.counts[id as usize] = 0;
        }
        self.ids.clear();
        self.departures.clear();
    }

    /// Adds `n` (not 0) firings of `id` (below the number of ids).
    #[inline]
    pub(crate) fn add(&mut self, id: usize, n: u64) {
        let count = &mut self.counts[id];
        if *count == 0 {
            self.ids.push(id as u32);
        }
        // Saturating: a count that a scribbler made huge never comes back to 0, so an id
        // is listed once.
        *count = count.saturating_add(n);
    }

    /// Adds a departure.
    pub(crate) fn depart(&mut self, d: Departure) {
        self.departures.push(d);
    }

    /// Puts the ids in ascending order (before the report is lent out).
    pub(crate) fn sort(&mut self) {
        self.ids.sort_unstable();
    }

    /// Whether nothing fired and nobody left.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.departures.is_empty()
    }

    /// The ids that fired, in ascending order, each with how many times it fired (at
    /// least 1).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u32, u64)> + '_ {
        self.ids
            .iter()
            .map(move |&id| (id, self.counts[id as usize]))
    }

    /// How many times `id` fired (0 if it did not, or is no id of the segment).
    pub fn count(&self, id: u32) -> u64 {
        self.counts.get(id as usize).copied().unwrap_or(0)
    }

    /// How many notifications in all: the sum of the counts.
    pub fn total(&self) -> u64 {
        self.iter().fold(0, |sum, (_, n)| sum.saturating_add(n))
    }

    /// The peers that left, in the order the wait found them.
    pub fn departures(&self) -> &[Departure] {
        &self.departures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_id_and_clear_keeps_nothing() {
        let mut f = Fired::new(4);
        assert!(f.is_empty());
        f.add(2, 1);
        f.add(0, 3);
        f.add(2, 4);
        f.sort();
        assert_eq!(f.iter().collect::<Vec<_>>(), [(0, 3), (2, 5)]);
        assert_eq!((f.count(2), f.count(1), f.count(99)), (5, 0, 0));
        assert_eq!(f.total(), 8);
        f.clear();
        assert!(f.is_empty());
        assert_eq!(f.count(2), 0);
    }

    #[test]
    fn a_huge_count_saturates_and_lists_its_id_once() {
        let mut f = Fired::new(1);
        f.add(0, u64::MAX);
        f.add(0, u64::MAX);
        assert_eq!(f.iter().collect::<Vec<_>>(), [(0, u64::MAX)]);
    }
}
