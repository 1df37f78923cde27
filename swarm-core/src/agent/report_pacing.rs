//! [`ReportPacing`]: when the agent's reporter sends the task status reports it holds.

use std::time::{Duration, Instant};

/// After the first report of a quiet spell, the reporter waits this long before sending, so
/// that the reports made together (the tasks of one assignment set starting) go in one call.
pub const STATUS_COALESCE: Duration = Duration::from_millis(5);

/// Two batches of reports are sent at least this far apart (from the start of one call to the
/// start of the next): worst case, an agent makes one status call per interval however many
/// tasks change, and a report made just after a call waits this long. Reports made while a
/// call is in flight go in the next call.
pub const STATUS_FLUSH_INTERVAL: Duration = Duration::from_millis(25);

/// When the reporter sends its next batch: [`STATUS_COALESCE`] after the first report of a
/// quiet spell, so a task's state reaches the leader at once (a rolling update's next slot
/// waits for it), and never sooner than [`STATUS_FLUSH_INTERVAL`] after the previous batch.
///
/// ```
/// use std::time::{Duration, Instant};
/// use swarm_core::agent::{ReportPacing, STATUS_COALESCE, STATUS_FLUSH_INTERVAL};
///
/// let mut pacing = ReportPacing::new();
/// let t0 = Instant::now();
/// assert_eq!(pacing.wait(t0), STATUS_COALESCE);
/// pacing.sent(t0);
/// assert_eq!(pacing.wait(t0 + Duration::from_millis(5)), STATUS_FLUSH_INTERVAL - Duration::from_millis(5));
/// assert_eq!(pacing.wait(t0 + Duration::from_secs(1)), STATUS_COALESCE);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportPacing {
    last_sent: Option<Instant>,
}

impl ReportPacing {
    /// Pacing with no batch sent yet.
    pub fn new() -> ReportPacing {
        ReportPacing::default()
    }

    /// How long the reporter waits, from `now` (reports are queued), before it sends them.
    pub fn wait(&self, now: Instant) -> Duration {
        let gap = self
            .last_sent
            .map(|at| (at + STATUS_FLUSH_INTERVAL).saturating_duration_since(now))
            .unwrap_or_default();
        gap.max(STATUS_COALESCE)
    }

    /// A batch was sent at `at`.
    pub fn sent(&mut self, at: Instant) {
        self.last_sent = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_report_of_a_quiet_spell_goes_after_the_coalescing_wait_only() {
        let pacing = ReportPacing::new();
        let now = Instant::now();
        assert_eq!(pacing.wait(now), STATUS_COALESCE);
        let mut pacing = pacing;
        pacing.sent(now);
        let later = now + STATUS_FLUSH_INTERVAL + Duration::from_millis(1);
        assert_eq!(pacing.wait(later), STATUS_COALESCE);
    }

    #[test]
    fn batches_are_at_least_the_flush_interval_apart() {
        let mut pacing = ReportPacing::new();
        let t0 = Instant::now();
        pacing.sent(t0);
        assert_eq!(pacing.wait(t0), STATUS_FLUSH_INTERVAL);
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(
            pacing.wait(t1),
            STATUS_FLUSH_INTERVAL - Duration::from_millis(10)
        );
        // Never less than the coalescing wait, even right at the end of the interval.
        let t2 = t0 + STATUS_FLUSH_INTERVAL - Duration::from_millis(1);
        assert_eq!(pacing.wait(t2), STATUS_COALESCE);
    }

    #[test]
    fn a_report_waits_far_less_than_a_heartbeat() {
        // The leader learns of a stopped or started task well within the wait a rolling
        // update's next slot has for it: never more than one flush interval.
        let mut pacing = ReportPacing::new();
        let t0 = Instant::now();
        pacing.sent(t0);
        for ms in 0..100 {
            assert!(pacing.wait(t0 + Duration::from_millis(ms)) <= STATUS_FLUSH_INTERVAL);
        }
    }
}
