//! Each global service converges to one running task per eligible node (ready and active),
//! none on a down or drained node, and on a paused node at most one (a paused node keeps
//! what it runs and starts nothing new), running.

use crate::model::{NodeAvailability, NodeState, ServiceMode, TaskState};
use crate::sim::invariants::{image_can_run, leader_state};
use crate::sim::observe::Observation;
use std::collections::BTreeMap;

/// `Err` names the service and the node.
pub fn check(obs: &Observation) -> Result<(), String> {
    let state = leader_state(obs)?;
    for service in state.services().values() {
        if service.spec.mode != ServiceMode::Global
            || !image_can_run(&service.spec.task_template.container.image)
        {
            continue;
        }
        let mut by_node: BTreeMap<_, (usize, usize)> = BTreeMap::new();
        for t in state
            .tasks_of_service(&service.id)
            .filter(|t| t.desired_state <= TaskState::Running)
        {
            let Some(node) = &t.node_id else { continue };
            let e = by_node.entry(node.clone()).or_default();
            e.0 += 1;
            if t.status.state == TaskState::Running {
                e.1 += 1;
            }
        }
        for node in state.nodes().values() {
            let ready = node.status.state == NodeState::Ready;
            let (meant, running) = by_node.get(&node.id).copied().unwrap_or((0, 0));
            let name = super::node_name(node);
            let fits = match (ready, node.spec.availability) {
                (true, NodeAvailability::Active) => meant == 1 && running == 1,
                (true, NodeAvailability::Pause) => meant <= 1 && running == meant,
                _ => meant == 0,
            };
            if !fits {
                let tasks: Vec<String> = state
                    .tasks_of_service(&service.id)
                    .filter(|t| t.node_id.as_ref() == Some(&node.id))
                    .map(|t| {
                        format!(
                            "{} v{} {} (desired {}): {}{}",
                            t.id,
                            t.spec_version,
                            t.status.state,
                            t.desired_state,
                            t.status.message,
                            t.status
                                .err
                                .as_deref()
                                .map_or_else(String::new, |e| format!(" ({e})"))
                        )
                    })
                    .collect();
                return Err(format!(
                    "global service {} (spec version {}, update {}) on node {name} ({:?}, {:?}): {meant} tasks meant to run, {running} running; its tasks there: [{}]",
                    service.spec.name,
                    service.spec_version.0,
                    service.update_status.as_ref().map_or_else(
                        || "none".to_owned(),
                        |u| format!("{} ({})", u.state, u.message)
                    ),
                    node.status.state,
                    node.spec.availability,
                    tasks.join(", ")
                ));
            }
        }
    }
    Ok(())
}
