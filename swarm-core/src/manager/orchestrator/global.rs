//! Global services: one live task on every eligible node (SwarmKit's global orchestrator).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::eligibility::{GlobalRule, global_rule};
use crate::manager::orchestrator::new_task::{TaskIds, new_task};
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::manager::orchestrator::round::OrchestrationRound;
use crate::manager::orchestrator::slots::{SlotKey, is_live, tasks_by_slot};
use crate::manager::orchestrator::task_writes::{create, set_desired};
use crate::model::{ServiceMode, TaskState};
use std::time::SystemTime;

/// For every global service, one live task (desired state `running`, ended or not) per node
/// that is not down, is active and meets the service's placement
/// ([`PlacementFilter`]). It follows node changes:
///
/// * a node that joins or becomes eligible gets a task, preset on it (`node_id` set at
///   creation, the scheduler only confirms it);
/// * a paused node keeps what it has and gets nothing new;
/// * on a node that is down, drained or no longer meets the placement, live tasks get desired
///   state `shutdown`; on a deleted node every task of the service gets desired state
///   `remove` (the reaper deletes them);
/// * a node with more than one live task is left to the update supervisor
///   ([`supervise_updates`](super::supervise_updates)), which keeps the one of the current
///   spec (a start-first update runs two for a while).
///
/// At most `max_writes` writes.
pub fn reconcile_global(
    state: &ClusterState,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
    max_writes: usize,
) -> OrchestrationRound {
    let mut round = OrchestrationRound::default();
    let mut ids = TaskIds::new(state);
    for service in state.services().values() {
        if service.spec.mode != ServiceMode::Global {
            continue;
        }
        let filter = PlacementFilter::new(&service.spec.task_template.placement);
        let slots = tasks_by_slot(state.tasks_of_service(&service.id));
        for node in state.nodes().values() {
            if round.full(max_writes) {
                return round;
            }
            let live: Vec<_> = slots
                .get(&SlotKey::Node(node.id.clone()))
                .into_iter()
                .flatten()
                .filter(|t| is_live(t))
                .collect();
            let stop = match global_rule(node, &filter) {
                GlobalRule::Run if live.is_empty() => {
                    if let Some(id) = ids.next(rng) {
                        let task = new_task(service, id, None, Some(node.id.clone()), now);
                        round.push(create(task), max_writes);
                    }
                    continue;
                }
                GlobalRule::Run | GlobalRule::Keep => continue,
                GlobalRule::Stop => &live[..],
            };
            for task in stop {
                if let Some(write) = set_desired(task, TaskState::Shutdown, now) {
                    round.push(write, max_writes);
                }
            }
        }
        for (key, tasks) in &slots {
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
    use crate::manager::writes::ManagerWrite;

    #[test]
    fn one_task_per_eligible_node_and_none_elsewhere() {
        let mut f = Fixture::new();
        f.node("n1");
        f.node("n2");
        f.node("n3");
        f.change_node("n3", 0, |n| {
            n.spec.availability = crate::model::NodeAvailability::Pause;
        });
        let all = f.service("all", ServiceMode::Global);
        let mut seed = 3;
        let mut rng = || splitmix(&mut seed);
        let round = reconcile_global(&f.state, f.at(0), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&all), ["n1", "n2"]);
        let t = f.live(&all).remove(0);
        assert_eq!(t.slot, None);
        assert!(reconcile_global(&f.state, f.at(0), &mut rng, 100).is_idle());

        // n1 is deleted: its task is to be removed.
        let n1 = f.state.node(&"n1".into()).unwrap().clone();
        f.apply(&[ManagerWrite::DeleteNode {
            id: n1.id.clone(),
            expected_version: n1.meta.version,
        }]);
        let round = reconcile_global(&f.state, f.at(1), &mut rng, 100);
        f.apply(&round.writes);
        assert_eq!(f.live_nodes(&all), ["n2"]);
        assert!(
            f.tasks_of(&all)
                .iter()
                .any(|t| t.desired_state == TaskState::Remove)
        );
    }
}
