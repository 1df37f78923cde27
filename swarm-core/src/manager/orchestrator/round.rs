//! What an orchestration step returns: its writes and when to run again.

use crate::manager::writes::ManagerWrite;
use std::time::SystemTime;

/// Most store writes one orchestration round returns (task creates, updates and deletes,
/// and the job status of job services).
///
/// Worst case: 10,000 task documents of a few KiB each, some tens of MiB to hand to the
/// store. The loop commits them in transactions within the store's own limits
/// (`swarm_store::MAX_TXN_OPS` writes and `swarm_store::MAX_TXN_BYTES` per transaction):
/// every write of a round stands alone (a slot that lost its task but did not get its
/// replacement yet is filled by the next round), so splitting a round is safe. A larger
/// change (a 100,000-replica create, a scale-down to zero) takes several rounds; the loop
/// calls [`orchestrate`](super::orchestrate) again while a round wrote something.
pub const MAX_TASK_WRITES_PER_ROUND: usize = 10_000;

/// The outcome of an orchestration step or of a whole round.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrchestrationRound {
    /// The store writes, at most one per object.
    pub writes: Vec<ManagerWrite>,
    /// The earliest time a step waits for (a restart delay); `None` when nothing waits.
    pub next_wake: Option<SystemTime>,
}

impl OrchestrationRound {
    /// Whether the round has nothing to write and nothing to wait for.
    pub fn is_idle(&self) -> bool {
        self.writes.is_empty() && self.next_wake.is_none()
    }

    /// Records that a step waits until `at` (keeps the earliest time).
    pub(crate) fn wake_at(&mut self, at: SystemTime) {
        self.next_wake = Some(self.next_wake.map_or(at, |t| t.min(at)));
    }

    /// Whether `max_writes` writes are reached.
    pub(crate) fn full(&self, max_writes: usize) -> bool {
        self.writes.len() >= max_writes
    }

    /// Adds `write` if the bound allows; returns whether it was added.
    pub(crate) fn push(&mut self, write: ManagerWrite, max_writes: usize) -> bool {
        if self.full(max_writes) {
            return false;
        }
        self.writes.push(write);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wake_keeps_the_earliest_time_and_push_respects_the_bound() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let mut round = OrchestrationRound::default();
        assert!(round.is_idle());
        round.wake_at(t + Duration::from_secs(5));
        round.wake_at(t);
        round.wake_at(t + Duration::from_secs(9));
        assert_eq!(round.next_wake, Some(t));
        assert!(!round.is_idle());
        let write = ManagerWrite::DeleteRootCa {
            cluster: "c".into(),
            slot: crate::manager::state::RootCaSlot::Rotation,
        };
        assert!(round.push(write.clone(), 1));
        assert!(!round.push(write, 1));
        assert_eq!(round.writes.len(), 1);
    }
}
