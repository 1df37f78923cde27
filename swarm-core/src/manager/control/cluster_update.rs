//! `swarm update` (SwarmKit's controlapi `UpdateCluster`, settings part).

use crate::manager::control::error::ControlError;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, ClusterSpec, Version};
use crate::validate::Validate;
use std::time::SystemTime;

/// New settings for the cluster, for the version the caller read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterUpdate {
    /// The version of the cluster object the spec was built from.
    pub version: Version,
    /// The whole new spec: heartbeat period, task history limit, certificate expiry, Raft
    /// timings, autolock, labels.
    pub spec: ClusterSpec,
}

/// `swarm update`: replaces the cluster's settings.
///
/// Contract:
/// * refused with [`ControlError::ClusterVersionConflict`] unless `update.version` is the
///   cluster object's version;
/// * the name cannot change ([`ControlError::ClusterNameImmutable`]);
/// * the spec is validated ([`ControlError::InvalidClusterSpec`], every broken rule named by
///   its field, e.g. `dispatcher.heartbeat_period` or `ca_config.node_cert_expiry`);
/// * on success the only write is the cluster object with the new spec, `meta.updated_at =
///   now`, at the version read; tokens and revocations are unchanged. A new certificate
///   expiry applies to certificates issued from then on; a change of `encryption` asks the
///   loop to lock or unlock the keyring.
pub fn update_cluster(
    cluster: &Cluster,
    update: &ClusterUpdate,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    if update.version != cluster.meta.version {
        return Err(ControlError::ClusterVersionConflict {
            cluster: cluster.spec.name.clone(),
            expected: update.version,
            current: cluster.meta.version,
        });
    }
    if update.spec.name != cluster.spec.name {
        return Err(ControlError::ClusterNameImmutable {
            current: cluster.spec.name.clone(),
            requested: update.spec.name.clone(),
        });
    }
    update
        .spec
        .validate()
        .map_err(ControlError::InvalidClusterSpec)?;
    let mut changed = cluster.clone();
    changed.spec = update.spec.clone();
    changed.meta.updated_at = now;
    super::unlock_key::settle_unlock_key(&mut changed)?;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::UpdateCluster {
            cluster: changed,
            expected_version: cluster.meta.version,
        }],
        membership: Vec::new(),
    })
}
