//! Every update and rollback ends: once converged, a service's update status is absent,
//! completed, paused, rollback completed or rollback paused, never still `updating` or
//! `rollback_started` (unless a task of the service cannot be placed: the update then waits
//! for a node, as SwarmKit's does).

use crate::model::{TaskState, UpdateState};
use crate::sim::invariants::leader_state;
use crate::sim::observe::Observation;

/// `Err` names the service and its update state.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for service in state.services().values() {
        let Some(status) = &service.update_status else {
            continue;
        };
        if !matches!(
            status.state,
            UpdateState::Updating | UpdateState::RollbackStarted
        ) {
            continue;
        }
        let waits_for_a_node = state
            .tasks_of_service(&service.id)
            .any(|t| t.status.state == TaskState::Pending && t.desired_state <= TaskState::Running);
        if !waits_for_a_node {
            return Err(format!(
                "service {} is still {} ({})",
                service.spec.name, status.state, status.message
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::cluster_state::ClusterState;
    use crate::model::{RestartPolicy, UpdateStatus};
    use crate::sim::history::History;
    use crate::sim::invariants::fixture::{at, observation, service, task};

    #[test]
    fn an_update_still_running_is_named_unless_a_task_waits_for_a_node() {
        let mut s = service(&RestartPolicy::default());
        s.update_status = Some(UpdateStatus {
            state: UpdateState::Updating,
            started_at: at(0.0),
            completed_at: None,
            message: "update in progress".to_owned(),
        });
        let mut state = ClusterState::new();
        state.put_service(s.clone());
        state.put_task(task(&s, "t", 0.0, 1, TaskState::Running, 1.0));
        let err = check(&observation(state.clone(), History::default())).unwrap_err();
        assert_eq!(err, "service svc is still updating (update in progress)");
        state.put_task(task(&s, "p", 0.0, 2, TaskState::Pending, 1.0));
        assert_eq!(
            check(&observation(state.clone(), History::default())),
            Ok(())
        );
        let mut done = s;
        if let Some(status) = &mut done.update_status {
            status.state = UpdateState::RollbackPaused;
        }
        let mut state = ClusterState::new();
        state.put_service(done);
        assert_eq!(check(&observation(state, History::default())), Ok(()));
    }
}
