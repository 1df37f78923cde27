//! Tasks on a failed node are stopped, so that the mode reconcilers replace them (SwarmKit's
//! `restartTasksByNodeID` and the global orchestrator's node handling).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::{NodeFailure, node_failure};
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
/// * Drained or deleted node: at once.
/// * Down node: global modes at once; replicated modes once the task's restart delay has
///   passed since the node was marked down (its record's `updated_at`), as SwarmKit delays
///   the replacement; until then the round's `next_wake` says when. A node back up before
///   that keeps its tasks.
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
        let Some(service) = state.service(&task.service_id) else {
            continue;
        };
        let Some(failure) = node_failure(state, node_id) else {
            continue;
        };
        if failure == NodeFailure::Down && !service.spec.mode.is_global() {
            let down_since = state.node(node_id).map(|n| n.meta.updated_at);
            let Some(at) = down_since.and_then(|t| t.checked_add(task.spec.restart_policy.delay))
            else {
                continue;
            };
            if now < at {
                round.wake_at(at);
                continue;
            }
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
    fn drained_nodes_stop_at_once_down_nodes_after_the_delay() {
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
        let round = handle_node_failures(&f.state, f.at(105), 100);
        // The global task stops at once; the replica waits for 100 s + 10 s.
        assert_eq!(round.writes.len(), 1);
        assert_eq!(round.next_wake, Some(f.at(110)));
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&all), ["n2"]);
        let round = handle_node_failures(&f.state, f.at(110), 100);
        assert_eq!(round.writes.len(), 1);
        assert_eq!(round.next_wake, None);
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&web), ["n2"]);

        f.set_availability("n2", 120, NodeAvailability::Drain);
        let round = handle_node_failures(&f.state, f.at(120), 100);
        assert_eq!(round.writes.len(), 2, "both tasks on n2, no delay");
        f.apply(&round.writes);
        assert!(f.live(&web).is_empty());
        assert!(f.live(&all).is_empty());
    }
}
