//! No task runs on a drained or down node once converged: none is meant to run there in the
//! leader's state, and the node's runtime runs none. A task that ended there and whose restart
//! policy gave up keeps its slot (and its desired state) by design; it runs nowhere and is
//! not counted (seed 6359: a crashing service's task on a node drained after its last attempt).

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::{restart_allowed, slot_key, tasks_by_slot};
use crate::model::{NodeAvailability, NodeState, Task, TaskState};
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

/// Whether `task` ended and its restart policy allows no replacement: its slot stays done
/// (see [`orchestrator`](crate::manager::orchestrator)), so it keeps its desired state, but
/// nothing runs or will run for it on its node.
fn given_up(state: &ClusterState, task: &Task) -> bool {
    if !task.status.state.is_terminal() {
        return false;
    }
    let job = state
        .service(&task.service_id)
        .is_some_and(|s| s.spec.mode.is_job());
    let slots = tasks_by_slot(state.tasks_of_service(&task.service_id));
    let slot = slots.get(&slot_key(task)).map_or(&[][..], Vec::as_slice);
    !restart_allowed(task, slot, job)
}

/// `Err` names the node and the task.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for node in state.nodes().values() {
        let unavailable = node.spec.availability == NodeAvailability::Drain
            || node.status.state == NodeState::Down;
        if !unavailable {
            continue;
        }
        let name = super::node_name(node);
        if let Some(t) = state
            .tasks_on_node(&node.id)
            .find(|t| t.desired_state <= TaskState::Running && !given_up(state, t))
        {
            return Err(format!(
                "task {} (service {}, slot {:?}, desired {}, observed {}, version {}) is meant to run on {name} ({:?}, {:?})",
                t.id,
                t.service_id,
                t.slot,
                t.desired_state.as_str(),
                t.status.state.as_str(),
                t.meta.version.0,
                node.spec.availability,
                node.status.state
            ));
        }
        if let Some(agent) = obs.agents.values().find(|a| a.node_id == node.id) {
            if let Some(t) = agent.runtime_running.first() {
                return Err(format!(
                    "task {t} runs on {name} ({:?}, {:?})",
                    node.spec.availability, node.status.state
                ));
            }
        }
    }
    Ok(())
}
