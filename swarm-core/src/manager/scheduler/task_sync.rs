//! Charging to their nodes the tasks that hold resources, and releasing the others.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::SchedulerProblem;
use crate::manager::scheduler::engine_mirror::EngineMirror;
use crate::model::{ServiceId, Task, TaskId, TaskState};
use std::collections::HashSet;

/// Whether `task` holds resources on its node: assigned there and not ended (`assigned` up
/// to `running`, whatever its desired state: a task asked to stop holds them until it has).
pub(super) fn holds_resources(task: &Task) -> bool {
    task.node_id.is_some()
        && task.status.state >= TaskState::Assigned
        && task.status.state <= TaskState::Running
}

impl EngineMirror {
    /// Charges every task that holds resources on a node the engine holds, and releases
    /// every other task it charged. A task unchanged since it was told (same version, same
    /// service ports) costs one lookup.
    pub(super) fn sync_tasks(
        &mut self,
        state: &ClusterState,
        ports_changed: &HashSet<ServiceId>,
        problems: &mut Vec<SchedulerProblem>,
    ) {
        let mut seen = 0;
        for task in state.tasks().values() {
            let on_known_node = task.node_id.as_ref().is_some_and(|n| self.knows_node(n));
            if !(on_known_node && holds_resources(task)) {
                self.release(&task.id);
                continue;
            }
            let version = Some(task.meta.version);
            if let Some(told) = self.tasks.get(&task.id) {
                if told.version == version
                    && (ports_changed.is_empty() || !ports_changed.contains(&task.service_id))
                {
                    seen += 1;
                    continue;
                }
            }
            let placed = match self.placed_of(task) {
                Ok(placed) => placed,
                Err(source) => {
                    self.release(&task.id);
                    problems.push(SchedulerProblem::TaskNotConverted {
                        task: task.id.clone(),
                        source,
                    });
                    continue;
                }
            };
            if let Some(told) = self.tasks.get_mut(&task.id) {
                if told.placed == placed {
                    told.version = version;
                    seen += 1;
                    continue;
                }
                self.release(&task.id);
            }
            match self.tell(placed, version) {
                Ok(()) => seen += 1,
                Err(source) => problems.push(SchedulerProblem::TaskRefused {
                    task: task.id.clone(),
                    source,
                }),
            }
        }
        if seen < self.tasks.len() {
            let gone: Vec<TaskId> = self
                .tasks
                .keys()
                .filter(|id| state.task(id).is_none())
                .cloned()
                .collect();
            for id in &gone {
                self.release(id);
            }
        }
    }
}
