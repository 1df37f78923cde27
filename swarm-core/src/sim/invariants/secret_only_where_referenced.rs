//! A secret or config never stays on a node with no task referencing it: every secret and
//! config an agent holds is referenced by a task assigned to that node and not yet finished;
//! and no agent was ever sent a secret its tasks do not reference (the agent ignores such a
//! delivery and records it: the leader must not send it).

use crate::model::TaskState;
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

/// `Err` names the node and the secret or config.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for (name, agent) in &obs.agents {
        if let Some(secret) = agent.snapshot.unreferenced_secrets.first() {
            return Err(format!(
                "node {name} was sent secret {secret} that no task of it references"
            ));
        }
        let live = || {
            state
                .tasks_on_node(&agent.node_id)
                .filter(|t| t.status.state <= TaskState::Running)
        };
        for secret in &agent.snapshot.held_secrets {
            let referenced = live().any(|t| {
                t.spec
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
        for config in &agent.snapshot.held_configs {
            let referenced = live().any(|t| {
                t.spec
                    .container
                    .configs
                    .iter()
                    .any(|r| &r.config_id == config)
            });
            if !referenced {
                return Err(format!(
                    "node {name} holds config {config} that no task of it references"
                ));
            }
        }
    }
    Ok(())
}
