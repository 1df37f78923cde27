//! No acknowledged control write is lost: a service or secret whose creation was
//! acknowledged exists unless its removal was asked for; one whose removal was acknowledged is
//! gone; a replicated service's replica count is one the workload may have set (the last
//! acknowledged, or one asked for since without an answer).

use crate::model::ServiceMode;
use crate::sim::invariants::leader_state;
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
                    if !expected.replicas.contains(&replicas) {
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
    for (name, expected) in &obs.ledger.secrets {
        let found = state.secrets().values().any(|s| &s.spec.name == name);
        match (expected.created, expected.removed, found) {
            (Outcome::Done, None, false) => {
                return Err(format!(
                    "secret {name} was created (acknowledged) and is gone"
                ));
            }
            (_, Some(Outcome::Done), true) => {
                return Err(format!(
                    "secret {name} was removed (acknowledged) and exists"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
