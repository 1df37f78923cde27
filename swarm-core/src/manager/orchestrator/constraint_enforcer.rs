//! Tasks whose node no longer suits them are rejected (SwarmKit's constraint enforcer).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::node_capacity::NodeCapacity;
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{by_age, is_live};
use crate::manager::orchestrator::task_writes::update;
use crate::manager::writes::ManagerWrite;
use crate::model::{Node, NodeAvailability, NodeState, ServiceId, Task, TaskState, TaskStatus};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The status message of a task the constraint enforcer rejected.
pub const CONSTRAINT_REJECTED_MESSAGE: &str = "task rejected by constraint enforcer";

/// Tasks assigned to an active node (live, assigned, not ended) that the node no longer
/// suits get status `rejected` (with [`CONSTRAINT_REJECTED_MESSAGE`] and the reason as the
/// error) and desired state `shutdown`; the reconciler of their service's mode replaces them.
///
/// A node no longer suits a task when it does not meet the placement of the task's service
/// (the service's current spec: a constraint-only update does not replace tasks, so theirs
/// may be stale; the task's own when the service is gone), or when its total resources no
/// longer cover the reservations of the tasks on it: those are taken oldest task first, and
/// the tasks whose reservation is not covered are rejected. A node that never reported its
/// resources is not checked for them. Paused nodes are left alone (their tasks stay), and
/// drained or down nodes are [`handle_node_failures`](super::handle_node_failures)'.
/// At most `max_writes` writes.
pub fn enforce_constraints(
    state: &ClusterState,
    now: SystemTime,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut filters: BTreeMap<ServiceId, PlacementFilter> = BTreeMap::new();
    for node in state.nodes().values() {
        if node.spec.availability != NodeAvailability::Active
            || node.status.state == NodeState::Down
        {
            continue;
        }
        let mut tasks: Vec<&Task> = state
            .tasks_on_node(&node.id)
            .filter(|t| {
                is_live(t) && t.status.state >= TaskState::Assigned && !t.status.state.is_terminal()
            })
            .collect();
        tasks.sort_by(by_age);
        let mut capacity = node
            .description
            .as_ref()
            .map(|d| NodeCapacity::new(&d.resources));
        for task in tasks {
            if round.full(max_writes) {
                return round;
            }
            let filter = filters.entry(task.service_id.clone()).or_insert_with(|| {
                let placement = state
                    .service(&task.service_id)
                    .map_or(&task.spec.placement, |s| &s.spec.task_template.placement);
                PlacementFilter::new(placement)
            });
            let reason = misfit(node, filter, capacity.as_mut(), task);
            if let Some(reason) = reason {
                round.push(reject(task, reason, now), max_writes);
            }
        }
    }
    round
}

/// Why `node` no longer suits `task`, taking its reservation from `capacity` if it does.
fn misfit(
    node: &Node,
    filter: &PlacementFilter,
    capacity: Option<&mut NodeCapacity>,
    task: &Task,
) -> Option<String> {
    if let Err(m) = filter.check(node) {
        return Some(format!("assigned node no longer meets the placement: {m}"));
    }
    let capacity = capacity?;
    capacity
        .take(task.spec.resources.reservations.as_ref())
        .err()
        .map(|short| format!("assigned node no longer has the {short} the task reserves"))
}

/// `task` rejected for `reason` and desired `shutdown`.
fn reject(task: &Task, reason: String, now: SystemTime) -> ManagerWrite {
    let mut changed = task.clone();
    let status = TaskStatus {
        timestamp: now,
        state: TaskState::Rejected,
        message: CONSTRAINT_REJECTED_MESSAGE.to_owned(),
        err: Some(reason.clone()),
        exit_code: None,
    };
    if changed.update_status(status).is_err() {
        // Not a legal move (the task cannot be here, it has not ended): keep the state,
        // say why it is stopped.
        changed.status.message = CONSTRAINT_REJECTED_MESSAGE.to_owned();
        changed.status.err = Some(reason);
    }
    // Live tasks are desired at most `complete`: `shutdown` is forward.
    changed.desired_state = TaskState::Shutdown;
    changed.meta.updated_at = now;
    update(changed, task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::orchestrator::fixture::Fixture;
    use crate::model::Resources;

    #[test]
    fn a_node_that_loses_a_label_or_resources_rejects_its_tasks() {
        let mut f = Fixture::new();
        f.node("n1");
        f.change_node("n1", 0, |n| {
            n.spec.labels.insert("zone".into(), "eu".into());
        });
        let eu = f.replicated("eu", 1);
        f.update_service(&eu, |s| {
            s.task_template.placement.constraints = vec!["node.labels.zone==eu".into()];
        });
        let big = f.replicated("big", 2);
        f.update_service(&big, |s| {
            s.task_template.resources.reservations = Some(Resources {
                nano_cpus: 2_000_000_000,
                ..Resources::default()
            });
        });
        f.orchestrate_and_run(0);
        assert_eq!(f.live(&eu).len(), 1);
        assert_eq!(f.live(&big).len(), 2);
        assert!(enforce_constraints(&f.state, f.at(1), 100).is_idle());

        // The node shrinks to 3 CPUs: the younger 2-CPU task no longer fits.
        f.change_node("n1", 10, |n| {
            if let Some(d) = n.description.as_mut() {
                d.resources.nano_cpus = 3_000_000_000;
            }
            n.spec.labels.clear();
        });
        let round = enforce_constraints(&f.state, f.at(11), 100);
        f.apply(&round.writes);
        let rejected: Vec<Task> = f
            .state
            .tasks()
            .values()
            .filter(|t| t.status.state == TaskState::Rejected)
            .cloned()
            .collect();
        assert_eq!(rejected.len(), 2);
        let eu_task = rejected.iter().find(|t| t.service_id == eu).unwrap();
        assert_eq!(eu_task.desired_state, TaskState::Shutdown);
        assert_eq!(eu_task.status.message, CONSTRAINT_REJECTED_MESSAGE);
        assert_eq!(
            eu_task.status.err.as_deref(),
            Some(
                "assigned node no longer meets the placement: node does not meet constraint node.labels.zone==eu"
            )
        );
        let big_task = rejected.iter().find(|t| t.service_id == big).unwrap();
        assert_eq!(
            big_task.status.err.as_deref(),
            Some("assigned node no longer has the cpu the task reserves")
        );
        let kept = f.live(&big);
        assert_eq!(kept.len(), 1);
        assert!(
            (kept[0].meta.created_at, &kept[0].id) < (big_task.meta.created_at, &big_task.id),
            "the older task keeps its reservation"
        );
    }
}
