//! Placing the tasks whose node is preset (global services): each is checked against its
//! node alone.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::engine_mirror::EngineMirror;
use crate::manager::scheduler::spec_cache::SpecCache;
use crate::manager::scheduler::task_updates::TaskUpdates;
use crate::manager::scheduler::unassigned::record_outcome;
use crate::model::{NodeId, Task};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use swarm_sched::{
    Constraint, ConstraintKey, NodeVerdict, Operator, PendingTask, RejectionCount, SchedError,
    TaskGroup, Unschedulable, group_pending,
};

/// Places `tasks` (pending, node preset), grouped by service and spec version. One
/// `Engine::explain` per group gives every node's verdict; a task whose node fits is charged
/// there, one whose node does not gets that node's reason:
/// `no suitable node (1 node lacks 2 CPU)`.
pub(super) fn place_preset(
    mirror: &mut EngineMirror,
    specs: &mut SpecCache,
    state: &ClusterState,
    tasks: &[&Task],
    updates: &mut TaskUpdates,
) {
    let mut pending = Vec::with_capacity(tasks.len());
    for task in tasks {
        match specs.get(task, mirror, false) {
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
        let group_tasks: Vec<&Task> = group
            .tasks
            .iter()
            .filter_map(|id| state.tasks().get(id.as_str()))
            .collect();
        let verdicts = match mirror.engine.explain(&group.service, &group.spec) {
            Ok(verdicts) => verdicts,
            Err(e) => {
                let reason = e.to_string();
                for task in group_tasks {
                    updates.leave_pending(task, &reason);
                }
                continue;
            }
        };
        let by_node: HashMap<&str, &NodeVerdict> =
            verdicts.iter().map(|v| (v.node.as_str(), v)).collect();
        let mut used: HashSet<&NodeId> = HashSet::new();
        for task in group_tasks {
            let Some(node) = task.node_id.as_ref() else {
                continue;
            };
            if !mirror.knows_node(node) {
                let reason = SchedError::UnknownNode(node.into()).to_string();
                updates.leave_pending(task, &reason);
                continue;
            }
            // A second task of the group on one node: its verdict is stale, let the engine
            // check the node as it is now.
            let first_on_node = used.insert(node);
            if first_on_node {
                if let Some(verdict) = by_node.get(node.as_str()) {
                    if let Some(reason) = node_reason(verdict, &group.spec) {
                        updates.leave_pending(task, &reason);
                        continue;
                    }
                }
            }
            if first_on_node && group.spec.generic.is_empty() {
                charge(mirror, task, node, updates);
            } else {
                schedule_on(mirror, state, task, node, &group.spec, updates);
            }
        }
    }
}

/// The reason `verdict`'s node refuses a task of `spec`, as an `Unschedulable` of one node;
/// `None` when the task fits.
fn node_reason(verdict: &NodeVerdict, spec: &swarm_sched::TaskSpec) -> Option<String> {
    let rejection = verdict.rejection?;
    let reason = Unschedulable {
        nodes_total: 1,
        nodes_passing: 0,
        rejections: vec![RejectionCount {
            rejection,
            nodes: 1,
            description: rejection.describe(spec, 1),
        }],
    };
    Some(reason.to_string())
}

/// Assigns `task` to `node`, which fits it and has no named items to pick: the task is
/// charged there as recorded (`Delta::TaskPlaced`).
fn charge(mirror: &mut EngineMirror, task: &Task, node: &NodeId, updates: &mut TaskUpdates) {
    let assigned = updates.assigned_task(task, node.clone(), Vec::new());
    let told = mirror
        .placed_of(&assigned)
        .map_err(|e| e.to_string())
        .and_then(|placed| mirror.tell(placed, None).map_err(|e| e.to_string()));
    match told {
        Ok(()) => updates.push_assigned(task, assigned),
        Err(reason) => updates.leave_pending(task, &reason),
    }
}

/// Lets the engine place `task` on `node` alone (a group of one, constrained to the node):
/// it picks the named items the task needs and checks the node as it is now.
fn schedule_on(
    mirror: &mut EngineMirror,
    state: &ClusterState,
    task: &Task,
    node: &NodeId,
    spec: &swarm_sched::TaskSpec,
    updates: &mut TaskUpdates,
) {
    let mut on_node = spec.clone();
    on_node.constraints.push(Constraint {
        key: ConstraintKey::NodeId,
        op: Operator::Eq,
        value: node.as_str().to_owned(),
        ip: None,
    });
    mirror.touch_service(&task.service_id);
    let group = TaskGroup {
        service: (&task.service_id).into(),
        spec_version: task.spec_version,
        spec: Arc::new(on_node),
        tasks: vec![(&task.id).into()],
    };
    match mirror.engine.schedule(group) {
        Ok(outcome) if outcome.unplaced.is_empty() => {
            record_outcome(mirror, state, outcome, updates);
        }
        Ok(_) => {
            let service: swarm_sched::ServiceId = (&task.service_id).into();
            let reason = mirror
                .engine
                .explain(&service, spec)
                .ok()
                .and_then(|verdicts| {
                    verdicts
                        .iter()
                        .find(|v| v.node.as_str() == node.as_str())
                        .and_then(|v| node_reason(v, spec))
                })
                .unwrap_or_else(|| "no suitable node".to_owned());
            updates.leave_pending(task, &reason);
        }
        Err(e) => updates.leave_pending(task, &e.to_string()),
    }
}
