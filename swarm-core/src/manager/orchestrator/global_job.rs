//! Global jobs: one task run to completion on every eligible node, per iteration (SwarmKit's
//! global job reconciler).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::{GlobalRule, global_rule};
use crate::manager::orchestrator::job_iteration::{
    in_current_iteration, remove_previous_iterations, start_iteration,
};
use crate::manager::orchestrator::new_task::{TaskIds, new_task};
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{SlotKey, is_live, tasks_by_slot};
use crate::manager::orchestrator::task_writes::{create, set_desired};
use crate::model::{ServiceMode, TaskState};
use std::time::SystemTime;

/// For every global job: records the current iteration in the service's job status (as
/// [`reconcile_replicated_jobs`](super::reconcile_replicated_jobs)), removes earlier
/// iterations' tasks that have not ended, and starts one task (desired state `complete`,
/// preset on the node) on every eligible node (as for global services: not down, active,
/// meeting the placement) that has no task of the iteration that completed or is live. On a
/// node that is down, drained or no longer meets the placement, live tasks that did not
/// complete get desired state `shutdown`; on a deleted node every task of the service gets
/// desired state `remove`. At most `max_writes` writes.
pub fn reconcile_global_jobs(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut ids = TaskIds::new(state);
    for service in state.services().values() {
        if service.spec.mode != ServiceMode::GlobalJob {
            continue;
        }
        if round.full(max_writes) {
            break;
        }
        if let Some(write) = start_iteration(service, now) {
            round.push(write, max_writes);
        }
        remove_previous_iterations(state, service, now, &mut round, max_writes);
        let filter = PlacementFilter::new(&service.spec.task_template.placement);
        let all = tasks_by_slot(state.tasks_of_service(&service.id));
        let current = tasks_by_slot(
            state
                .tasks_of_service(&service.id)
                .filter(|t| in_current_iteration(t, service)),
        );
        for node in state.nodes().values() {
            if round.full(max_writes) {
                return round;
            }
            let tasks: Vec<_> = current
                .get(&SlotKey::Node(node.id.clone()))
                .into_iter()
                .flatten()
                .collect();
            match global_rule(node, &filter) {
                GlobalRule::Run => {
                    let covered = tasks
                        .iter()
                        .any(|t| t.status.state == TaskState::Complete || is_live(t));
                    if !covered {
                        if let Some(id) = ids.next(rng) {
                            let task = new_task(service, id, None, Some(node.id.clone()), now);
                            round.push(create(task), max_writes);
                        }
                    }
                }
                GlobalRule::Keep => {}
                GlobalRule::Stop => {
                    for task in tasks {
                        if task.status.state == TaskState::Complete {
                            continue;
                        }
                        if let Some(write) = set_desired(task, TaskState::Shutdown, now) {
                            round.push(write, max_writes);
                        }
                    }
                }
            }
        }
        for (key, tasks) in &all {
            let SlotKey::Node(node) = key else { continue };
            if state.node(node).is_some() {
                continue;
            }
            for task in tasks {
                if let Some(write) = set_desired(task, TaskState::Remove, now) {
                    round.push(write, max_writes);
                }
            }
        }
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::{Fixture, splitmix};
    use crate::model::Version;

    #[test]
    fn one_task_per_node_per_iteration() {
        let mut f = Fixture::new();
        f.node("n1");
        f.node("n2");
        let job = f.service("job", ServiceMode::GlobalJob);
        let mut seed = 9;
        let mut rng = || splitmix(&mut seed);
        let round = reconcile_global_jobs(&f.state, f.at(0), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&job), ["n1", "n2"]);
        f.schedule(1);
        for t in f.live(&job) {
            f.report(&t.id, TaskState::Complete, 2);
        }
        assert!(
            reconcile_global_jobs(&f.state, f.at(3), &mut rng, 100)
                .writes
                .is_empty(),
            "done on both nodes"
        );
        // A new iteration runs again on both nodes.
        f.update_service(&job, |_| {});
        let round = reconcile_global_jobs(&f.state, f.at(4), &mut rng, 100);
        f.apply(&round.writes);
        let second: Vec<_> = f
            .tasks_of(&job)
            .into_iter()
            .filter(|t| t.job_iteration == Some(Version(2)))
            .collect();
        assert_eq!(second.len(), 2);
    }
}
