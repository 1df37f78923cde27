//! The Raft group follows the node records: the leader's reconcile step (SwarmKit's
//! `manager/role_manager.go`).
//!
//! A node record whose desired role is manager and which has a Raft id belongs in the group; a
//! member whose record is gone or says worker does not. Joining, promotion and demotion only
//! write node records; this step, run by the leader on a timer and after every change, turns
//! the difference into one membership change at a time (Raft changes membership one step at a
//! time), so a change interrupted by a leader failure is finished by the next leader.

use crate::manager::writes::{ManagerWrite, ManagerWrites, MembershipChange};
use crate::mapping::store_member_id;
use crate::model::{Node, NodeRole};
use std::time::SystemTime;
use swarm_store::MemberId;

/// A member of the Raft group as the step sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaftMember {
    /// Its id.
    pub id: MemberId,
    /// Whether it votes (else it is a learner).
    pub voter: bool,
}

/// What the group needs next.
///
/// Contract:
/// * at most one [`MembershipChange`], in this order of priority: remove a member whose node
///   record is gone or has the worker role (the leader's own removal is asked last, after every
///   other change, and the loop moves leadership away before it); add as learner a node whose
///   record has the manager role and a Raft id that is not in the group; promote a learner
///   whose record has the manager role;
/// * writes: the manager status of every worker-role record that still has one but whose Raft
///   id is no longer in the group is cleared (the demotion is then complete), with the version
///   read;
/// * nothing when records and group agree. Pure: the same input gives the same output.
pub fn reconcile_membership(
    nodes: &[Node],
    members: &[RaftMember],
    leader: MemberId,
    now: SystemTime,
) -> ManagerWrites {
    let record = |id: MemberId| nodes.iter().find(|n| store_member_id(n) == Some(id));
    let in_group = |id: MemberId| members.iter().any(|m| m.id == id);
    let mut out = ManagerWrites::default();

    for node in nodes {
        if node.spec.role == NodeRole::Worker
            && store_member_id(node).is_some_and(|id| !in_group(id))
        {
            let mut cleared = node.clone();
            cleared.manager_status = None;
            cleared.meta.updated_at = now;
            out.writes.push(ManagerWrite::UpdateNode {
                node: cleared,
                expected_version: node.meta.version,
            });
        }
    }

    let leaving = |m: &&RaftMember| record(m.id).is_none_or(|n| n.spec.role == NodeRole::Worker);
    let change = members
        .iter()
        .filter(leaving)
        .find(|m| m.id != leader)
        .map(|m| MembershipChange::Remove {
            member: m.id,
            node: record(m.id).map(|n| n.id.clone()).unwrap_or_default(),
            force: false,
        })
        .or_else(|| {
            nodes
                .iter()
                .filter(|n| n.spec.role == NodeRole::Manager)
                .find_map(|n| {
                    let id = store_member_id(n)?;
                    let addr = n.manager_status.as_ref().map(|m| m.addr.clone())?;
                    match members.iter().find(|m| m.id == id) {
                        None => Some(MembershipChange::AddLearner {
                            member: id,
                            node: n.id.clone(),
                            addr,
                        }),
                        Some(m) if !m.voter => Some(MembershipChange::Promote {
                            member: id,
                            node: n.id.clone(),
                        }),
                        Some(_) => None,
                    }
                })
        })
        .or_else(|| {
            members
                .iter()
                .filter(leaving)
                .find(|m| m.id == leader)
                .map(|m| MembershipChange::Remove {
                    member: m.id,
                    node: record(m.id).map(|n| n.id.clone()).unwrap_or_default(),
                    force: false,
                })
        });
    out.membership.extend(change);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ManagerStatus, NodeId, Version};

    fn node(id: &str, role: NodeRole, raft: Option<u64>) -> Node {
        let mut n = Node {
            id: NodeId::new(id),
            ..Node::default()
        };
        n.spec.role = role;
        n.meta.version = Version(3);
        n.manager_status = raft.map(|r| ManagerStatus {
            raft_id: r,
            addr: format!("10.0.0.{r}:2377"),
            ..ManagerStatus::default()
        });
        n
    }

    fn voter(id: u64) -> RaftMember {
        RaftMember {
            id: MemberId(id),
            voter: true,
        }
    }

    #[test]
    fn agreeing_records_and_group_need_nothing() {
        let nodes = [
            node("a", NodeRole::Manager, Some(1)),
            node("w", NodeRole::Worker, None),
        ];
        let out = reconcile_membership(&nodes, &[voter(1)], MemberId(1), SystemTime::UNIX_EPOCH);
        assert_eq!(out, ManagerWrites::default());
    }

    #[test]
    fn a_new_manager_is_added_then_promoted() {
        let nodes = [
            node("a", NodeRole::Manager, Some(1)),
            node("b", NodeRole::Manager, Some(2)),
        ];
        let now = SystemTime::UNIX_EPOCH;
        let out = reconcile_membership(&nodes, &[voter(1)], MemberId(1), now);
        assert_eq!(
            out.membership,
            vec![MembershipChange::AddLearner {
                member: MemberId(2),
                node: NodeId::new("b"),
                addr: "10.0.0.2:2377".into()
            }]
        );
        let learner = RaftMember {
            id: MemberId(2),
            voter: false,
        };
        let out = reconcile_membership(&nodes, &[voter(1), learner], MemberId(1), now);
        assert_eq!(
            out.membership,
            vec![MembershipChange::Promote {
                member: MemberId(2),
                node: NodeId::new("b")
            }]
        );
    }

    #[test]
    fn a_demoted_member_is_removed_then_its_status_cleared() {
        let nodes = [
            node("a", NodeRole::Manager, Some(1)),
            node("b", NodeRole::Worker, Some(2)),
        ];
        let now = SystemTime::UNIX_EPOCH;
        let out = reconcile_membership(&nodes, &[voter(1), voter(2)], MemberId(1), now);
        assert!(out.writes.is_empty());
        assert_eq!(
            out.membership,
            vec![MembershipChange::Remove {
                member: MemberId(2),
                node: NodeId::new("b"),
                force: false
            }]
        );
        let out = reconcile_membership(&nodes, &[voter(1)], MemberId(1), now);
        assert!(out.membership.is_empty());
        let [
            ManagerWrite::UpdateNode {
                node,
                expected_version,
            },
        ] = out.writes.as_slice()
        else {
            panic!("expected one node update, got {:?}", out.writes);
        };
        assert_eq!(node.manager_status, None);
        assert_eq!(*expected_version, Version(3));
    }

    #[test]
    fn the_leaders_own_removal_comes_after_every_other_change() {
        let nodes = [
            node("a", NodeRole::Worker, Some(1)),
            node("b", NodeRole::Manager, Some(2)),
            node("c", NodeRole::Manager, Some(3)),
        ];
        let now = SystemTime::UNIX_EPOCH;
        let out = reconcile_membership(&nodes, &[voter(1), voter(2)], MemberId(1), now);
        assert!(matches!(
            out.membership.as_slice(),
            [MembershipChange::AddLearner {
                member: MemberId(3),
                ..
            }]
        ));
        let out = reconcile_membership(&nodes, &[voter(1), voter(2), voter(3)], MemberId(1), now);
        assert!(matches!(
            out.membership.as_slice(),
            [MembershipChange::Remove {
                member: MemberId(1),
                ..
            }]
        ));
    }

    #[test]
    fn a_member_without_a_record_is_removed() {
        let nodes = [node("a", NodeRole::Manager, Some(1))];
        let out = reconcile_membership(
            &nodes,
            &[voter(1), voter(9)],
            MemberId(1),
            SystemTime::UNIX_EPOCH,
        );
        assert!(matches!(
            out.membership.as_slice(),
            [MembershipChange::Remove {
                member: MemberId(9),
                ..
            }]
        ));
    }
}

