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
    /// changed since the previous observation (it may have been down and back in between),
    /// or removed since.
    pub node_failed_at: BTreeMap<NodeId, Vec<SystemTime>>,
    /// The version of every node record at the last observation.
    pub node_versions: BTreeMap<NodeId, Version>,
}

impl History {
    /// Takes in a leader's `state` observed at `now`.
    pub(crate) fn record(&mut self, state: &ClusterState, now: SystemTime) {
        for (id, seen) in &mut self.tasks {
            if !state.tasks().contains_key(id) {
                seen.absent = true;
            }
        }
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
        // A node removed since the previous observation failed too (its tasks are replaced
        // at once); noted once, at the first observation without it.
        let removed: Vec<NodeId> = self
            .node_versions
            .keys()
            .filter(|id| !state.nodes().contains_key(*id))
            .cloned()
            .collect();
        for id in removed {
            self.node_versions.remove(&id);
            self.node_failed_at.entry(id).or_default().push(now);
        }
    }

    /// Whether a leader had `node` down or drained at an observation from `from` to `to`.
    pub fn node_failed_between(&self, node: &NodeId, from: SystemTime, to: SystemTime) -> bool {
        self.node_failed_at
            .get(node)
            .is_some_and(|times| times.iter().any(|t| *t >= from && *t <= to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::invariants::fixture::ready_node;

    fn at(secs: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(secs)
    }

    /// Seed 1830: a node removed (`node rm --force`) between two observations has its tasks
    /// replaced at once; the history must count it failed, else the replacement of a task that
    /// had just crashed there reads as a restart before its delay.
    #[test]
    fn seed_1830_a_removed_node_counts_as_failed_once() {
        let mut state = ClusterState::new();
        state.put_node(ready_node("n1"));
        let mut history = History::default();
        history.record(&state, at(1.0));
        assert!(!history.node_failed_between(&"n1".into(), at(0.0), at(10.0)));
        history.record(&ClusterState::new(), at(2.0));
        history.record(&ClusterState::new(), at(3.0));
        assert!(history.node_failed_between(&"n1".into(), at(1.5), at(2.5)));
        assert_eq!(
            history
                .node_failed_at
                .get(&NodeId::from("n1"))
                .map(Vec::len),
            Some(1)
        );
    }

    /// Seed 6854: a task deleted between two observations is marked absent (it may never
    /// have shown its stop order); a leader whose copy holds it again clears the mark.
    #[test]
    fn a_task_no_longer_in_the_leaders_state_is_absent_until_seen_again() {
        use crate::model::Task;
        let task = Task::new("t".into(), "s".into(), Default::default(), at(0.0));
        let mut state = ClusterState::new();
        state.put_task(task.clone());
        let mut history = History::default();
        history.record(&state, at(1.0));
        let absent = |h: &History| h.tasks.get(&task.id).map(|s| s.absent);
        assert_eq!(absent(&history), Some(false));
        history.record(&ClusterState::new(), at(2.0));
        assert_eq!(absent(&history), Some(true));
        history.record(&state, at(3.0));
        assert_eq!(absent(&history), Some(false));
    }
}
