//! Which root certificates to trust right now.

use crate::model::Cluster;
use swarm_secrets::tls::ClusterTrust;
use swarm_secrets::{RevocationList, SecretsError};

/// The root certificates (DER) every node and manager must trust now: the cluster's current
/// root (`current_root_der`, from the current root CA record) and, during a root rotation,
/// also the root rotated to. Outside a rotation, and once it finished, only the current root.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::root_rotation::trusted_roots;
/// use swarm_core::model::{Cluster, RootRotation};
///
/// let mut cluster = Cluster::default();
/// assert_eq!(trusted_roots(&cluster, b"old"), vec![&b"old"[..]]);
/// cluster.root_rotation = Some(RootRotation {
///     old_root_cert_der: b"old".to_vec(),
///     new_root_cert_der: b"new".to_vec(),
///     started_at: SystemTime::UNIX_EPOCH,
/// });
/// assert_eq!(trusted_roots(&cluster, b"old"), vec![&b"old"[..], &b"new"[..]]);
/// ```
pub fn trusted_roots<'a>(cluster: &'a Cluster, current_root_der: &'a [u8]) -> Vec<&'a [u8]> {
    let mut roots = vec![current_root_der];
    if let Some(rotation) = &cluster.root_rotation
        && rotation.new_root_cert_der.as_slice() != current_root_der
    {
        roots.push(rotation.new_root_cert_der.as_slice());
    }
    roots
}

/// A [`ClusterTrust`] for the cluster's id over [`trusted_roots`], refusing the node ids in
/// `revocations`: what the loops give every TLS verifier, rebuilt whenever the cluster
/// object's rotation changes. Fails if the cluster id or a root certificate is not usable.
pub fn cluster_trust(
    cluster: &Cluster,
    current_root_der: &[u8],
    revocations: RevocationList,
) -> Result<ClusterTrust, SecretsError> {
    let id = swarm_secrets::ClusterId::new(cluster.id.as_str())?;
    let mut roots = trusted_roots(cluster, current_root_der).into_iter();
    let first = roots.next().unwrap_or(current_root_der);
    roots.try_fold(ClusterTrust::new(first, id, revocations)?, |trust, root| {
        trust.with_additional_root(root)
    })
}
