//! What the run saw over time: every task a leader's state held, the services that may update
//! start-first, and when nodes could not keep their tasks (or may not have: a node down and
//! back between two observations shows only as a changed record). Invariants about the past
//! (restart limits, two tasks of a slot running at once) read it.

use crate::manager::cluster_state::ClusterState;
use crate::model::{NodeAvailability, NodeId, NodeState, ServiceId, TaskId, UpdateOrder, Version};
use crate::sim::seen_task::SeenTask;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// Every task seen in a leader's state during the run, and what the checks need to read it.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Every task seen, by id (kept after the managers deleted it).
    pub tasks: BTreeMap<TaskId, SeenTask>,
    /// Services whose update or rollback config, in any spec seen, is start-first (a slot may
    /// then run an old and a new task together for a moment).
    pub start_first: BTreeSet<ServiceId>,
    /// The observations (virtual wall-clock times) at which a leader had a node down or
    /// drained (its tasks are then replaced without their restart delay), or its record
    /// changed since the previous observation (it may have been down and back in between).
    pub node_failed_at: BTreeMap<NodeId, Vec<SystemTime>>,
    /// The version of every node record at the last observation.
    pub node_versions: BTreeMap<NodeId, Version>,
}

impl History {
    /// Takes in a leader's `state` observed at `now`.
    pub(crate) fn record(&mut self, state: &ClusterState, now: SystemTime) {
        for task in state.tasks().values() {
            match self.tasks.get_mut(&task.id) {
                Some(seen) => seen.update(task),
                None => {
                    self.tasks.insert(task.id.clone(), SeenTask::new(task, now));
                }
            }
        }
        for service in state.services().values() {
            let specs = std::iter::once(&service.spec).chain(service.previous_spec.as_ref());
            let start_first = specs
                .flat_map(|s| [&s.update_config, &s.rollback_config])
                .any(|c| {
                    c.as_ref()
                        .is_some_and(|c| c.order == UpdateOrder::StartFirst)
                });
            if start_first {
                self.start_first.insert(service.id.clone());
            }
        }
        for node in state.nodes().values() {
            let changed = self
                .node_versions
                .insert(node.id.clone(), node.meta.version)
                .is_some_and(|v| v != node.meta.version);
            if changed
                || node.status.state == NodeState::Down
                || node.spec.availability == NodeAvailability::Drain
            {
                self.node_failed_at
                    .entry(node.id.clone())
                    .or_default()
                    .push(now);
            }
        }
    }

    /// Whether a leader had `node` down or drained at an observation from `from` to `to`.
    pub fn node_failed_between(&self, node: &NodeId, from: SystemTime, to: SystemTime) -> bool {
        self.node_failed_at
            .get(node)
            .is_some_and(|times| times.iter().any(|t| *t >= from && *t <= to))
    }
}
