//! Every task left pending once converged carries the reason it cannot be placed.

use crate::model::TaskState;
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

/// `Err` names the task.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for t in state.tasks().values() {
        if t.status.state == TaskState::Pending
            && t.desired_state <= TaskState::Running
            && t.status.err.as_deref().is_none_or(str::is_empty)
        {
            return Err(format!("task {} is pending without a reason", t.id));
        }
    }
    Ok(())
}