/// After `force-new-cluster` on manager `me` (the only member left of the Raft group): every
/// other manager's record becomes a worker's without a manager status, so the reconcile step
/// does not add the lost members back; they join again as managers (or are promoted) once
/// they are wiped. Every record is kept. Each changed record is written with the version read.
pub fn after_force_new_cluster(
    nodes: &[Node],
    me: &crate::model::NodeId,
    now: SystemTime,
) -> ManagerWrites {
    let writes = nodes
        .iter()
        .filter(|n| n.id != *me && (n.spec.role == NodeRole::Manager || n.manager_status.is_some()))
        .map(|n| {
            let mut changed = n.clone();
            changed.spec.role = NodeRole::Worker;
            changed.manager_status = None;
            changed.meta.updated_at = now;
            ManagerWrite::UpdateNode {
                node: changed,
                expected_version: n.meta.version,
            }
        })
        .collect();
    ManagerWrites {
        writes,
        membership: Vec::new(),
    }
}

#[cfg(test)]
mod force_new_cluster_tests {
    use super::*;
    use crate::model::{ManagerStatus, NodeId};

    #[test]
    fn other_managers_become_workers_and_every_record_stays() {
        let mut a = Node {
            id: NodeId::new("a"),
            ..Node::default()
        };
        a.spec.role = NodeRole::Manager;
        a.manager_status = Some(ManagerStatus {
            raft_id: 1,
            ..ManagerStatus::default()
        });
        let mut b = a.clone();
        b.id = NodeId::new("b");
        let w = Node {
            id: NodeId::new("w"),
            ..Node::default()
        };
        let out = after_force_new_cluster(&[a, b, w], &NodeId::new("a"), SystemTime::UNIX_EPOCH);
        let [ManagerWrite::UpdateNode { node, .. }] = out.writes.as_slice() else {
            panic!("one write expected: {:?}", out.writes);
        };
        assert_eq!(node.id, NodeId::new("b"));
        assert_eq!(node.spec.role, NodeRole::Worker);
        assert_eq!(node.manager_status, None);
    }
}
