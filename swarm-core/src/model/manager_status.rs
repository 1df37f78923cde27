//! Raft membership of a manager node.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the other managers can reach a manager.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    /// Not yet known.
    #[default]
    Unknown,
    /// The manager cannot be reached by the leader.
    Unreachable,
    /// The manager answers the leader.
    Reachable,
}

impl fmt::Display for Reachability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reachability::Unknown => "unknown",
            Reachability::Unreachable => "unreachable",
            Reachability::Reachable => "reachable",
        })
    }
}

/// A manager's place in the Raft group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagerStatus {
    /// The Raft member id.
    pub raft_id: u64,
    /// Whether this manager is the current leader.
    pub leader: bool,
    /// Whether the leader can reach it.
    pub reachability: Reachability,
    /// The address other managers reach it at (`host:port`).
    pub addr: String,
}
