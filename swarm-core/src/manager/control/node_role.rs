//! Promotion and demotion: the desired role change and the Raft membership change it needs,
//! refused when it would lose quorum or remove the last manager (SwarmKit's controlapi
//! `UpdateNode` and raft `CanRemoveMember`).

use crate::manager::ca_server::{MAX_ID_DRAWS, new_raft_id};
use crate::manager::control::error::{ControlError, NodeRef};
use crate::manager::control::view::ClusterView;
use crate::manager::writes::MembershipChange;
use crate::mapping::store_member_id;
use crate::model::{ManagerStatus, Node, NodeRole, Reachability};
use swarm_store::MemberId;

/// The quorum of a Raft group of `members` voters: a strict majority (0 for none).
pub fn quorum(members: usize) -> usize {
    if members == 0 { 0 } else { members / 2 + 1 }
}

/// Whether the node records say the leader reaches this manager: the leader itself, or a
/// member whose reachability is [`Reachability::Reachable`].
pub fn is_reachable_member(node: &Node) -> bool {
    store_member_id(node).is_some()
        && node
            .manager_status
            .as_ref()
            .is_some_and(|m| m.leader || m.reachability == Reachability::Reachable)
}

/// Raft members (nodes with an assigned Raft id) and how many of them are reachable.
fn census(nodes: &[Node]) -> (usize, usize) {
    let members = nodes
        .iter()
        .filter(|n| store_member_id(n).is_some())
        .count();
    let reachable = nodes.iter().filter(|n| is_reachable_member(n)).count();
    (members, reachable)
}

/// The node with its new desired role, and the membership changes that role needs.
///
/// * To manager, for a node not in the Raft group: it needs an advertised address
///   ([`ControlError::NoAdvertiseAddr`]) and a fresh Raft id; the group after the change
///   (counting the new member as reachable, since it is promoted only once it caught up) must
///   keep a reachable quorum ([`ControlError::QuorumLoss`]); the changes are
///   [`MembershipChange::AddLearner`] then [`MembershipChange::Promote`]. A node still in the
///   group (a demotion not yet carried out) only gets its role back.
/// * To worker: another node must stay a manager ([`ControlError::LastManager`]); a Raft
///   member's removal must leave a reachable quorum of the remaining members
///   ([`ControlError::QuorumLoss`]), as SwarmKit's `CanRemoveMember`; the change is
///   [`MembershipChange::Remove`] (not forced). Its manager status stays until the loop has
///   removed it.
/// * The same role: no change.
pub(crate) fn change_role(
    view: ClusterView<'_>,
    node: &Node,
    role: NodeRole,
    rng: &mut dyn FnMut() -> u64,
) -> Result<(Node, Vec<MembershipChange>), ControlError> {
    let mut changed = node.clone();
    changed.spec.role = role;
    if node.spec.role == role {
        return Ok((changed, Vec::new()));
    }
    let (members, reachable) = census(view.nodes);
    match role {
        NodeRole::Manager => {
            if store_member_id(node).is_some() {
                return Ok((changed, Vec::new()));
            }
            if node.advertise_addr.is_empty() {
                return Err(ControlError::NoAdvertiseAddr {
                    node: NodeRef::of(node),
                });
            }
            let (members_after, reachable_after) = (members + 1, reachable + 1);
            if reachable_after < quorum(members_after) {
                return Err(ControlError::QuorumLoss {
                    node: NodeRef::of(node),
                    to: "promoting",
                    reachable_after,
                    members_after,
                    quorum_after: quorum(members_after),
                });
            }
            let raft_id = new_raft_id(rng, view.nodes).ok_or(ControlError::IdsExhausted {
                what: "raft id",
                draws: MAX_ID_DRAWS,
            })?;
            changed.manager_status = Some(ManagerStatus {
                raft_id,
                leader: false,
                reachability: Reachability::Unknown,
                addr: node.advertise_addr.clone(),
            });
            Ok((
                changed,
                vec![
                    MembershipChange::AddLearner {
                        member: MemberId(raft_id),
                        node: node.id.clone(),
                        addr: node.advertise_addr.clone(),
                    },
                    MembershipChange::Promote {
                        member: MemberId(raft_id),
                        node: node.id.clone(),
                    },
                ],
            ))
        }
        NodeRole::Worker => {
            let other_managers = view
                .nodes
                .iter()
                .filter(|n| n.id != node.id && n.spec.role == NodeRole::Manager)
                .count();
            if other_managers == 0 {
                return Err(ControlError::LastManager {
                    node: NodeRef::of(node),
                });
            }
            let Some(member) = store_member_id(node) else {
                return Ok((changed, Vec::new()));
            };
            let members_after = members.saturating_sub(1);
            let reachable_after = reachable - usize::from(is_reachable_member(node));
            if reachable_after < quorum(members_after) || members_after == 0 {
                return Err(ControlError::QuorumLoss {
                    node: NodeRef::of(node),
                    to: "demoting",
                    reachable_after,
                    members_after,
                    quorum_after: quorum(members_after),
                });
            }
            Ok((
                changed,
                vec![MembershipChange::Remove {
                    member,
                    node: node.id.clone(),
                    force: false,
                }],
            ))
        }
    }
}
