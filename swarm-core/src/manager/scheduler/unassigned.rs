//! Placing the tasks without a node, one group per service and spec version.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::engine_mirror::EngineMirror;
use crate::manager::scheduler::spec_cache::SpecCache;
use crate::manager::scheduler::task_updates::TaskUpdates;
use crate::model::{NodeId, ServiceId, Task};
use std::collections::HashMap;
use swarm_sched::{
    GroupOutcome, MAX_TASKS_PER_GROUP, PendingTask, TaskGroup, TaskId, group_pending,
};

/// Places `tasks` (pending, no node), grouped by service and spec version in order of first
/// appearance; a group larger than swarm-sched's `MAX_TASKS_PER_GROUP` is placed in chunks.
pub(super) fn place_unassigned(
    mirror: &mut EngineMirror,
    specs: &mut SpecCache,
    state: &ClusterState,
    tasks: &[&Task],
    updates: &mut TaskUpdates,
) {
    let mut pending = Vec::with_capacity(tasks.len());
    for task in tasks {
        match specs.get(task, mirror, true) {
            Ok(spec) => pending.push(PendingTask {
                id: (&task.id).into(),
                service: (&task.service_id).into(),
                spec_version: task.spec_version,
                spec,
            }),
            Err(reason) => updates.leave_pending(task, &reason),
        }
    }
    for group in group_pending(pending) {
        mirror.touch_service(&ServiceId::from(&group.service));
        for chunk in group.tasks.chunks(MAX_TASKS_PER_GROUP) {
            let chunk_group = TaskGroup {
                service: group.service.clone(),
                spec_version: group.spec_version,
                spec: group.spec.clone(),
                tasks: chunk.to_vec(),
            };
            match mirror.engine.schedule(chunk_group) {
                Ok(outcome) => record_outcome(mirror, state, outcome, updates),
                Err(e) => {
                    let reason = e.to_string();
                    for id in chunk {
                        if let Some(task) = state.tasks().get(id.as_str()) {
                            updates.leave_pending(task, &reason);
                        }
                    }
                }
            }
        }
    }
}

/// Writes what the engine decided for a group and records the tasks it placed.
pub(super) fn record_outcome(
    mirror: &mut EngineMirror,
    state: &ClusterState,
    outcome: GroupOutcome,
    updates: &mut TaskUpdates,
) {
    let mut claims: HashMap<TaskId, Vec<(String, String)>> = HashMap::new();
    for claim in outcome.claims {
        claims
            .entry(claim.task)
            .or_default()
            .push((claim.kind, claim.item));
    }
    for a in &outcome.assignments {
        let Some(task) = state.tasks().get(a.task.as_str()) else {
            continue;
        };
        let claimed = claims.remove(&a.task).unwrap_or_default();
        let assigned = updates.assigned_task(task, NodeId::from(&a.node), claimed);
        match mirror.placed_of(&assigned) {
            Ok(placed) => mirror.record(placed, None),
            // Not reachable (the spec converted); keep the engine and the record in step.
            Err(_) => {
                let _ = mirror
                    .engine
                    .apply(swarm_sched::Delta::TaskRemoved(a.task.clone()));
                continue;
            }
        }
        updates.push_assigned(task, assigned);
    }
    if outcome.unplaced.is_empty() {
        return;
    }
    let reason = outcome
        .reason
        .as_ref()
        .map_or_else(|| "no suitable node".to_owned(), ToString::to_string);
    for id in &outcome.unplaced {
        if let Some(task) = state.tasks().get(id.as_str()) {
            updates.leave_pending(task, &reason);
        }
    }
}
