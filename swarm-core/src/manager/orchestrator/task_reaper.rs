//! Deletes tasks that are no longer needed (SwarmKit's task reaper).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::restart_rules::tasks_kept;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{is_live, tasks_by_slot};
use crate::manager::orchestrator::task_writes::delete;
use crate::model::{DEFAULT_TASK_HISTORY_RETENTION_LIMIT, NodeState, Task, TaskId, TaskState};
use std::collections::BTreeSet;

/// Deletes, at most `max_writes` tasks:
///
/// * every task with desired state `remove` (deleted service, dropped slot, earlier job
///   iteration) once it no longer runs;
/// * history: in every slot (global modes: every node) of a service, the oldest tasks that
///   no longer run and are not live, while the slot holds more than the cluster's
///   `task_history_retention_limit` tasks (SwarmKit's default 5 without a cluster object).
///   The limit counts every task of the slot, the live one included, and is raised to
///   `max_attempts + 1` when the restart policy limits attempts (the restart supervisor
///   counts attempts from this history). The newest task of a slot is never deleted, so a
///   limit of 0 keeps one.
///
/// A task no longer runs when it ended, was never assigned (state before `assigned`), or its
/// node is deleted or down (no agent will report it ended).
pub fn reap_tasks(state: &ClusterState, max_writes: usize) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut deleted: BTreeSet<&TaskId> = BTreeSet::new();
    for task in state.tasks().values() {
        if round.full(max_writes) {
            return round;
        }
        if task.desired_state == TaskState::Remove && no_longer_runs(state, task) {
            round.push(delete(task), max_writes);
            deleted.insert(&task.id);
        }
    }
    let limit = state
        .cluster()
        .map_or(DEFAULT_TASK_HISTORY_RETENTION_LIMIT, |c| {
            c.spec.orchestration.task_history_retention_limit
        });
    for service in state.services().values() {
        for slot in tasks_by_slot(state.tasks_of_service(&service.id)).values() {
            let keep = usize::try_from(tasks_kept(limit, slot)).unwrap_or(usize::MAX);
            let mut excess = slot.len().saturating_sub(keep);
            let older = &slot[..slot.len().saturating_sub(1)];
            for task in older {
                if excess == 0 {
                    break;
                }
                if deleted.contains(&task.id) {
                    excess -= 1;
                    continue;
                }
                let running = is_live(task) && !task.status.state.is_terminal();
                if running || !no_longer_runs(state, task) {
                    continue;
                }
                if !round.push(delete(task), max_writes) {
                    return round;
                }
                excess -= 1;
            }
        }
    }
    round
}

/// Whether `task` no longer runs anywhere (see [`reap_tasks`]).
fn no_longer_runs(state: &ClusterState, task: &Task) -> bool {
    if task.status.state.is_terminal() || task.status.state < TaskState::Assigned {
        return true;
    }
    match &task.node_id {
        None => true,
        Some(node) => state
            .node(node)
            .is_none_or(|n| n.status.state == NodeState::Down),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::Fixture;
    use crate::manager::orchestrator::task_writes::set_desired;

    #[test]
    fn removed_tasks_go_once_stopped_and_history_is_trimmed() {
        let mut f = Fixture::new();
        f.node("n1");
        let web = f.replicated("web", 1);
        f.orchestrate_and_run(0);
        let task = f.live(&web).remove(0);
        assert_eq!(task.status.state, TaskState::Running);
        f.apply(&[set_desired(&task, TaskState::Remove, f.at(1)).unwrap()]);
        assert!(reap_tasks(&f.state, 100).is_idle(), "still running");
        let task = f.state.task(&task.id).unwrap().clone();
        f.report(&task.id, TaskState::Shutdown, 2);
        let round = reap_tasks(&f.state, 100);
        assert_eq!(round.writes, [delete(f.state.task(&task.id).unwrap())]);
        f.apply(&round.writes);
        assert!(f.state.task(&task.id).is_none());
    }
}
