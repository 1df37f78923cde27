//! The manager statuses `node ls` shows (Leader, Reachable, Unreachable) follow what the
//! leader's store sees: the leader's reconcile step.

use crate::manager::writes::ManagerWrite;
use crate::mapping::store_member_id;
use crate::model::{Node, Reachability};
use std::time::SystemTime;
use swarm_store::MemberId;

/// The writes that make every manager record's `leader` flag and reachability match the
/// leader's view: `leader` is the member leading now; `reachable` lists each member with
/// whether it acknowledged the leader recently (`None`: unknown). A record whose Raft id is
/// not listed keeps its status. Each changed record is written with the version read;
/// nothing is written when all agree.
pub fn reconcile_manager_statuses(
    nodes: &[Node],
    leader: MemberId,
    reachable: &[(MemberId, Option<bool>)],
    now: SystemTime,
) -> Vec<ManagerWrite> {
    let mut writes = Vec::new();
    for node in nodes {
        let (Some(id), Some(status)) = (store_member_id(node), node.manager_status.as_ref()) else {
            continue;
        };
        let Some((_, seen)) = reachable.iter().find(|(m, _)| *m == id) else {
            continue;
        };
        let is_leader = id == leader;
        let reachability = match (is_leader, seen) {
            (true, _) | (false, Some(true)) => Reachability::Reachable,
            (false, Some(false)) => Reachability::Unreachable,
            (false, None) => status.reachability,
        };
        if status.leader != is_leader || status.reachability != reachability {
            let mut changed = node.clone();
            if let Some(s) = changed.manager_status.as_mut() {
                s.leader = is_leader;
                s.reachability = reachability;
            }
            changed.meta.updated_at = now;
            writes.push(ManagerWrite::UpdateNode {
                node: changed,
                expected_version: node.meta.version,
            });
        }
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ManagerStatus, NodeId, NodeRole};

    fn manager(id: &str, raft: u64, leader: bool, r: Reachability) -> Node {
        let mut n = Node {
            id: NodeId::new(id),
            ..Node::default()
        };
        n.spec.role = NodeRole::Manager;
        n.manager_status = Some(ManagerStatus {
            raft_id: raft,
            leader,
            reachability: r,
            addr: String::new(),
        });
        n
    }

    #[test]
    fn statuses_follow_the_leaders_view() {
        let nodes = [
            manager("a", 1, false, Reachability::Reachable),
            manager("b", 2, true, Reachability::Reachable),
            manager("c", 3, false, Reachability::Reachable),
        ];
        let seen = [
            (MemberId(1), Some(true)),
            (MemberId(2), Some(true)),
            (MemberId(3), Some(false)),
        ];
        let writes = reconcile_manager_statuses(&nodes, MemberId(1), &seen, SystemTime::UNIX_EPOCH);
        let changed: Vec<(String, bool, Reachability)> = writes
            .iter()
            .map(|w| match w {
                ManagerWrite::UpdateNode { node, .. } => {
                    let s = node.manager_status.clone().unwrap();
                    (node.id.to_string(), s.leader, s.reachability)
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            changed,
            vec![
                ("a".into(), true, Reachability::Reachable),
                ("b".into(), false, Reachability::Reachable),
                ("c".into(), false, Reachability::Unreachable),
            ]
        );
        let agreed = [
            manager("a", 1, true, Reachability::Reachable),
            manager("c", 3, false, Reachability::Unreachable),
        ];
        assert!(
            reconcile_manager_statuses(&agreed, MemberId(1), &seen, SystemTime::UNIX_EPOCH)
                .is_empty()
        );
    }
}
