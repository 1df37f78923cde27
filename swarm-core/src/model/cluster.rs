//! The cluster object: cluster-wide settings that every manager applies.

use crate::model::ca_config::CaConfig;
use crate::model::dispatcher_config::DispatcherConfig;
use crate::model::ids::ClusterId;
use crate::model::meta::Meta;
use crate::model::orchestration_config::OrchestrationConfig;
use crate::model::raft_config::RaftConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// SwarmKit's name of the one cluster object.
pub const DEFAULT_CLUSTER_NAME: &str = "default";

/// Cluster-wide settings.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::model::ClusterSpec;
///
/// let spec = ClusterSpec::default();
/// assert_eq!(spec.name, "default");
/// assert_eq!(spec.orchestration.task_history_retention_limit, 5);
/// assert_eq!(spec.dispatcher.heartbeat_grace_period(), Duration::from_secs(2));
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
