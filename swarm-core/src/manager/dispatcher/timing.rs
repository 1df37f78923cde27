//! Heartbeat timing: the period announced to agents (with jitter) and the grace before a node is
//! marked down.

use crate::model::DispatcherConfig;
use std::time::Duration;

/// The jitter on an announced period is `period / HEARTBEAT_JITTER_DIVISOR` either way: ±10 %,
/// SwarmKit's ratio (±500 ms on its 5 s period). It spreads the agents' heartbeats so that they
/// do not arrive in step, e.g. after a leader change.
pub const HEARTBEAT_JITTER_DIVISOR: u64 = 10;

/// After a leader change, nodes known from the store get this many times the normal grace to
/// reach the new leader before they are marked down (SwarmKit: 2).
pub const UNKNOWN_GRACE_FACTOR: u32 = 2;

/// The dispatcher's heartbeat timing, in milliseconds, from a [`DispatcherConfig`].
///
/// With `P` the period, `J = P / 10` the jitter and `M` the grace multiplier:
/// an announced period is in `[P − J, P + J]`; a node is down `M ×` its announced period after
/// its last heartbeat, so the worst-case detection is `M × (P + J)`
/// ([`HeartbeatTiming::worst_case_detection_ms`]) and an agent may be late by up to
/// `(M − 1) × (P − J)` without being marked down ([`HeartbeatTiming::stall_tolerance_ms`]).
/// After a leader change the grace is [`UNKNOWN_GRACE_FACTOR`] times longer.
///
/// ```
/// use swarm_core::manager::dispatcher::HeartbeatTiming;
/// use swarm_core::model::DispatcherConfig;
///
/// let timing = HeartbeatTiming::from_config(&DispatcherConfig::default());
/// assert_eq!(timing.worst_case_detection_ms(), 2_200);
/// assert_eq!(timing.stall_tolerance_ms(), 1_350);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatTiming {
    period_ms: u64,
    grace_multiplier: u32,
}

impl HeartbeatTiming {
    /// The timing of `config`. Values validation refuses are clamped so that the arithmetic
    /// stays defined: a period below 1 ms counts as 1 ms, a multiplier of 0 as 1.
    pub fn from_config(config: &DispatcherConfig) -> Self {
        HeartbeatTiming {
            period_ms: duration_ms(config.heartbeat_period).max(1),
            grace_multiplier: config.heartbeat_grace_multiplier.max(1),
        }
    }

    /// The nominal period `P`, in milliseconds.
    pub fn period_ms(&self) -> u64 {
        self.period_ms
    }

    /// The jitter `J = P / 10`, in milliseconds (0 for periods under 10 ms).
    pub fn jitter_ms(&self) -> u64 {
        self.period_ms / HEARTBEAT_JITTER_DIVISOR
    }

    /// The grace multiplier `M`.
    pub fn grace_multiplier(&self) -> u32 {
        self.grace_multiplier
    }

    /// A period to announce to an agent: uniform in `[P − J, P + J]`, chosen by `random` (a
    /// uniformly distributed value from the caller's seeded generator).
    pub fn choose_period_ms(&self, random: u64) -> u64 {
        let jitter = self.jitter_ms();
        // jitter ≤ u64::MAX / 10, so the span cannot overflow.
        let span = 2 * jitter + 1;
        (self.period_ms - jitter).saturating_add(random % span)
    }

    /// The grace after a heartbeat answered with `announced_period_ms`: `M ×` that period.
    pub fn grace_ms(&self, announced_period_ms: u64) -> u64 {
        announced_period_ms.saturating_mul(u64::from(self.grace_multiplier))
    }

    /// The grace of a node known from the store after a leader change:
    /// [`UNKNOWN_GRACE_FACTOR`] `× M ×` the period.
    pub fn unknown_grace_ms(&self, announced_period_ms: u64) -> u64 {
        self.grace_ms(announced_period_ms)
            .saturating_mul(u64::from(UNKNOWN_GRACE_FACTOR))
    }

    /// The longest time from a node's last heartbeat to its expiry: `M × (P + J)`.
    pub fn worst_case_detection_ms(&self) -> u64 {
        self.grace_ms(self.period_ms.saturating_add(self.jitter_ms()))
    }

    /// The longest an agent may be late after a heartbeat is due without being marked down, in
    /// the worst case of jitter: `(M − 1) × (P − J)`.
    pub fn stall_tolerance_ms(&self) -> u64 {
        (self.period_ms - self.jitter_ms()).saturating_mul(u64::from(self.grace_multiplier - 1))
    }
}

