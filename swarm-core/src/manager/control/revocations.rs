//! The cluster object's revocation list: removed nodes whose certificates are refused.

use crate::model::{Cluster, MAX_REVOKED_NODES, NodeId};
use crate::validate::MAX_NODE_CERT_EXPIRY;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The ids revoked at `now` (entries whose certificates have not expired), as swarm-secrets
/// ids for [`swarm_secrets::RevocationList::replace`]; an id that is not a certificate name
/// cannot be presented in a handshake and is skipped.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use swarm_core::manager::control::revoked_node_ids;
/// use swarm_core::model::{Cluster, NodeId};
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
/// let mut cluster = Cluster::default();
/// cluster.revoked_nodes.insert(NodeId::new("gone"), now + Duration::from_secs(1));
/// cluster.revoked_nodes.insert(NodeId::new("expired"), now);
/// let list = swarm_secrets::RevocationList::new();
/// list.replace(revoked_node_ids(&cluster, now));
/// assert!(list.is_revoked(&swarm_secrets::NodeId::new("gone")?));
/// assert_eq!(list.len(), 1);
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub fn revoked_node_ids(cluster: &Cluster, now: SystemTime) -> Vec<swarm_secrets::NodeId> {
    cluster
        .revoked_nodes
        .iter()
        .filter(|(_, until)| **until > now)
        .filter_map(|(id, _)| swarm_secrets::NodeId::try_from(id).ok())
        .collect()
}

/// Adds `node` to `revoked` until `until` (its certificate's expiry; when unknown, `now` plus
/// the longest certificate validity), after dropping entries that expired at `now`. Returns
/// `false` (and changes nothing but the pruning) when the list would exceed
/// [`MAX_REVOKED_NODES`].
pub(crate) fn revoke(
    revoked: &mut BTreeMap<NodeId, SystemTime>,
    node: &NodeId,
    until: Option<SystemTime>,
    now: SystemTime,
) -> bool {
    revoked.retain(|_, expires| *expires > now);
    let until = until.unwrap_or_else(|| now.checked_add(MAX_NODE_CERT_EXPIRY).unwrap_or(now));
    if until <= now {
        // The certificate has expired: no handshake can present it any more.
        return true;
    }
    if !revoked.contains_key(node) && revoked.len() >= MAX_REVOKED_NODES {
        return false;
    }
    let entry = revoked.entry(node.clone()).or_insert(until);
    *entry = (*entry).max(until);
    true
}
