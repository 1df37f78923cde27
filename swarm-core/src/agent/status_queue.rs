//! The agent's task status reports waiting to reach the leader, coalesced per task.

use crate::manager::dispatcher::{MAX_ASSIGNED_TASKS, MAX_STATUS_UPDATES_PER_CALL};
use crate::model::{TaskId, TaskStatus};
use std::collections::BTreeMap;

/// Most tasks with a report waiting. Reports are coalesced per task, so this is reached only
/// with more tasks than an assignment set holds plus those being removed; a report for one
/// more task is then refused (and logged by the caller). Worst case: this many statuses.
pub const MAX_PENDING_STATUSES: usize = 2 * MAX_ASSIGNED_TASKS;

/// A task's latest status, with the sequence number that tells a newer one apart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    seq: u64,
    status: TaskStatus,
}

/// A batch of reports taken from a [`StatusQueue`], to send in one call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusSend {
    /// The reports, oldest first.
    pub updates: Vec<(TaskId, TaskStatus)>,
    seqs: Vec<u64>,
}

/// Reports waiting to be sent: the latest status per task (an agent may skip states; the
/// latest one says all), in the order they were made.
///
/// A batch stays queued until the leader acknowledged it ([`StatusQueue::acknowledge`]), so a
/// call lost in a leader change is sent again to the next leader; a report made while a batch
/// was in flight replaces the one sent and stays queued.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::agent::StatusQueue;
/// use swarm_core::model::{TaskState, TaskStatus};
///
/// let now = SystemTime::now();
/// let mut q = StatusQueue::new();
/// q.push("t1".into(), TaskStatus::new(TaskState::Accepted, now, "accepted"));
/// q.push("t1".into(), TaskStatus::new(TaskState::Running, now, "started"));
/// let batch = q.next_batch(10);
/// assert_eq!(batch.updates.len(), 1);
/// assert_eq!(batch.updates[0].1.state, TaskState::Running);
/// q.acknowledge(&batch);
/// assert!(q.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct StatusQueue {
    pending: BTreeMap<TaskId, Pending>,
    next_seq: u64,
}

impl StatusQueue {
    /// An empty queue.
    pub fn new() -> StatusQueue {
        StatusQueue::default()
    }

    /// Queues `status` for `task`, replacing a waiting one unless it is of a later state.
    /// Returns `false`, queueing nothing, when [`MAX_PENDING_STATUSES`] other tasks wait.
    pub fn push(&mut self, task: TaskId, status: TaskStatus) -> bool {
        if let Some(waiting) = self.pending.get(&task) {
            if status.state < waiting.status.state {
                return true;
            }
        } else if self.pending.len() >= MAX_PENDING_STATUSES {
            return false;
        }
        self.next_seq += 1;
        self.pending.insert(
            task,
            Pending {
                seq: self.next_seq,
                status,
            },
        );
        true
    }

    /// The oldest reports, at most `max` (and at most [`MAX_STATUS_UPDATES_PER_CALL`]); they
    /// stay queued until acknowledged.
    pub fn next_batch(&self, max: usize) -> StatusSend {
        let mut waiting: Vec<(&TaskId, &Pending)> = self.pending.iter().collect();
        waiting.sort_by_key(|(_, p)| p.seq);
        waiting.truncate(max.min(MAX_STATUS_UPDATES_PER_CALL));
        StatusSend {
            updates: waiting
                .iter()
                .map(|(id, p)| ((*id).clone(), p.status.clone()))
                .collect(),
            seqs: waiting.iter().map(|(_, p)| p.seq).collect(),
        }
    }

    /// The leader took `sent` (applied or refused each report): drops the reports that were
    /// not replaced meanwhile.
    pub fn acknowledge(&mut self, sent: &StatusSend) {
        for ((task, _), seq) in sent.updates.iter().zip(&sent.seqs) {
            if self.pending.get(task).is_some_and(|p| p.seq == *seq) {
                self.pending.remove(task);
            }
        }
    }

    /// Whether no report waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// How many tasks have a report waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskState;
    use std::time::SystemTime;

    fn status(state: TaskState) -> TaskStatus {
        TaskStatus::new(state, SystemTime::UNIX_EPOCH, state.as_str())
    }

    #[test]
    fn reports_are_coalesced_per_task_and_sent_oldest_first() {
        let mut q = StatusQueue::new();
        q.push("t2".into(), status(TaskState::Accepted));
        q.push("t1".into(), status(TaskState::Accepted));
        q.push("t2".into(), status(TaskState::Running));
        // A late, older state does not replace a newer one.
        q.push("t2".into(), status(TaskState::Starting));
        let batch = q.next_batch(10);
        let sent: Vec<(&str, TaskState)> = batch
            .updates
            .iter()
            .map(|(t, s)| (t.as_str(), s.state))
            .collect();
        assert_eq!(
            sent,
            [("t1", TaskState::Accepted), ("t2", TaskState::Running)]
        );
        assert_eq!(q.next_batch(1).updates.len(), 1);
    }

    #[test]
    fn an_unacknowledged_batch_is_sent_again_and_a_newer_report_survives_the_ack() {
        let mut q = StatusQueue::new();
        q.push("t1".into(), status(TaskState::Running));
        q.push("t2".into(), status(TaskState::Running));
        let lost = q.next_batch(10);
        // The call failed (a leader change): the same reports go out again.
        assert_eq!(q.next_batch(10), lost);
        // While the second attempt is in flight, t1 completes.
        let second = q.next_batch(10);
        q.push("t1".into(), status(TaskState::Complete));
        q.acknowledge(&second);
        let left = q.next_batch(10);
        assert_eq!(left.updates.len(), 1);
        assert_eq!(left.updates[0].1.state, TaskState::Complete);
        q.acknowledge(&left);
        assert!(q.is_empty());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut q = StatusQueue::new();
        for i in 0..MAX_PENDING_STATUSES {
            assert!(q.push(format!("t{i}").into(), status(TaskState::Running)));
        }
        assert!(!q.push("one-more".into(), status(TaskState::Running)));
        // A task already waiting still gets its newer report.
        assert!(q.push("t0".into(), status(TaskState::Complete)));
        assert_eq!(q.len(), MAX_PENDING_STATUSES);
        assert_eq!(
            q.next_batch(usize::MAX).updates.len(),
            MAX_STATUS_UPDATES_PER_CALL
        );
    }
}
