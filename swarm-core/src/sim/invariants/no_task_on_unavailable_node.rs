//! No task runs on a drained or down node once converged: none is meant to run there in the
//! leader's state, and the node's runtime runs none.

use crate::model::{NodeAvailability, NodeState, TaskState};
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

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
            .find(|t| t.desired_state <= TaskState::Running)
        {
            return Err(format!(
                "task {} is meant to run on {name} ({:?}, {:?})",
                t.id, node.spec.availability, node.status.state
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
