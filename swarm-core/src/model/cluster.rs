//! The cluster object: cluster-wide settings that every manager applies.

use crate::model::ca_config::CaConfig;
use crate::model::dispatcher_config::DispatcherConfig;
use crate::model::encryption_config::{EncryptionConfig, ManagerUnlockKey};
use crate::model::ids::{ClusterId, NodeId};
use crate::model::join_tokens::ClusterJoinTokens;
use crate::model::meta::Meta;
use crate::model::orchestration_config::OrchestrationConfig;
use crate::model::raft_config::RaftConfig;
use crate::model::root_rotation::RootRotation;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// SwarmKit's name of the one cluster object.
pub const DEFAULT_CLUSTER_NAME: &str = "default";

/// Most removed nodes the cluster object remembers as revoked. An entry leaves the list when
/// the node's last certificate expires (at most the certificate expiry, 90 days by default),
/// so the list holds the nodes removed in that window. Worst case: 4,096 entries of about
/// 60 bytes each (a 25-character id and a time), 240 KiB in the cluster object; removing
/// one node more is refused until an entry expires.
pub const MAX_REVOKED_NODES: usize = 4096;

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
    /// Encryption of the managers' state at rest (autolock).
    pub encryption: EncryptionConfig,
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
            encryption: EncryptionConfig::default(),
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
    /// The current worker and manager join tokens, and the fingerprints of rotated ones.
    #[serde(default)]
    pub join_tokens: ClusterJoinTokens,
    /// Removed nodes whose certificates are refused at every handshake, each until its last
    /// certificate expires; at most [`MAX_REVOKED_NODES`] entries (SwarmKit's
    /// `BlacklistedCertificates`).
    #[serde(default)]
    pub revoked_nodes: BTreeMap<NodeId, SystemTime>,
    /// The managers' unlock key while autolock is on (`spec.encryption.auto_lock_managers`),
    /// `None` otherwise.
    #[serde(default)]
    pub unlock_key: Option<ManagerUnlockKey>,
    /// The root CA rotation in progress, if any (see
    /// [`root_rotation`](crate::manager::root_rotation)).
    #[serde(default)]
    pub root_rotation: Option<RootRotation>,
}
