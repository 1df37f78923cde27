//! A secret never stays on a node with no task referencing it: every secret an agent holds
//! is referenced by a task assigned to that node and not yet finished.

use crate::model::TaskState;
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

/// `Err` names the node and the secret.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for (name, agent) in &obs.agents {
        for secret in &agent.snapshot.held_secrets {
            let referenced = state.tasks_on_node(&agent.node_id).any(|t| {
                t.status.state <= TaskState::Running
                    && t.spec
                        .container
                        .secrets
                        .iter()
                        .any(|r| &r.secret_id == secret)
            });
            if !referenced {
                return Err(format!(
                    "node {name} holds secret {secret} that no task of it references"
                ));
            }
        }
    }
    Ok(())
}
