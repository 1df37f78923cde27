//! `node update`, `node promote` and `node demote` (SwarmKit's controlapi `UpdateNode`).

use crate::manager::control::error::{ControlError, NodeRef};
use crate::manager::control::node_query::find_node;
use crate::manager::control::node_role::change_role;
use crate::manager::control::view::ClusterView;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{NodeMembership, NodeRole, NodeSpec, Version};
use crate::validate::Validate;
use std::time::SystemTime;

/// A new spec for a node, for the version the caller read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeUpdate {
    /// The version of the node the spec was built from.
    pub version: Version,
    /// The whole new spec: name, labels, role, availability, membership.
    pub spec: NodeSpec,
}

/// `node update`: replaces the spec of the node `query` names ([`find_node`]).
///
/// Contract:
/// * refused with [`ControlError::NodeVersionConflict`] unless `update.version` is the node's
///   version;
/// * the spec is validated ([`ControlError::InvalidNodeSpec`], every broken rule named by
///   field); an accepted node cannot go back to pending ([`ControlError::MembershipChange`]);
/// * a role change follows the promotion and demotion rules (quorum, last manager, advertised
///   address) and yields its membership changes;
/// * on success the writes are one [`ManagerWrite::UpdateNode`] at the version read, with
///   `meta.updated_at = now`; an unchanged spec still writes (as SwarmKit does), so the caller
///   sees a new version.
pub fn update_node(
    view: ClusterView<'_>,
    query: &str,
    update: &NodeUpdate,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<ManagerWrites, ControlError> {
    let node = find_node(view.nodes, query)?;
    if update.version != node.meta.version {
        return Err(ControlError::NodeVersionConflict {
            node: NodeRef::of(node),
            expected: update.version,
            current: node.meta.version,
        });
    }
    update
        .spec
        .validate()
        .map_err(|source| ControlError::InvalidNodeSpec {
            node: NodeRef::of(node),
            source,
        })?;
    if node.spec.membership == NodeMembership::Accepted
        && update.spec.membership == NodeMembership::Pending
    {
        return Err(ControlError::MembershipChange {
            node: NodeRef::of(node),
            from: node.spec.membership,
            to: update.spec.membership,
        });
    }
    let (mut changed, membership) = change_role(view, node, update.spec.role, rng)?;
    changed.spec = update.spec.clone();
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::UpdateNode {
            node: changed,
            expected_version: node.meta.version,
        }],
        membership,
    })
}

/// `node promote` / `node demote`: [`update_node`] with only the desired role changed, at the
/// node's current version. A node that already has `role` is left alone (no writes), as the
/// docker CLI reports "already a manager/worker" without updating.
pub fn set_node_role(
    view: ClusterView<'_>,
    query: &str,
    role: NodeRole,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<ManagerWrites, ControlError> {
    let node = find_node(view.nodes, query)?;
    if node.spec.role == role {
        return Ok(ManagerWrites::default());
    }
    let update = NodeUpdate {
        version: node.meta.version,
        spec: NodeSpec {
            role,
            ..node.spec.clone()
        },
    };
    update_node(view, node.id.as_str(), &update, now, rng)
}
