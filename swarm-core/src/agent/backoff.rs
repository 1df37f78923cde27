//! Bounded exponential backoff with full jitter (SwarmKit's agent session backoff).

/// The wait before the next attempt after failures in a row.
///
/// After the `n`-th failure the bound is `b(n) = min(initial + 2 × b(n − 1), max)` with
/// `b(0) = 0` (SwarmKit's rule: 100 ms, 300 ms, 700 ms, 1.5 s, … up to `max`), and the wait is
/// uniform in `[0, b(n))` ("full jitter", so agents that lost the same manager do not come back
/// in step). A success resets it.
///
/// ```
/// use swarm_core::agent::Backoff;
///
/// let mut b = Backoff::new(100, 2_000);
/// assert!(b.next_delay_ms(7) < 100);
/// assert!(b.next_delay_ms(7) < 300);
/// assert_eq!(b.bound_ms(), 300);
/// b.reset();
/// assert_eq!(b.bound_ms(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial_ms: u64,
    max_ms: u64,
    bound_ms: u64,
}

impl Backoff {
    /// A backoff growing from `initial_ms` to at most `max_ms` (`max_ms` is raised to
    /// `initial_ms` if smaller).
    pub fn new(initial_ms: u64, max_ms: u64) -> Self {
        Backoff {
            initial_ms,
            max_ms: max_ms.max(initial_ms),
            bound_ms: 0,
        }
    }

    /// Counts one more failure and returns the wait before the next attempt, chosen by
    /// `random`: in `[0, bound)` with the new bound, `0` when the bound is `0`.
    pub fn next_delay_ms(&mut self, random: u64) -> u64 {
        self.bound_ms = self
            .initial_ms
            .saturating_add(self.bound_ms.saturating_mul(2))
            .min(self.max_ms);
        if self.bound_ms == 0 {
            0
        } else {
            random % self.bound_ms
        }
    }

    /// The current bound (exclusive) of the wait.
    pub fn bound_ms(&self) -> u64 {
        self.bound_ms
    }

    /// Forgets the failures (after a success).
    pub fn reset(&mut self) {
        self.bound_ms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::dispatcher::mix64;

    #[test]
    fn bounds_follow_swarmkits_rule_and_stop_at_the_maximum() {
        let mut b = Backoff::new(100, 8_000);
        let mut bounds = Vec::new();
        for _ in 0..9 {
            b.next_delay_ms(0);
            bounds.push(b.bound_ms());
        }
        assert_eq!(
            bounds,
            [100, 300, 700, 1_500, 3_100, 6_300, 8_000, 8_000, 8_000]
        );
    }

    #[test]
    fn delays_stay_below_the_bound_over_many_seeds() {
        for seed in 0..2_000u64 {
            let mut b = Backoff::new(100, 2_000);
            let mut previous_bound = 0;
            for step in 0..12u64 {
                let delay = b.next_delay_ms(mix64(seed * 31 + step));
                assert!(delay < b.bound_ms(), "delay {delay} bound {}", b.bound_ms());
                assert!(b.bound_ms() <= 2_000);
                assert!(b.bound_ms() >= previous_bound);
                previous_bound = b.bound_ms();
            }
            assert_eq!(b.bound_ms(), 2_000);
        }
        // The whole range is used.
        let delays: Vec<u64> = (0..5_000u64)
            .map(|s| Backoff::new(100, 2_000).next_delay_ms(mix64(s)))
            .collect();
        assert_eq!(delays.iter().min(), Some(&0));
        assert_eq!(delays.iter().max(), Some(&99));
    }

    #[test]
    fn degenerate_settings_are_safe() {
        let mut zero = Backoff::new(0, 0);
        assert_eq!(zero.next_delay_ms(u64::MAX), 0);
        assert_eq!(zero.bound_ms(), 0);
        let mut inverted = Backoff::new(500, 10);
        assert!(inverted.next_delay_ms(3) < 500);
        assert_eq!(inverted.bound_ms(), 500);
        let mut huge = Backoff::new(u64::MAX, u64::MAX);
        huge.next_delay_ms(1);
        huge.next_delay_ms(1);
        assert_eq!(huge.bound_ms(), u64::MAX);
    }

    #[test]
    fn reset_starts_again_from_the_initial_bound() {
        let mut b = Backoff::new(100, 2_000);
        for _ in 0..5 {
            b.next_delay_ms(1);
        }
        b.reset();
        b.next_delay_ms(1);
        assert_eq!(b.bound_ms(), 100);
    }
}
