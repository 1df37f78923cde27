//! The tasks a round places: pending, desired ready, running or complete.

use crate::manager::cluster_state::ClusterState;
use crate::model::{Task, TaskState};

/// Whether the scheduler places `task`: in `pending`, and asked to run (or to run to
/// completion, for a job), or to be prepared to (a stop-first update's new task is desired
/// `ready` until the old one stopped; SwarmKit places every pending task desired at most
/// `complete`).
pub(super) fn wants_node(task: &Task) -> bool {
    task.status.state == TaskState::Pending
        && matches!(
            task.desired_state,
            TaskState::Ready | TaskState::Running | TaskState::Complete
        )
}

/// The tasks of one round, in task id order, at most `limit` in all.
pub(super) struct PendingTasks<'a> {
    /// Tasks whose node is preset (global services).
    pub(super) preset: Vec<&'a Task>,
    /// Tasks without a node.
    pub(super) unassigned: Vec<&'a Task>,
    /// Pending tasks past the limit, left for the next round.
    pub(super) deferred: usize,
}

impl<'a> PendingTasks<'a> {
    /// The pending tasks of `state`: those with a preset node first, then the others, up to
    /// `limit` in all.
    pub(super) fn collect(state: &'a ClusterState, limit: usize) -> PendingTasks<'a> {
        let (preset, unassigned): (Vec<&Task>, Vec<&Task>) = state
            .tasks()
            .values()
            .filter(|t| wants_node(t))
            .partition(|t| t.node_id.is_some());
        let mut pending = PendingTasks {
            deferred: (preset.len() + unassigned.len()).saturating_sub(limit),
            preset,
            unassigned,
        };
        pending.preset.truncate(limit);
        pending
            .unassigned
            .truncate(limit.saturating_sub(pending.preset.len()));
        pending
    }
}
