//! Each replicated service converges to exactly its replicas: as many tasks meant to run as
//! the spec asks, all running, and no other task of the service meant to run. While no node
//! is ready and active (all drained or paused), the tasks wait pending instead.

use crate::model::{NodeAvailability, NodeState, ServiceMode, TaskState};
use crate::sim::invariants::{image_can_run, leader_state};
use crate::sim::observe::Observation;

/// `Err` names the service, what it asks and what runs.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    let node_available = state.nodes().values().any(|n| {
        n.status.state == NodeState::Ready && n.spec.availability == NodeAvailability::Active
    });
    for service in state.services().values() {
        let ServiceMode::Replicated { replicas } = service.spec.mode else {
            continue;
        };
        if !image_can_run(&service.spec.task_template.container.image) {
            continue;
        }
        let meant: Vec<_> = state
            .tasks_of_service(&service.id)
            .filter(|t| t.desired_state <= TaskState::Running)
            .collect();
        let running = meant
            .iter()
            .filter(|t| {
                t.status.state == TaskState::Running
                    || (!node_available && t.status.state == TaskState::Pending)
            })
            .count();
        let count = u64::try_from(meant.len()).unwrap_or(u64::MAX);
        if count != replicas || running != meant.len() {
            return Err(format!(
                "service {} asks {replicas} replicas: {count} tasks meant to run, {running} running",
                service.spec.name
            ));
        }
    }
    Ok(())
}
