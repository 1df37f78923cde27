//! A manager as agents see it: where to reach it and how much to prefer it.

use crate::model::NodeId;
use serde::{Deserialize, Serialize};

/// The weight the dispatcher gives every manager (SwarmKit's default observation weight).
pub const DEFAULT_MANAGER_WEIGHT: u32 = 10;

/// Most managers in a manager list. Raft groups have 3, 5 or 7 members; 64 leaves room for
/// learners while bounding the worst case: a heartbeat answer carries at most 64 entries (a
/// few KiB) and an agent's weighted choice scans at most 64.
pub const MAX_MANAGERS: usize = 64;

/// One manager of the list sent to agents with every heartbeat answer, so that they can move to
/// another manager when theirs fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedManager {
    /// The manager's node id.
    pub node: NodeId,
    /// The address agents reach it at (`host:port`).
    pub addr: String,
    /// How much to prefer it: agents choose a manager with probability proportional to
    /// `weight + 1` ([`DEFAULT_MANAGER_WEIGHT`] unless the loop knows better).
    pub weight: u32,
}

impl WeightedManager {
    /// A manager with the default weight.
    pub fn new(node: impl Into<NodeId>, addr: impl Into<String>) -> Self {
        WeightedManager {
            node: node.into(),
            addr: addr.into(),
            weight: DEFAULT_MANAGER_WEIGHT,
        }
    }
}