/// `d` in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Spreads the bits of `x` (splitmix64's finaliser): derives independent-looking values from one
/// random input, e.g. one per node.
pub(crate) fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(period_ms: u64, multiplier: u32) -> HeartbeatTiming {
        HeartbeatTiming::from_config(&DispatcherConfig {
            heartbeat_period: Duration::from_millis(period_ms),
            heartbeat_grace_multiplier: multiplier,
        })
    }

    #[test]
    fn defaults_meet_the_targets() {
        let t = HeartbeatTiming::from_config(&DispatcherConfig::default());
        assert_eq!(t.period_ms(), 500);
        assert_eq!(t.jitter_ms(), 50);
        assert_eq!(t.grace_multiplier(), 4);
        // Dead worker marked down within 3 s, with room for the loop and the write.
        assert_eq!(t.worst_case_detection_ms(), 2_200);
        assert!(t.worst_case_detection_ms() <= 3_000);
        // Two lost heartbeats and a third up to a period late are tolerated.
        assert_eq!(t.stall_tolerance_ms(), 1_350);
        assert!(t.stall_tolerance_ms() >= 2 * t.period_ms());
        assert_eq!(t.unknown_grace_ms(550), 4_400);
    }

    #[test]
    fn swarmkit_settings_give_swarmkit_figures() {
        let t = timing(5_000, 3);
        assert_eq!(t.jitter_ms(), 500);
        assert_eq!(t.worst_case_detection_ms(), 16_500);
        assert_eq!(t.grace_ms(5_000), 15_000);
        assert_eq!(t.unknown_grace_ms(5_000), 30_000);
    }

    #[test]
    fn jitter_stays_within_bounds_over_many_seeds() {
        for (period, multiplier) in [(500, 4), (1_000, 3), (5_000, 3), (10, 2), (7, 1), (1, 1)] {
            let t = timing(period, multiplier);
            let (lo, hi) = (period - period / 10, period + period / 10);
            let (mut min, mut max, mut sum) = (u64::MAX, 0, 0u128);
            let seeds = 100_000u64;
            for seed in 0..seeds {
                let p = t.choose_period_ms(mix64(seed));
                assert!((lo..=hi).contains(&p), "period {p} outside [{lo}, {hi}]");
                min = min.min(p);
                max = max.max(p);
                sum += u128::from(p);
            }
            // Both ends are reached and the mean is the nominal period (within 1 %).
            assert_eq!((min, max), (lo, hi));
            let mean = (sum / u128::from(seeds)) as u64;
            assert!(
                mean.abs_diff(period) <= period / 100 + 1,
                "mean {mean} for {period}"
            );
            // The extreme inputs stay in range too.
            for random in [0, 1, u64::MAX, u64::MAX - 1] {
                assert!((lo..=hi).contains(&t.choose_period_ms(random)));
            }
        }
    }

    #[test]
    fn invalid_values_are_clamped() {
        let t = timing(0, 0);
        assert_eq!(t.period_ms(), 1);
        assert_eq!(t.grace_multiplier(), 1);
        assert_eq!(t.choose_period_ms(12345), 1);
        assert_eq!(t.stall_tolerance_ms(), 0);
        let sub_ms = HeartbeatTiming::from_config(&DispatcherConfig {
            heartbeat_period: Duration::from_micros(999),
            heartbeat_grace_multiplier: 3,
        });
        assert_eq!(sub_ms.period_ms(), 1);
    }

    #[test]
    fn huge_values_saturate() {
        let t = HeartbeatTiming::from_config(&DispatcherConfig {
            heartbeat_period: Duration::MAX,
            heartbeat_grace_multiplier: u32::MAX,
        });
        assert_eq!(t.period_ms(), u64::MAX);
        assert_eq!(t.worst_case_detection_ms(), u64::MAX);
        assert_eq!(t.unknown_grace_ms(u64::MAX), u64::MAX);
        assert!(t.choose_period_ms(u64::MAX) >= u64::MAX - u64::MAX / 10);
        assert_eq!(t.stall_tolerance_ms(), u64::MAX);
    }

    #[test]
    fn mixing_spreads_neighbouring_inputs() {
        assert_ne!(mix64(0), mix64(1));
        assert_ne!(mix64(1) & 0xFF, mix64(2) & 0xFF);
        assert_eq!(mix64(42), mix64(42));
    }
}
