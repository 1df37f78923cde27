//! A node's liveness as seen by the managers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Liveness of a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Not heard from yet.
    #[default]
    Unknown,
    /// Its agent heartbeats in time; tasks may be placed on it.
    Ready,
    /// It missed its heartbeat grace period or left; its tasks are replaced elsewhere.
    Down,
    /// Its session dropped and it has not come back yet.
    Disconnected,
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeState::Unknown => "unknown",
            NodeState::Ready => "ready",
            NodeState::Down => "down",
            NodeState::Disconnected => "disconnected",
        })
    }
}

/// The observed status of a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeStatus {
    /// Liveness.
    pub state: NodeState,
    /// Why it is in that state, e.g. `"heartbeat failure"`.
    pub message: String,
    /// The address the node's agent connects from, as seen by the manager.
    pub addr: String,
}
