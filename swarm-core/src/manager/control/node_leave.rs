//! `swarm leave` as the managers see it: a node leaving on its own.

use crate::manager::control::error::{ControlError, NodeRef};
use crate::manager::control::view::ClusterView;
use crate::manager::writes::{ManagerWrite, ManagerWrites, MembershipChange};
use crate::mapping::store_member_id;
use crate::model::{NodeId, NodeRole, NodeState};
use std::time::SystemTime;

/// The status message of a node that left.
pub const LEFT_MESSAGE: &str = "node left the swarm";

/// A node leaves the cluster (`swarm leave`): its record stays, marked down, until an
/// operator removes it, as docker shows a left worker in `node ls`.
///
/// Contract:
/// * the node is named by its exact id (it knows its own) ([`ControlError::NodeNotFound`]);
/// * a manager (desired role manager, or a Raft member) is refused with
///   [`ControlError::ManagerNotDemoted`] unless `force`;
/// * on success the writes are the node at its version with state down, message
///   [`LEFT_MESSAGE`], desired role worker and `meta.updated_at = now`; for a forced
///   manager that is a Raft member with other members left, also
///   [`MembershipChange::Remove`] with `force` (no quorum guard: the operator chose to
///   leave). Its manager status stays until the loop has removed it.
pub fn leave_node(
    view: ClusterView<'_>,
    id: &NodeId,
    force: bool,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let node =
        view.nodes
            .iter()
            .find(|n| n.id == *id)
            .ok_or_else(|| ControlError::NodeNotFound {
                query: id.to_string(),
            })?;
    let member = store_member_id(node);
    if !force && (node.spec.role == NodeRole::Manager || member.is_some()) {
        return Err(ControlError::ManagerNotDemoted {
            node: NodeRef::of(node),
            role: node.spec.role,
            raft_member: member.is_some(),
            action: "leave",
        });
    }
    let mut left = node.clone();
    left.spec.role = NodeRole::Worker;
    left.status.state = NodeState::Down;
    left.status.message = LEFT_MESSAGE.to_owned();
    left.meta.updated_at = now;
    let others = view
        .nodes
        .iter()
        .filter(|n| n.id != node.id && store_member_id(n).is_some())
        .count();
    let membership = match member {
        Some(member) if others > 0 => vec![MembershipChange::Remove {
            member,
            node: node.id.clone(),
            force: true,
        }],
        _ => Vec::new(),
    };
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::UpdateNode {
            node: left,
            expected_version: node.meta.version,
        }],
        membership,
    })
}
