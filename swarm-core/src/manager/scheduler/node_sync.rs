//! Bringing the engine's nodes in line with the node records.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::SchedulerProblem;
use crate::manager::scheduler::engine_mirror::{EngineMirror, NodeKey};
use crate::model::{NodeId, Version};
use swarm_sched::{Delta, NodeSpec};

/// The label key the scheduler's tie-breaking spread level groups by: no node carries it to
/// the engine (see the module docs).
pub(super) const TIE_BREAK_LABEL: &str = "";

/// How the node records differ from what the engine holds.
#[derive(Default)]
struct NodeChanges {
    /// A node the engine holds is gone from the state or no longer converts.
    gone: bool,
    /// Nodes held at another version.
    updated: Vec<(NodeId, Version, NodeSpec)>,
    /// Nodes not held yet, in key order.
    added: Vec<(NodeKey, Version, NodeSpec)>,
}

impl EngineMirror {
    /// Adds, updates and removes the engine's nodes. Nodes are added in key order; a node
    /// removed, refused on update, or added with a key below one already held starts the
    /// engine over (its tasks are charged again by the task pass), so the engine's slot order
    /// is always the key order.
    pub(super) fn sync_nodes(&mut self, state: &ClusterState) {
        let changes = self.node_changes(state);
        if !self.try_apply(changes) {
            self.reset_engine();
            // Holding nothing, the engine can take every change in key order.
            let changes = self.node_changes(state);
            let applied = self.try_apply(changes);
            debug_assert!(applied, "an empty engine takes the nodes in key order");
        }
        self.refused_nodes
            .retain(|id, (version, _)| state.node(id).is_some_and(|n| n.meta.version == *version));
    }

    fn node_changes(&mut self, state: &ClusterState) -> NodeChanges {
        let mut changes = NodeChanges::default();
        let mut seen = 0;
        for node in state.nodes().values() {
            let version = node.meta.version;
            let held = self.nodes.get(&node.id).copied();
            if held == Some(version) {
                seen += 1;
                continue;
            }
            if held.is_none()
                && self
                    .refused_nodes
                    .get(&node.id)
                    .is_some_and(|(v, _)| *v == version)
            {
                continue;
            }
            self.refused_nodes.remove(&node.id);
            match NodeSpec::try_from(node) {
                Ok(mut spec) => {
                    spec.labels.remove(TIE_BREAK_LABEL);
                    if held.is_some() {
                        seen += 1;
                        changes.updated.push((node.id.clone(), version, spec));
                    } else {
                        let key = (node.meta.created_at, node.id.clone());
                        changes.added.push((key, version, spec));
                    }
                }
                Err(source) => {
                    let problem = SchedulerProblem::NodeNotConverted {
                        node: node.id.clone(),
                        source,
                    };
                    self.refused_nodes
                        .insert(node.id.clone(), (version, problem));
                    changes.gone |= held.is_some();
                }
            }
        }
        changes.gone |= seen < self.nodes.len();
        changes.added.sort_by(|a, b| a.0.cmp(&b.0));
        changes
    }

    /// Applies `changes`, or returns `false` when the engine must start over first.
    fn try_apply(&mut self, changes: NodeChanges) -> bool {
        let out_of_order = match (changes.added.first(), &self.last_node_key) {
            (Some((first, ..)), Some(last)) => first <= last,
            _ => false,
        };
        if changes.gone || out_of_order {
            return false;
        }
        for (id, version, spec) in changes.updated {
            if let Err(source) = self.engine.apply(Delta::NodeUpdated(spec)) {
                let problem = SchedulerProblem::NodeRefused {
                    node: id.clone(),
                    source,
                };
                self.refused_nodes.insert(id, (version, problem));
                return false;
            }
            self.nodes.insert(id, version);
        }
        for (key, version, spec) in changes.added {
            let id = key.1.clone();
            match self.engine.apply(Delta::NodeAdded(spec)) {
                Ok(()) => {
                    self.nodes.insert(id, version);
                    self.last_node_key = Some(key);
                }
                Err(source) => {
                    let problem = SchedulerProblem::NodeRefused {
                        node: id.clone(),
                        source,
                    };
                    self.refused_nodes.insert(id, (version, problem));
                }
            }
        }
        true
    }
}
