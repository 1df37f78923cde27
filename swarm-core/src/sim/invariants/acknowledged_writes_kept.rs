//! No acknowledged control write is lost: a service, secret or config whose creation was
//! acknowledged exists unless its removal was asked for; one whose removal was acknowledged is
//! gone; a replicated service's replica count, a node's availability and the role its spec
//! asks for are values the workload may have set (the last acknowledged, or one asked for
//! since without an answer; after an update with failure action rollback, any count asked
//! before, which a rollback may bring back); a node whose removal was acknowledged is no
//! longer a member.

use crate::model::ServiceMode;
use crate::sim::invariants::{leader_state, node_name};
use crate::sim::ledger::Outcome;
use crate::sim::observe::Observation;

/// `Err` names the service or secret and what it lost.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for (name, expected) in &obs.ledger.services {
        let found = state.service_by_name(name);
        match (expected.created, expected.removed, found) {
            (Outcome::Done, None, None) => {
                return Err(format!(
                    "service {name} was created (acknowledged) and is gone"
                ));
            }
            (_, Some(Outcome::Done), Some(_)) => {
                return Err(format!(
                    "service {name} was removed (acknowledged) and exists"
                ));
            }
            (_, None, Some(service)) => {
                if let ServiceMode::Replicated { replicas } = service.spec.mode {
                    let rolled_back =
                        expected.rolls_back_on_failure && expected.ever.contains(&replicas);
                    if !expected.replicas.contains(&replicas) && !rolled_back {
                        return Err(format!(
                            "service {name} has {replicas} replicas; the workload set one of {:?}",
                            expected.replicas
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    for (kind, written) in [
        ("secret", &obs.ledger.secrets),
        ("config", &obs.ledger.configs),
    ] {
        for (name, expected) in written {
            let found = if kind == "secret" {
                state.secrets().values().any(|s| &s.spec.name == name)
            } else {
                state.configs().values().any(|c| &c.spec.name == name)
            };
            match (expected.created, expected.removed, found) {
                (Outcome::Done, None, false) => {
                    return Err(format!(
                        "{kind} {name} was created (acknowledged) and is gone"
                    ));
                }
                (_, Some(Outcome::Done), true) => {
                    return Err(format!(
                        "{kind} {name} was removed (acknowledged) and exists"
                    ));
                }
                _ => {}
            }
        }
    }
    for node in state.nodes().values() {
        let name = node_name(node);
        let Some(expected) = obs.ledger.nodes.get(name) else {
            continue;
        };
        if expected.removed == Some(Outcome::Done) {
            return Err(format!(
                "node {name} was removed (acknowledged) and is still a member"
            ));
        }
        if !expected.availability.contains(&node.spec.availability) {
            return Err(format!(
                "node {name} is {:?}; the workload set one of {:?}",
                node.spec.availability, expected.availability
            ));
        }
        if !expected.role.contains(&node.spec.role) {
            return Err(format!(
                "node {name}'s spec asks for role {:?}; the workload set one of {:?}",
                node.spec.role, expected.role
            ));
        }
    }
    Ok(())
}
