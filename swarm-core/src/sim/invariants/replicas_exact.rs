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
            let waiting: Vec<String> = meant
                .iter()
                .filter(|t| t.status.state != TaskState::Running)
                .map(|t| {
                    let node = t
                        .node_id
                        .as_ref()
                        .and_then(|n| state.node(n))
                        .map_or("no node", super::node_name);
                    let others: Vec<String> = state
                        .tasks_of_service(&service.id)
                        .filter(|o| o.slot == t.slot && o.id != t.id)
                        .map(|o| {
                            let node = o
                                .node_id
                                .as_ref()
                                .and_then(|n| state.node(n))
                                .map_or("no node", super::node_name);
                            format!(
                                "{} v{} {} (desired {}) on {node}",
                                o.id, o.spec_version, o.status.state, o.desired_state
                            )
                        })
                        .collect();
                    format!(
                        "{} v{} slot {:?} {} (desired {}) on {node}: {}{}; the slot's other tasks: [{}]",
                        t.id,
                        t.spec_version,
                        t.slot,
                        t.status.state,
                        t.desired_state,
                        t.status.message,
                        t.status
                            .err
                            .as_deref()
                            .map_or_else(String::new, |e| format!(" ({e})")),
                        others.join(", ")
                    )
                })
                .collect();
            return Err(format!(
                "service {} (spec version {}, update {}) asks {replicas} replicas: {count} tasks meant to run, {running} running; not running: [{}]",
                service.spec.name,
                service.spec_version.0,
                service.update_status.as_ref().map_or_else(
                    || "none".to_owned(),
                    |u| format!("{} ({})", u.state, u.message)
                ),
                waiting.join(", ")
            ));
        }
    }
    Ok(())
}
