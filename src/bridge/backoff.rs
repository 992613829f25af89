//! How long a bridge waits before it tries again what failed: doubling from a first delay
//! up to a ceiling, and back to the first once something succeeds.

use std::time::Duration;

/// The first wait after a success.
const FIRST: Duration = Duration::from_millis(100);
/// The longest wait.
const CEILING: Duration = Duration::from_secs(5);

/// Delays between attempts.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The wait before the next attempt; the one after is twice as long, up to the ceiling.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let now = self.next;
        self.next = (now * 2).min(CEILING);
        now
    }

    /// Something succeeded: the next failure waits the first delay again.
    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::{Backoff, CEILING, FIRST};

    #[test]
    fn delays_double_up_to_the_ceiling_and_stay_there() {
        let mut b = Backoff::default();
        let delays: Vec<_> = (0..10).map(|_| b.next_delay()).collect();
        assert_eq!(delays[0], FIRST);
        assert_eq!(delays[1], FIRST * 2);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*delays.last().unwrap(), CEILING);
    }

    #[test]
    fn a_success_starts_over() {
        let mut b = Backoff::default();
        for _ in 0..5 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.next_delay(), FIRST);
    }
}
