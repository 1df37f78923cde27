//! Replicated jobs: tasks run to completion until `total_completions` succeeded, at most
//! `max_concurrent` at once (SwarmKit's replicated job reconciler).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::job_iteration::{
    in_current_iteration, remove_previous_iterations, start_iteration,
};
use crate::manager::orchestrator::new_task::{TaskIds, new_task};
use crate::manager::orchestrator::restart_rules::restart_allowed;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{SlotKey, is_live, tasks_by_slot};
use crate::manager::orchestrator::task_writes::create;
use crate::model::{ServiceMode, Task, TaskState};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Where a slot of the current iteration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobSlot {
    /// A task of the slot completed.
    Complete,
    /// A task runs, or ended and waits for its restart: it counts against `max_concurrent`.
    Active,
    /// Its task failed and the restart policy does not replace it.
    Settled,
    /// No task, or only tasks that were shut down: a new one may start.
    Free,
}

/// For every replicated job: records the current iteration in the service's job status the
/// first time it is seen at that spec version (a service update starts a new run), sets
/// desired state `remove` on the previous iterations' tasks that have not ended, and starts
/// tasks (desired state `complete`, stamped with the iteration) in slots `1..=total_completions`
/// that have no completed, running or waiting task, while fewer than `max_concurrent` are
/// active. A slot whose task failed is restarted by [`supervise_restarts`](super::supervise_restarts)
/// in the same slot; one whose policy refuses a restart stays failed. At most `max_writes`
/// writes.
pub fn reconcile_replicated_jobs(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut ids = TaskIds::new(state);
    for service in state.services().values() {
        let ServiceMode::ReplicatedJob {
            max_concurrent,
            total_completions,
        } = service.spec.mode
        else {
            continue;
        };
        if round.full(max_writes) {
            break;
        }
        if let Some(write) = start_iteration(service, now) {
            round.push(write, max_writes);
        }
        remove_previous_iterations(state, service, now, &mut round, max_writes);
        let current = state
            .tasks_of_service(&service.id)
            .filter(|t| in_current_iteration(t, service));
        let slots: BTreeMap<u64, JobSlot> = tasks_by_slot(current)
            .iter()
            .filter_map(|(key, tasks)| match key {
                SlotKey::Replica(slot) => Some((*slot, job_slot(tasks))),
                _ => None,
            })
            .collect();
        let mut active = u64::try_from(slots.values().filter(|s| **s == JobSlot::Active).count())
            .unwrap_or(u64::MAX);
        let mut slot = 1u64;
        while slot <= total_completions && active < max_concurrent && !round.full(max_writes) {
            if matches!(slots.get(&slot), None | Some(JobSlot::Free)) {
                let Some(id) = ids.next(rng) else { break };
                let task = new_task(service, id, Some(slot), None, now);
                round.push(create(task), max_writes);
                active += 1;
            }
            slot = slot.saturating_add(1);
        }
    }
    round
}

fn job_slot(tasks: &[&Task]) -> JobSlot {
    if tasks.iter().any(|t| t.status.state == TaskState::Complete) {
        return JobSlot::Complete;
    }
    let mut slot = JobSlot::Free;
    for task in tasks.iter().filter(|t| is_live(t)) {
        if !task.status.state.is_terminal() || restart_allowed(task, tasks, true) {
            return JobSlot::Active;
        }
        slot = JobSlot::Settled;
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::{Fixture, splitmix};
    use crate::model::Version;

    #[test]
    fn starts_at_most_max_concurrent_and_records_the_iteration() {
        let mut f = Fixture::new();
        f.node("n1");
        let job = f.service(
            "job",
            ServiceMode::ReplicatedJob {
                max_concurrent: 2,
                total_completions: 3,
            },
        );
        let mut seed = 5;
        let mut rng = || splitmix(&mut seed);
        let round = reconcile_replicated_jobs(&f.state, f.at(0), &mut rng, 100);
        assert_eq!(round.writes.len(), 3, "job status and two tasks");
        f.apply(&round.writes);
        let service = f.state.service(&job).unwrap();
        assert_eq!(
            service.job_status.as_ref().map(|s| s.job_iteration),
            Some(Version(1))
        );
        assert_eq!(f.live_slots(&job), [1, 2]);
        assert!(
            f.live(&job)
                .iter()
                .all(|t| t.desired_state == TaskState::Complete
                    && t.job_iteration == Some(Version(1)))
        );
        assert!(
            reconcile_replicated_jobs(&f.state, f.at(0), &mut rng, 100)
                .writes
                .is_empty()
        );
        let first = f.live(&job).remove(0);
        f.schedule(1);
        f.report(&first.id, TaskState::Complete, 2);
        let round = reconcile_replicated_jobs(&f.state, f.at(2), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_slots(&job), [1, 2, 3]);
    }
}
