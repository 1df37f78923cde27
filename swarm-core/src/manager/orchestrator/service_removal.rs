//! Tasks of a deleted service are removed (SwarmKit's `SetServiceTasksRemove`).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::task_writes::set_desired;
use crate::model::TaskState;
use std::time::SystemTime;

/// Every task whose service no longer exists gets desired state `remove`: its agent stops it
/// and the reaper ([`reap_tasks`](super::reap_tasks)) deletes it once it no longer runs.
/// At most `max_writes` writes.
pub fn remove_orphaned_tasks(
    state: &ClusterState,
    now: SystemTime,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    for task in state.tasks().values() {
        if round.full(max_writes) {
            break;
        }
        if state.service(&task.service_id).is_some() {
            continue;
        }
        if let Some(write) = set_desired(task, TaskState::Remove, now) {
            round.push(write, max_writes);
        }
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::Fixture;

    #[test]
    fn tasks_of_a_missing_service_are_removed() {
        let mut f = Fixture::new();
        f.node("n1");
        let web = f.replicated("web", 2);
        f.orchestrate_and_run(0);
        f.delete_service(&web);
        let round = remove_orphaned_tasks(&f.state, f.at(1), 1);
        assert_eq!(round.writes.len(), 1, "bounded by max_writes");
        let round = remove_orphaned_tasks(&f.state, f.at(1), 10);
        assert_eq!(round.writes.len(), 2);
        f.apply(&round.writes);
        assert!(
            f.state
                .tasks()
                .values()
                .all(|t| t.desired_state == TaskState::Remove)
        );
        assert!(remove_orphaned_tasks(&f.state, f.at(2), 10).is_idle());
    }
}
