//! The leader's step that turns a node's batch of task status reports into task writes.

use crate::manager::cluster_state::ClusterState;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{NodeId, Task, TaskId, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Most status reports one call carries (a call with more is refused). Worst case: as many
/// task writes, applied in transactions of [`MAX_STATUS_WRITES_PER_TXN`].
pub const MAX_STATUS_UPDATES_PER_CALL: usize = 256;

/// Most task writes in one store transaction: with tasks of a few KiB, well under the
/// store's 1 MiB and 256-operation transaction bounds.
pub const MAX_STATUS_WRITES_PER_TXN: usize = 64;

/// Why the leader refused one status report. The agent drops a refused report (sending it
/// again cannot succeed) and the leader logs it, naming the node and the task.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StatusRefusal {
    /// The task is assigned to another node, or to none.
    #[error("node {node} reported task {task}, which is not assigned to it")]
    NotAssigned {
        /// The reporting node.
        node: NodeId,
        /// The task.
        task: TaskId,
    },
    /// The task is not in the store (never created, or deleted meanwhile).
    #[error("node {node} reported task {task}, which does not exist")]
    UnknownTask {
        /// The reporting node.
        node: NodeId,
        /// The task.
        task: TaskId,
    },
    /// The reported state cannot follow the stored one ([`Task::update_status`]).
    #[error("node {node} reported task {task} {to}, which cannot follow {from}")]
    IllegalTransition {
        /// The reporting node.
        node: NodeId,
        /// The task.
        task: TaskId,
        /// The stored state.
        from: TaskState,
        /// The reported state.
        to: TaskState,
    },
}

impl StatusRefusal {
    /// The task the refused report was about.
    pub fn task(&self) -> &TaskId {
        match self {
            StatusRefusal::NotAssigned { task, .. }
            | StatusRefusal::UnknownTask { task, .. }
            | StatusRefusal::IllegalTransition { task, .. } => task,
        }
    }
}

/// What a batch of status reports comes to: the task writes (at most one per task, each with
/// the version it read) and the refused reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusBatch {
    /// One update per task whose status changed, in task id order.
    pub writes: Vec<ManagerWrite>,
    /// Reports refused, in the order received.
    pub refused: Vec<StatusRefusal>,
    /// Reports that repeat the stored status (a report sent again after a leader change).
    pub unchanged: usize,
}

/// Validates the reports of `node` against `state` and turns them into task writes, the
/// leader's side of `UpdateTaskStatus`:
///
/// * a node may report only tasks assigned to it;
/// * each report must be a legal move from the stored state ([`Task::update_status`]: forward
///   only, a refreshed message in the same state allowed), applied in order, so several
///   reports of one task make one write;
/// * a report equal to the stored status writes nothing.
///
/// `now` stamps `meta.updated_at` of the tasks written.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::dispatcher::status_writes;
/// use swarm_core::model::{Task, TaskSpec, TaskState, TaskStatus};
///
/// let now = SystemTime::now();
/// let mut task = Task::new("t1".into(), "web".into(), TaskSpec::default(), now);
/// task.node_id = Some("w1".into());
/// task.status.state = TaskState::Assigned;
/// let mut state = ClusterState::new();
/// state.put_task(task);
/// let running = TaskStatus::new(TaskState::Running, now, "started");
/// let batch = status_writes(&state, &"w1".into(), &[("t1".into(), running.clone())], now);
/// assert_eq!(batch.writes.len(), 1);
/// // Another node may not report it.
/// let batch = status_writes(&state, &"w2".into(), &[("t1".into(), running)], now);
/// assert_eq!(batch.refused[0].to_string(), "node w2 reported task t1, which is not assigned to it");
/// ```
pub fn status_writes(
    state: &ClusterState,
    node: &NodeId,
    updates: &[(TaskId, TaskStatus)],
    now: SystemTime,
) -> StatusBatch {
    let mut batch = StatusBatch::default();
    // Each task as read, and as changed by the reports so far.
    let mut changed: BTreeMap<TaskId, (&Task, Task)> = BTreeMap::new();
    for (id, status) in updates {
        let Some(stored) = state.task(id) else {
            batch.refused.push(StatusRefusal::UnknownTask {
                node: node.clone(),
                task: id.clone(),
            });
            continue;
        };
        if stored.node_id.as_ref() != Some(node) {
            batch.refused.push(StatusRefusal::NotAssigned {
                node: node.clone(),
                task: id.clone(),
            });
            continue;
        }
        let (_, task) = changed
            .entry(id.clone())
            .or_insert_with(|| (stored, stored.clone()));
        if task.status == *status {
            batch.unchanged += 1;
            continue;
        }
        let from = task.status.state;
        if task.update_status(status.clone()).is_err() {
            batch.refused.push(StatusRefusal::IllegalTransition {
                node: node.clone(),
                task: id.clone(),
                from,
                to: status.state,
            });
        }
    }
    for (_, (stored, mut task)) in changed {
        if task.status == stored.status {
            continue;
        }
        task.meta.updated_at = now;
        batch.writes.push(ManagerWrite::Task(ObjectWrite::Update {
            object: task,
            expected_version: stored.meta.version,
        }));
    }
    batch
}

#[cfg(test)]
#[path = "status_batch_tests.rs"]
mod tests;
