//! `node rm` (SwarmKit's controlapi `RemoveNode`).

use crate::manager::control::error::{ControlError, NodeRef};
use crate::manager::control::node_query::find_node;
use crate::manager::control::revocations::revoke;
use crate::manager::control::view::ClusterView;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::mapping::store_member_id;
use crate::model::{MAX_REVOKED_NODES, NodeRole, NodeState};
use std::time::SystemTime;

/// `node rm`: deletes the node `query` names and revokes its certificate.
///
/// Contract:
/// * a manager (desired role manager, or still a Raft member) is refused with
///   [`ControlError::ManagerNotDemoted`], force or not: demote it first;
/// * a node that is not down is refused with [`ControlError::NodeNotDown`] unless `force`;
/// * on success the writes are, in one transaction, the cluster object with the node added
///   to `revoked_nodes` until its last certificate expires (expired entries dropped), at the
///   cluster's version, and the node's deletion at its version; the node can then neither
///   handshake nor rejoin under its id (the loops feed [`revoked_node_ids`] to every TLS
///   verifier's revocation list);
/// * a full revocation list is [`ControlError::RevocationListFull`] and nothing is written.
///
/// [`revoked_node_ids`]: super::revoked_node_ids
pub fn remove_node(
    view: ClusterView<'_>,
    query: &str,
    force: bool,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let node = find_node(view.nodes, query)?;
    let raft_member = store_member_id(node).is_some();
    if node.spec.role == NodeRole::Manager || raft_member {
        return Err(ControlError::ManagerNotDemoted {
            node: NodeRef::of(node),
            role: node.spec.role,
            raft_member,
            action: "be removed",
        });
    }
    if !force && node.status.state != NodeState::Down {
        return Err(ControlError::NodeNotDown {
            node: NodeRef::of(node),
            state: node.status.state,
        });
    }
    let mut cluster = view.cluster.clone();
    if !revoke(
        &mut cluster.revoked_nodes,
        &node.id,
        node.certificate_not_after,
        now,
    ) {
        return Err(ControlError::RevocationListFull {
            node: NodeRef::of(node),
            limit: MAX_REVOKED_NODES,
        });
    }
    cluster.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version: view.cluster.meta.version,
            },
            ManagerWrite::DeleteNode {
                id: node.id.clone(),
                expected_version: node.meta.version,
            },
        ],
        membership: Vec::new(),
    })
}
