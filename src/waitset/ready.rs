//! Which members of a wait are ready: a set of indices.

/// The indices, in the slice handed to [`super::WaitSet::wait`], of the handles that are
/// ready. Empty when a wait ran out of time.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ready {
    /// A bit per handle.
    words: Vec<u64>,
    len: usize,
}

impl Ready {
    /// Empties the set, for `n` handles.
    pub(crate) fn reset(&mut self, n: usize) {
        self.words.clear();
        self.words.resize(n.div_ceil(64), 0);
        self.len = n;
    }

    /// Marks handle `i` ready.
    pub(crate) fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Whether handle `i` is ready (`false` past the end).
    pub fn contains(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Whether no handle is ready (the wait ran out of time).
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// How many handles are ready.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The indices of the ready handles, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.contains(i))
    }
}
