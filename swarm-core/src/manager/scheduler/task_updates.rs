//! The task updates of one round.

use crate::manager::scheduler::ASSIGNED_MESSAGE;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{GenericResource, NodeId, Task, TaskState, TaskStatus};
use std::time::SystemTime;

/// The writes of one round, with what they decided.
pub(super) struct TaskUpdates {
    now: SystemTime,
    pub(super) writes: Vec<ManagerWrite>,
    pub(super) assigned: usize,
    pub(super) unplaced: usize,
}

impl TaskUpdates {
    /// No writes yet; they are stamped `now`.
    pub(super) fn new(now: SystemTime) -> TaskUpdates {
        TaskUpdates {
            now,
            writes: Vec::new(),
            assigned: 0,
            unplaced: 0,
        }
    }

    /// `task` assigned to `node`, holding its reservations and the named items `claims`
    /// (kind, item): the task as the write will store it (not recorded yet, see
    /// [`TaskUpdates::push_assigned`]).
    pub(super) fn assigned_task(
        &self,
        task: &Task,
        node: NodeId,
        claims: impl IntoIterator<Item = (String, String)>,
    ) -> Task {
        let mut resources = task.spec.resources.reservations.clone().unwrap_or_default();
        resources.generic.extend(
            claims
                .into_iter()
                .map(|(kind, value)| GenericResource::Named { kind, value }),
        );
        let mut assigned = task.clone();
        assigned.node_id = Some(node);
        assigned.assigned_resources = Some(resources);
        assigned.status = TaskStatus::new(TaskState::Assigned, self.now, ASSIGNED_MESSAGE);
        assigned.meta.updated_at = self.now;
        assigned
    }

    /// Records the write of `assigned` (from [`TaskUpdates::assigned_task`]), read at
    /// `read`'s version.
    pub(super) fn push_assigned(&mut self, read: &Task, assigned: Task) {
        self.assigned += 1;
        self.writes.push(ManagerWrite::Task(ObjectWrite::Update {
            object: assigned,
            expected_version: read.meta.version,
        }));
    }

    /// `task` stays pending because of `reason`; written only if its recorded reason differs.
    pub(super) fn leave_pending(&mut self, task: &Task, reason: &str) {
        self.unplaced += 1;
        if task.status.err.as_deref() == Some(reason) {
            return;
        }
        let mut pending = task.clone();
        pending.status.err = Some(reason.to_owned());
        pending.status.timestamp = self.now;
        pending.meta.updated_at = self.now;
        self.writes.push(ManagerWrite::Task(ObjectWrite::Update {
            object: pending,
            expected_version: task.meta.version,
        }));
    }
}
