//! Raft tuning of the managers.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// SwarmKit's default Raft snapshot interval: every 10,000 log entries.
pub const DEFAULT_SNAPSHOT_INTERVAL_ENTRIES: u64 = 10_000;
/// SwarmKit's Raft leader heartbeat: one tick of 1 second.
pub const DEFAULT_RAFT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// SwarmKit's Raft election timeout: 10 ticks of 1 second (randomized up to twice that).
pub const DEFAULT_ELECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Raft tuning of the managers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RaftConfig {
    /// Log entries between two snapshots.
    pub snapshot_interval_entries: u64,
    /// How often the leader heartbeats followers.
    pub heartbeat_interval: Duration,
    /// How long a follower waits for the leader before starting an election; must exceed
    /// `heartbeat_interval`.
    pub election_timeout: Duration,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            snapshot_interval_entries: DEFAULT_SNAPSHOT_INTERVAL_ENTRIES,
            heartbeat_interval: DEFAULT_RAFT_HEARTBEAT_INTERVAL,
            election_timeout: DEFAULT_ELECTION_TIMEOUT,
        }
    }
}
