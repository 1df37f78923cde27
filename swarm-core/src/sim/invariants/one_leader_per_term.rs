//! At most one leader per Raft term: no two managers ever led in the same term.

use crate::sim::observe::Observation;

/// `Err` names the term and the members that led in it.
pub fn check(obs: &Observation) -> Result<(), String> {
    for (term, leaders) in &obs.leaders_by_term {
        if leaders.len() > 1 {
            return Err(format!("term {term} had leaders {leaders:?}"));
        }
    }
    Ok(())
}
