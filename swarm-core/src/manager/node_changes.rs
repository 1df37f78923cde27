//! Which nodes' assignment sets may have changed since a point in a [`ClusterState`]'s history.
//!
//! The leader holds one assignment call per node open (a long poll) and must answer it when the
//! node's set changes. Recomputing every node's set at every change of the state costs
//! O(nodes × tasks per node) per change: with a thousand nodes and a hundred tasks each, a
//! hundred thousand task lookups for every committed chunk or status report. A
//! [`NodeChanges`] lets a waiting call skip that when nothing it depends on moved: a task put
//! on, changed on or taken off its node, its node record, or (for every node) any secret,
//! config or removed node record.
//!
//! [`ClusterState`]: crate::manager::cluster_state::ClusterState

use crate::model::NodeId;
use std::collections::BTreeMap;

/// A change counter, and for each node the counter at its last change (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeChanges {
    /// Grows by one at every recorded change.
    seq: u64,
    /// The counter at the last change of each node's tasks or record (one entry per node
    /// record or node with tasks seen; a removed node record's entry goes).
    by_node: BTreeMap<NodeId, u64>,
    /// The counter at the last change that concerns every node.
    all_at: u64,
}

impl NodeChanges {
    /// The counter now.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Records a change of `node`'s tasks or record.
    pub(crate) fn touch(&mut self, node: &NodeId) {
        self.seq += 1;
        match self.by_node.get_mut(node) {
            Some(at) => *at = self.seq,
            None => {
                self.by_node.insert(node.clone(), self.seq);
            }
        }
    }

    /// Records a change that concerns every node (a secret, a config).
    pub(crate) fn touch_all(&mut self) {
        self.seq += 1;
        self.all_at = self.seq;
    }

    /// Forgets `node` (its record is gone), as a change of every node.
    pub(crate) fn forget(&mut self, node: &NodeId) {
        self.by_node.remove(node);
        self.touch_all();
    }

    /// Whether a change of `node`, or of every node, was recorded after the counter was `seq`.
    pub(crate) fn changed_since(&self, node: &NodeId, seq: u64) -> bool {
        self.all_at > seq || self.by_node.get(node).is_some_and(|at| *at > seq)
    }
}
