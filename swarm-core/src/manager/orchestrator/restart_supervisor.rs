//! Ended tasks are shut down for replacement, per their restart policy (SwarmKit's restart
//! supervisor).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::{NodeFailure, node_failure};
use crate::manager::orchestrator::job_iteration::in_current_iteration;
use crate::manager::orchestrator::restart_rules::{restart_allowed, restart_at};
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{is_live, tasks_by_slot};
use crate::manager::orchestrator::task_writes::set_desired;
use crate::model::TaskState;
use std::time::SystemTime;

/// A live task that ended (a service task desired `running`, or a job task of the current
/// iteration that did not complete) gets desired state `shutdown` once its restart policy
/// allows a replacement and its restart delay has passed since it ended; the reconciler of
/// its service's mode then creates the replacement in the same round, in the same slot
/// (global modes: on the same node, if it is still eligible).
///
/// * Until the delay has passed the task keeps its slot, and the round's `next_wake` says
///   when to look again. A task on a drained or deleted node has no delay (as SwarmKit).
/// * A task the policy does not restart (see the module docs of
///   [`orchestrator`](super)) is left as it is: it keeps its slot, which stays done.
///
/// At most `max_writes` writes.
pub fn supervise_restarts(
    state: &ClusterState,
    now: SystemTime,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    for service in state.services().values() {
        let job = service.spec.mode.is_job();
        let slots = tasks_by_slot(state.tasks_of_service(&service.id));
        for slot in slots.values() {
            for task in slot {
                if round.full(max_writes) {
                    return round;
                }
                if !is_live(task) || !task.status.state.is_terminal() {
                    continue;
                }
                if job
                    && (!in_current_iteration(task, service)
                        || task.status.state == TaskState::Complete)
                {
                    continue;
                }
                if !restart_allowed(task, slot, job) {
                    continue;
                }
                let no_delay = task.node_id.as_ref().is_some_and(|n| {
                    matches!(
                        node_failure(state, n),
                        Some(NodeFailure::Drained | NodeFailure::Gone)
                    )
                });
                let at = if no_delay {
                    Some(task.status.timestamp)
                } else {
                    restart_at(task)
                };
                let Some(at) = at else {
                    continue;
                };
                if now < at {
                    round.wake_at(at);
                    continue;
                }
                if let Some(write) = set_desired(task, TaskState::Shutdown, now) {
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
    use crate::manager::orchestrator::fixture::Fixture;
    use crate::model::{NodeAvailability, RestartCondition};
    use std::time::Duration;

    #[test]
    fn an_ended_task_is_shut_down_after_its_delay_if_the_policy_allows() {
        let mut f = Fixture::new();
        f.node("n1");
        let web = f.replicated("web", 2);
        f.update_service(&web, |s| {
            s.task_template.restart_policy.delay = Duration::from_secs(5);
            s.task_template.restart_policy.condition = RestartCondition::OnFailure;
        });
        f.orchestrate_and_run(0);
        let tasks = f.live(&web);
        f.report(&tasks[0].id, TaskState::Failed, 10);
        f.report(&tasks[1].id, TaskState::Complete, 10);

        let round = supervise_restarts(&f.state, f.at(12), 100);
        assert!(round.writes.is_empty());
        assert_eq!(round.next_wake, Some(f.at(15)));

        let round = supervise_restarts(&f.state, f.at(15), 100);
        assert_eq!(round.writes.len(), 1, "the completed task is not restarted");
        assert_eq!(round.next_wake, None);
        f.apply(&round.writes);
        assert_eq!(
            f.state.task(&tasks[0].id).unwrap().desired_state,
            TaskState::Shutdown
        );
        assert_eq!(
            f.state.task(&tasks[1].id).unwrap().desired_state,
            TaskState::Running
        );
    }

    #[test]
    fn a_drained_node_skips_the_delay() {
        let mut f = Fixture::new();
        f.node("n1");
        let web = f.replicated("web", 1);
        f.update_service(&web, |s| {
            s.task_template.restart_policy.delay = Duration::from_secs(60)
        });
        f.orchestrate_and_run(0);
        let task = f.live(&web).remove(0);
        f.report(&task.id, TaskState::Failed, 10);
        f.set_availability("n1", 11, NodeAvailability::Drain);
        let round = supervise_restarts(&f.state, f.at(11), 100);
        assert_eq!(round.writes.len(), 1);
    }
}
