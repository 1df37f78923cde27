//! Tasks on a failed node are stopped, so that the mode reconcilers replace them (SwarmKit's
//! `restartTasksByNodeID` and the global orchestrator's node handling).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::node_failure;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::is_live;
use crate::manager::orchestrator::task_writes::set_desired;
use crate::model::TaskState;
use std::time::SystemTime;

/// Live tasks that have not ended, on a node that is drained, down or deleted, get desired
/// state `shutdown`; the reconciler of their service's mode replaces them in the same round
/// (replicated modes: the same slot, on another node; global modes: no replacement, the node
/// is not eligible).
///
/// Always at once, with no restart delay: the task did not fail, its node did (the node's
/// grace period already waited out short blips). SwarmKit applies the restart policy's delay
/// to a down node's tasks; replacing them at once is what brings a dead worker's tasks back
/// within about one grace period.
///
/// Tasks that ended are the restart supervisor's ([`supervise_restarts`](super::supervise_restarts)).
/// Tasks of deleted services are left to [`remove_orphaned_tasks`](super::remove_orphaned_tasks).
/// At most `max_writes` writes.
pub fn handle_node_failures(
    state: &ClusterState,
    now: SystemTime,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    for task in state.tasks().values() {
        if round.full(max_writes) {
            break;
        }
        let Some(node_id) = &task.node_id else {
            continue;
        };
        if !is_live(task) || task.status.state.is_terminal() {
            continue;
        }
        if state.service(&task.service_id).is_none() || node_failure(state, node_id).is_none() {
            continue;
        }
        if let Some(write) = set_desired(task, TaskState::Shutdown, now) {
            round.push(write, max_writes);
        }
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::Fixture;
    use crate::model::{NodeAvailability, NodeState, ServiceMode};
    use std::time::Duration;

    #[test]
    fn tasks_of_drained_and_down_nodes_stop_at_once_whatever_the_restart_delay() {
        let mut f = Fixture::new();
        f.node("n1");
        f.node("n2");
        let web = f.replicated("web", 2);
        f.update_service(&web, |s| {
            s.task_template.restart_policy.delay = Duration::from_secs(10)
        });
        let all = f.service("all", ServiceMode::Global);
        f.orchestrate_and_run(0);
        assert_eq!(f.live_nodes(&web), ["n1", "n2"]);

        f.set_node_state("n1", 100, NodeState::Down);
        let round = handle_node_failures(&f.state, f.at(100), 100);
        // Both the global task and the replica stop at once, the 10 s delay notwithstanding.
        assert_eq!(round.writes.len(), 2);
        assert_eq!(round.next_wake, None);
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&all), ["n2"]);
        assert_eq!(f.live_nodes(&web), ["n2"]);

        f.set_availability("n2", 120, NodeAvailability::Drain);
        let round = handle_node_failures(&f.state, f.at(120), 100);
        assert_eq!(round.writes.len(), 2, "both tasks on n2, no delay");
        f.apply(&round.writes);
        assert!(f.live(&web).is_empty());
        assert!(f.live(&all).is_empty());
    }
}
