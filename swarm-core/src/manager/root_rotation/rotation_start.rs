//! `swarm ca --rotate`: the rotation recorded and the new root stored.

use crate::manager::ca_server::current_tokens;
use crate::manager::root_rotation::rotation_error::RotationError;
use crate::manager::state::{RootCaSlot, StoredRootCa};
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, RootRotation};
use std::time::SystemTime;
use swarm_secrets::{CaDigest, ClusterCa};

/// Starts a root CA rotation to `new_ca` (SwarmKit's `validateCAConfig` with a new signing
/// root). `current_root_der` is the current root record's certificate.
///
/// Contract:
/// * `new_ca` must serve the cluster's id ([`RotationError::OtherCluster`]) and differ from
///   the current root ([`RotationError::SameRoot`]); the current root must be the one the
///   join tokens pin ([`RotationError::ClusterState`] otherwise);
/// * while a rotation is in progress: to the same new root the call changes nothing (no
///   writes: a retried request is harmless); to another root it is refused with
///   [`RotationError::InProgress`]. SwarmKit lets a new rotation supersede the running one,
///   because its new roots are cross-signed by the old one; here trust in both roots is what
///   keeps nodes connected, so superseding would cut off nodes already renewed from the
///   superseded root;
/// * otherwise the writes are, in one transaction, the cluster object at the version read
///   with a [`RootRotation`] (both root certificates, `started_at = now`) and
///   `meta.updated_at = now`, and [`ManagerWrite::PutRootCa`] of the new root's certificate
///   and key in [`RootCaSlot::Rotation`] (guarded by the cluster object's version check).
///   Join tokens are unchanged: they keep pinning the old root until the rotation finishes.
///
/// From the next read on, [`RootCaSlot::issuing`] names the new root: joins and renewals issue
/// from it, and [`trusted_roots`](super::trusted_roots) holds both roots.
pub fn start_root_rotation(
    cluster: &Cluster,
    current_root_der: &[u8],
    new_ca: &ClusterCa,
    now: SystemTime,
) -> Result<ManagerWrites, RotationError> {
    if new_ca.cluster_id().as_str() != cluster.id.as_str() {
        return Err(RotationError::OtherCluster {
            cluster: cluster.id.clone(),
            ca_cluster: new_ca.cluster_id().as_str().to_owned(),
        });
    }
    let (worker, _) =
        current_tokens(&cluster.join_tokens).map_err(|e| RotationError::ClusterState {
            reason: e.to_string(),
        })?;
    let current = CaDigest::of_certificate(current_root_der);
    if worker.ca_digest() != current {
        return Err(RotationError::ClusterState {
            reason: "the join tokens pin another root CA than the current root CA record"
                .to_owned(),
        });
    }
    let new_root = new_ca.digest();
    if new_root == current {
        return Err(RotationError::SameRoot { root: current });
    }
    if let Some(running) = &cluster.root_rotation {
        let running_root = running.new_root();
        if running_root == new_root {
            return Ok(ManagerWrites::default());
        }
        return Err(RotationError::InProgress {
            new_root: running_root,
            started_at: running.started_at,
        });
    }
    let mut changed = cluster.clone();
    changed.root_rotation = Some(RootRotation {
        old_root_cert_der: current_root_der.to_vec(),
        new_root_cert_der: new_ca.cert_der().to_vec(),
        started_at: now,
    });
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![
            ManagerWrite::UpdateCluster {
                cluster: changed,
                expected_version: cluster.meta.version,
            },
            ManagerWrite::PutRootCa {
                slot: RootCaSlot::Rotation,
                root: StoredRootCa::from_ca(new_ca),
            },
        ],
        membership: Vec::new(),
    })
}
