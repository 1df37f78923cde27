//! The cluster object: cluster-wide settings that every manager applies.

use crate::model::ids::ClusterId;
use crate::model::meta::Meta;
use crate::model::task::DEFAULT_TASK_HISTORY_RETENTION_LIMIT;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// SwarmKit's name of the one cluster object.
pub const DEFAULT_CLUSTER_NAME: &str = "default";
/// SwarmKit's default agent heartbeat period: 5 seconds.
pub const DEFAULT_HEARTBEAT_PERIOD: Duration = Duration::from_secs(5);
/// SwarmKit marks a node down after this many heartbeat periods without one.
pub const DEFAULT_HEARTBEAT_GRACE_MULTIPLIER: u32 = 3;
/// SwarmKit's default Raft snapshot interval: every 10,000 log entries.
pub const DEFAULT_SNAPSHOT_INTERVAL_ENTRIES: u64 = 10_000;
/// SwarmKit's Raft leader heartbeat: one tick of 1 second.
pub const DEFAULT_RAFT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// SwarmKit's Raft election timeout: 10 ticks of 1 second (randomized up to twice that).
pub const DEFAULT_ELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// SwarmKit's default validity of node certificates: 90 days.
pub const DEFAULT_NODE_CERT_EXPIRY: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// How orchestrators keep task history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrchestrationConfig {
    /// Ended tasks kept per slot (or per node for global services); older ones are deleted.
    pub task_history_retention_limit: u64,
}

impl Default for OrchestrationConfig {
    fn default() -> Self {
        OrchestrationConfig {
            task_history_retention_limit: DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
        }
    }
}

/// How managers watch agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatcherConfig {
    /// How often agents heartbeat.
    pub heartbeat_period: Duration,
    /// A node is marked down after `heartbeat_period × heartbeat_grace_multiplier` without a
    /// heartbeat, and its tasks are replaced elsewhere.
    pub heartbeat_grace_multiplier: u32,
}

impl DispatcherConfig {
    /// Time without a heartbeat after which a node is down.
    pub fn heartbeat_grace_period(&self) -> Duration {
        self.heartbeat_period
            .saturating_mul(self.heartbeat_grace_multiplier)
    }
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            heartbeat_period: DEFAULT_HEARTBEAT_PERIOD,
            heartbeat_grace_multiplier: DEFAULT_HEARTBEAT_GRACE_MULTIPLIER,
        }
    }
}

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

/// The cluster certificate authority's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaConfig {
    /// Validity of the certificates issued to nodes.
    pub node_cert_expiry: Duration,
}

impl Default for CaConfig {
    fn default() -> Self {
        CaConfig {
            node_cert_expiry: DEFAULT_NODE_CERT_EXPIRY,
        }
    }
}

/// Cluster-wide settings.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::model::ClusterSpec;
///
/// let spec = ClusterSpec::default();
/// assert_eq!(spec.name, "default");
/// assert_eq!(spec.orchestration.task_history_retention_limit, 5);
/// assert_eq!(spec.dispatcher.heartbeat_grace_period(), Duration::from_secs(15));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSpec {
    /// The cluster's name, [`DEFAULT_CLUSTER_NAME`] unless changed.
    pub name: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Task history.
    pub orchestration: OrchestrationConfig,
    /// Heartbeats and failure detection.
    pub dispatcher: DispatcherConfig,
    /// Raft tuning.
    pub raft: RaftConfig,
    /// Certificate authority.
    pub ca_config: CaConfig,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            name: DEFAULT_CLUSTER_NAME.to_owned(),
            labels: BTreeMap::new(),
            orchestration: OrchestrationConfig::default(),
            dispatcher: DispatcherConfig::default(),
            raft: RaftConfig::default(),
            ca_config: CaConfig::default(),
        }
    }
}

/// The cluster as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// The cluster's id.
    pub id: ClusterId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// The settings.
    #[serde(default)]
    pub spec: ClusterSpec,
}
