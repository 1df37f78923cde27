//! Whether a node must renew its certificate at once.

use crate::model::{Cluster, Node};

/// Whether `node` must renew its certificate now, whatever its renewal time: a root rotation
/// is in progress and the node's last certificate was not issued by the new root (an unknown
/// issuer, from a record written before issuers were kept, counts as the old root). The
/// dispatcher says so in its heartbeat answer; the node renews over its current connection.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::root_rotation::must_renew_now;
/// use swarm_core::model::{Cluster, Node, RootRotation};
/// use swarm_secrets::CaDigest;
///
/// let mut cluster = Cluster::default();
/// let mut node = Node::default();
/// assert!(!must_renew_now(&node, &cluster));
/// cluster.root_rotation = Some(RootRotation {
///     old_root_cert_der: b"old root".to_vec(),
///     new_root_cert_der: b"new root".to_vec(),
///     started_at: SystemTime::UNIX_EPOCH,
/// });
/// node.certificate_root = Some(CaDigest::of_certificate(b"old root"));
/// assert!(must_renew_now(&node, &cluster));
/// node.certificate_root = Some(CaDigest::of_certificate(b"new root"));
/// assert!(!must_renew_now(&node, &cluster));
/// ```
pub fn must_renew_now(node: &Node, cluster: &Cluster) -> bool {
    cluster
        .root_rotation
        .as_ref()
        .is_some_and(|rotation| node.certificate_root != Some(rotation.new_root()))
}
