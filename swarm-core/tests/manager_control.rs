//! The control API's rules: node ls/inspect, update, promote/demote, rm, leave, cluster update.
#![allow(clippy::unwrap_used)]

mod manager_support;

use manager_support::{Rng, World, t};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::manager::control::{
    ClusterUpdate, ClusterView, ControlError, LEFT_MESSAGE, MAX_NAMED_CANDIDATES, NodeFilter,
    NodeRef, NodeUpdate, find_node, is_reachable_member, leave_node, list_nodes, quorum,
    remove_node, revoked_node_ids, set_node_role, update_cluster, update_node,
};
use swarm_core::manager::writes::{ManagerWrite, ManagerWrites, MembershipChange};
use swarm_core::model::{
    Cluster, MAX_REVOKED_NODES, ManagerStatus, Node, NodeAvailability, NodeDescription, NodeId,
    NodeMembership, NodeRole, NodeSpec, NodeState, Reachability, Version,
};
use swarm_core::validate::MAX_NODE_CERT_EXPIRY;
use swarm_store::MemberId;

/// init + 2 managers + 3 workers, every manager reachable and every node ready.
fn cluster() -> World {
    let mut w = World::founded();
    w.join(NodeRole::Manager, "manager-1", "10.0.0.2:2377");
    w.join(NodeRole::Manager, "manager-2", "10.0.0.3:2377");
    for i in 1..=3 {
        w.join(
            NodeRole::Worker,
            &format!("worker-{i}"),
            &format!("10.0.1.{i}:2377"),
        );
    }
    for n in &mut w.nodes {
        n.status.state = NodeState::Ready;
        if let Some(ms) = &mut n.manager_status {
            ms.reachability = Reachability::Reachable;
        }
    }
    w
}

fn promote(w: &World, query: &str) -> Result<ManagerWrites, ControlError> {
    set_node_role(
        w.view(),
        query,
        NodeRole::Manager,
        t(50),
        &mut Rng(9).source(),
    )
}

fn demote(w: &World, query: &str) -> Result<ManagerWrites, ControlError> {
    set_node_role(
        w.view(),
        query,
        NodeRole::Worker,
        t(50),
        &mut Rng(9).source(),
    )
}

fn raft_id(w: &World, hostname: &str) -> u64 {
    w.node(hostname).manager_status.as_ref().unwrap().raft_id
}

// ---- lookup and listing

#[test]
fn inspect_finds_by_id_then_name_then_id_prefix() {
    let mut w = cluster();
    let worker = w.node("worker-1").clone();
    assert_eq!(
        find_node(&w.nodes, worker.id.as_str()).unwrap().id,
        worker.id
    );
    assert_eq!(find_node(&w.nodes, "worker-1").unwrap().id, worker.id);
    let prefix = &worker.id.as_str()[..12];
    assert_eq!(find_node(&w.nodes, prefix).unwrap().id, worker.id);

    // A spec name is a name too, and an exact id beats a name equal to it.
    w.node_mut("worker-2").spec.name = worker.id.as_str().to_owned();
    assert_eq!(
        find_node(&w.nodes, worker.id.as_str()).unwrap().id,
        worker.id
    );
    w.node_mut(worker.id.as_str()).spec.name = "edge".into();
    assert_eq!(
        find_node(&w.nodes, "edge")
            .unwrap()
            .description
            .as_ref()
            .unwrap()
            .hostname,
        "worker-2"
    );

    for missing in ["", "nope", "zzzzzzzzzzzzzzzzzzzzzzzzzz"] {
        let e = find_node(&w.nodes, missing).unwrap_err();
        assert!(matches!(e, ControlError::NodeNotFound { .. }), "{e}");
    }
}

#[test]
fn an_ambiguous_name_or_prefix_names_its_candidates() {
    let mut w = cluster();
    w.node_mut("worker-2").description = Some(NodeDescription {
        hostname: "worker-1".into(),
        ..NodeDescription::default()
    });
    match find_node(&w.nodes, "worker-1").unwrap_err() {
        ControlError::AmbiguousNode {
            query,
            candidates,
            more,
        } => {
            assert_eq!(query, "worker-1");
            assert_eq!(candidates.len(), 2);
            assert_eq!(more, 0);
            assert!(candidates.iter().all(|c| c.hostname == "worker-1"));
            assert!(candidates[0].id < candidates[1].id);
        }
        other => panic!("{other}"),
    }
    // Many nodes sharing a prefix: the first few are named, the rest counted.
    let nodes: Vec<Node> = (0..MAX_NAMED_CANDIDATES + 3)
        .map(|i| Node {
            id: NodeId::new(format!("abc{i:02}")),
            description: Some(NodeDescription {
                hostname: format!("h{i}"),
                ..NodeDescription::default()
            }),
            ..Node::default()
        })
        .collect();
    let e = find_node(&nodes, "abc").unwrap_err();
    match &e {
        ControlError::AmbiguousNode {
            candidates, more, ..
        } => {
            assert_eq!(candidates.len(), MAX_NAMED_CANDIDATES);
            assert_eq!(*more, 3);
        }
        other => panic!("{other}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("node abc00 (h0)") && text.ends_with("and 3 more"),
        "{text}"
    );
}

#[test]
fn ls_filters_combine_fields_with_and_values_with_or() {
    let mut w = cluster();
    w.node_mut("worker-1").spec.availability = NodeAvailability::Drain;
    w.node_mut("worker-2").spec.labels = BTreeMap::from([("zone".into(), "eu".into())]);
    w.node_mut("worker-3").spec.labels = BTreeMap::from([("zone".into(), "us".into())]);
    w.node_mut("worker-3").spec.membership = NodeMembership::Pending;
    let names = |f: &NodeFilter| -> Vec<String> {
        let mut v: Vec<String> = list_nodes(&w.nodes, f)
            .iter()
            .map(|n| n.display_name().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&NodeFilter::default()).len(), 6);
    let ids: Vec<&NodeId> = list_nodes(&w.nodes, &NodeFilter::default())
        .iter()
        .map(|n| &n.id)
        .collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "sorted by id");

    let f = NodeFilter {
        roles: vec![NodeRole::Manager],
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["manager-0", "manager-1", "manager-2"]);
    let f = NodeFilter {
        names: vec!["worker-1".into(), "manager-2".into()],
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["manager-2", "worker-1"]);
    let f = NodeFilter {
        availabilities: vec![NodeAvailability::Drain, NodeAvailability::Pause],
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["worker-1"]);
    let f = NodeFilter {
        memberships: vec![NodeMembership::Pending],
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["worker-3"]);
    let f = NodeFilter {
        labels: BTreeMap::from([("zone".into(), None)]),
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["worker-2", "worker-3"]);
    let f = NodeFilter {
        labels: BTreeMap::from([("zone".into(), Some("eu".into()))]),
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["worker-2"]);
    let w2 = w.node("worker-2").id.as_str()[..10].to_owned();
    let f = NodeFilter {
        id_prefixes: vec![w2.clone(), "nothing".into()],
        roles: vec![NodeRole::Worker],
        ..NodeFilter::default()
    };
    assert_eq!(names(&f), ["worker-2"]);
    let f = NodeFilter {
        id_prefixes: vec![w2],
        roles: vec![NodeRole::Manager],
        ..NodeFilter::default()
    };
    assert!(names(&f).is_empty());
}

// ---- update

#[test]
fn update_records_availability_labels_and_name_at_the_version_read() {
    let mut w = cluster();
    let node = w.node("worker-1").clone();
    let mut spec = node.spec.clone();
    spec.availability = NodeAvailability::Drain;
    spec.labels.insert("ssd".into(), "true".into());
    spec.name = "edge-1".into();
    let update = NodeUpdate {
        version: node.meta.version,
        spec: spec.clone(),
    };
    let writes = update_node(w.view(), "worker-1", &update, t(60), &mut Rng(1).source()).unwrap();
    match &writes.writes[..] {
        [
            ManagerWrite::UpdateNode {
                node: changed,
                expected_version,
            },
        ] => {
            assert_eq!(*expected_version, node.meta.version);
            assert_eq!(changed.spec, spec);
            assert_eq!(changed.meta.updated_at, t(60));
            assert_eq!(changed.status, node.status);
        }
        other => panic!("{other:?}"),
    }
    assert!(writes.membership.is_empty());
    w.apply(&writes).unwrap();
    assert_eq!(w.node("edge-1").spec.availability, NodeAvailability::Drain);

    // Pause as well.
    let node = w.node("worker-2").clone();
    let update = NodeUpdate {
        version: node.meta.version,
        spec: NodeSpec {
            availability: NodeAvailability::Pause,
            ..node.spec.clone()
        },
    };
    w.apply(&update_node(w.view(), "worker-2", &update, t(61), &mut Rng(1).source()).unwrap())
        .unwrap();
    assert_eq!(
        w.node("worker-2").spec.availability,
        NodeAvailability::Pause
    );
}

#[test]
fn update_refuses_a_stale_version_an_invalid_spec_and_going_back_to_pending() {
    let w = cluster();
    let node = w.node("worker-1").clone();
    let stale = NodeUpdate {
        version: Version(node.meta.version.0 - 1),
        spec: node.spec.clone(),
    };
    let e = update_node(w.view(), "worker-1", &stale, t(60), &mut Rng(1).source()).unwrap_err();
    assert!(e.is_conflict() && !e.is_retryable(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(node.id.as_str()) && text.contains("(worker-1)"),
        "{text}"
    );

    let mut spec = node.spec.clone();
    spec.labels.insert(String::new(), "x".into());
    spec.name = "bad name".into();
    let bad = NodeUpdate {
        version: node.meta.version,
        spec,
    };
    match update_node(w.view(), "worker-1", &bad, t(60), &mut Rng(1).source()).unwrap_err() {
        ControlError::InvalidNodeSpec { node: r, source } => {
            assert_eq!(r.id, node.id);
            assert!(source.has_field("labels") && source.has_field("name"));
        }
        other => panic!("{other}"),
    }

    let pending = NodeUpdate {
        version: node.meta.version,
        spec: NodeSpec {
            membership: NodeMembership::Pending,
            ..node.spec.clone()
        },
    };
    let e = update_node(w.view(), "worker-1", &pending, t(60), &mut Rng(1).source()).unwrap_err();
    assert!(matches!(e, ControlError::MembershipChange { .. }), "{e}");

    let e = update_node(w.view(), "ghost", &pending, t(60), &mut Rng(1).source()).unwrap_err();
    assert!(matches!(e, ControlError::NodeNotFound { .. }), "{e}");
}

// ---- promote and demote

#[test]
fn promote_adds_a_learner_then_a_voter_and_demote_removes_the_member() {
    let mut w = cluster();
    let writes = promote(&w, "worker-1").unwrap();
    let node = w.node("worker-1").clone();
    let changed = match &writes.writes[..] {
        [ManagerWrite::UpdateNode { node, .. }] => node.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(changed.spec.role, NodeRole::Manager);
    let ms = changed.manager_status.clone().unwrap();
    assert_eq!(ms.addr, "10.0.1.1:2377");
    assert!(ms.raft_id != 0 && !ms.leader);
    assert!(
        w.nodes
            .iter()
            .all(|n| n.manager_status.as_ref().map(|m| m.raft_id) != Some(ms.raft_id))
    );
    assert_eq!(
        writes.membership,
        vec![
            MembershipChange::AddLearner {
                member: MemberId(ms.raft_id),
                node: node.id.clone(),
                addr: "10.0.1.1:2377".into()
            },
            MembershipChange::Promote {
                member: MemberId(ms.raft_id),
                node: node.id.clone()
            },
        ]
    );
    w.apply(&writes).unwrap();
    // Already a manager: nothing to do.
    assert_eq!(promote(&w, "worker-1").unwrap(), ManagerWrites::default());

    let writes = demote(&w, "manager-1").unwrap();
    assert_eq!(
        writes.membership,
        vec![MembershipChange::Remove {
            member: MemberId(raft_id(&w, "manager-1")),
            node: w.node("manager-1").id.clone(),
            force: false
        }]
    );
    match &writes.writes[..] {
        [ManagerWrite::UpdateNode { node, .. }] => {
            assert_eq!(node.spec.role, NodeRole::Worker);
            // It stays a member until the loop has removed it.
            assert!(node.manager_status.is_some());
        }
        other => panic!("{other:?}"),
    }
    w.apply(&writes).unwrap();
    assert_eq!(demote(&w, "manager-1").unwrap(), ManagerWrites::default());
    // Promoting it back before the removal was carried out needs no new member.
    let writes = promote(&w, "manager-1").unwrap();
    assert!(writes.membership.is_empty());
    assert_eq!(writes.writes.len(), 1);
}

#[test]
fn promote_needs_an_address_and_a_reachable_quorum() {
    let mut w = cluster();
    w.node_mut("worker-1").advertise_addr.clear();
    let e = promote(&w, "worker-1").unwrap_err();
    assert!(matches!(e, ControlError::NoAdvertiseAddr { .. }), "{e}");
    assert!(e.to_string().contains("(worker-1)"));

    // 3 members, only the leader reachable: adding a fourth needs 3 reachable.
    for m in ["manager-1", "manager-2"] {
        w.node_mut(m).manager_status.as_mut().unwrap().reachability = Reachability::Unreachable;
    }
    match promote(&w, "worker-2").unwrap_err() {
        e @ ControlError::QuorumLoss { .. } => {
            assert!(e.is_retryable());
            let text = e.to_string();
            assert!(
                text.contains("promoting") && text.contains("2 reachable of 4"),
                "{text}"
            );
        }
        other => panic!("{other}"),
    }
    // With one of them back, it may go ahead.
    w.node_mut("manager-1")
        .manager_status
        .as_mut()
        .unwrap()
        .reachability = Reachability::Reachable;
    assert!(promote(&w, "worker-2").is_ok());

    let e = set_node_role(w.view(), "worker-2", NodeRole::Manager, t(0), &mut || 0).unwrap_err();
    assert!(
        matches!(
            e,
            ControlError::IdsExhausted {
                what: "raft id",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn demote_refuses_the_last_manager_and_a_loss_of_quorum() {
    let mut w = World::founded();
    let e = demote(&w, "manager-0").unwrap_err();
    assert!(matches!(e, ControlError::LastManager { .. }), "{e}");
    assert!(e.to_string().contains("last manager"));

    w = cluster();
    // leader + manager-1 reachable, manager-2 unreachable: removing manager-1 leaves 1 of 2.
    w.node_mut("manager-2")
        .manager_status
        .as_mut()
        .unwrap()
        .reachability = Reachability::Unreachable;
    match demote(&w, "manager-1").unwrap_err() {
        ControlError::QuorumLoss {
            node,
            reachable_after,
            members_after,
            quorum_after,
            ..
        } => {
            assert_eq!(node.hostname, "manager-1");
            assert_eq!((reachable_after, members_after, quorum_after), (1, 2, 2));
        }
        other => panic!("{other}"),
    }
    // Removing the unreachable one keeps 2 of 2.
    assert!(demote(&w, "manager-2").is_ok());

    // A manager by role that is not yet in the Raft group is demoted without a membership change.
    let mut w = cluster();
    w.node_mut("manager-2").manager_status = None;
    let writes = demote(&w, "manager-2").unwrap();
    assert!(writes.membership.is_empty());
    // ... but the last Raft member cannot be removed even when another node is a manager by role.
    w.node_mut("manager-1").manager_status = None;
    w.node_mut("manager-0").spec.role = NodeRole::Manager;
    let e = demote(&w, "manager-0").unwrap_err();
    assert!(
        matches!(
            e,
            ControlError::QuorumLoss {
                members_after: 0,
                ..
            }
        ),
        "{e}"
    );
}

fn manager(i: usize, reach: Reachability, leader: bool) -> Node {
    Node {
        id: NodeId::new(format!("m{i}")),
        spec: NodeSpec {
            role: NodeRole::Manager,
            ..NodeSpec::default()
        },
        manager_status: Some(ManagerStatus {
            raft_id: i as u64 + 1,
            leader,
            reachability: reach,
            addr: format!("10.0.0.{i}:2377"),
        }),
        advertise_addr: format!("10.0.0.{i}:2377"),
        ..Node::default()
    }
}

fn census(nodes: &[Node]) -> (usize, usize) {
    let members = nodes.iter().filter(|n| n.manager_status.is_some()).count();
    let reachable = nodes.iter().filter(|n| is_reachable_member(n)).count();
    (members, reachable)
}

proptest! {
    /// Whatever the reachabilities, an accepted demotion leaves a reachable quorum of the
    /// remaining members and at least one manager, and an accepted promotion a reachable
    /// quorum of the grown group; a refusal is exactly when that would not hold.
    #[test]
    fn role_changes_never_leave_less_than_a_reachable_quorum(
        reach in prop::collection::vec(0u8..3, 1..8),
        leader in 0usize..8,
        target in 0usize..8,
        seed in any::<u64>(),
    ) {
        let leader = leader % reach.len();
        let target = target % reach.len();
        let mut nodes: Vec<Node> = reach
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let r = [Reachability::Unknown, Reachability::Unreachable, Reachability::Reachable][*r as usize];
                manager(i, r, i == leader)
            })
            .collect();
        nodes.push(Node {
            id: NodeId::new("w"),
            advertise_addr: "10.0.9.9:2377".into(),
            ..Node::default()
        });
        let cluster = Cluster::default();
        let view = ClusterView { cluster: &cluster, nodes: &nodes };
        let (members, reachable) = census(&nodes);

        let target_id = nodes[target].id.clone();
        let target_reachable = is_reachable_member(&nodes[target]);
        let outcome = set_node_role(view, target_id.as_str(), NodeRole::Worker, t(0), &mut Rng(seed).source());
        let reachable_after = reachable - usize::from(target_reachable);
        let ok = members > 1 && reachable_after >= quorum(members - 1);
        match outcome {
            Ok(writes) => {
                prop_assert!(ok);
                prop_assert_eq!(writes.membership.len(), 1);
            }
            Err(ControlError::LastManager { .. }) => prop_assert_eq!(members, 1),
            Err(ControlError::QuorumLoss { reachable_after: r, quorum_after: q, .. }) => {
                prop_assert!(!ok);
                prop_assert!(r < q);
            }
            Err(other) => prop_assert!(false, "{}", other),
        }

        let outcome = set_node_role(view, "w", NodeRole::Manager, t(0), &mut Rng(seed).source());
        let ok = reachable + 1 >= quorum(members + 1);
        match outcome {
            Ok(writes) => {
                prop_assert!(ok);
                prop_assert_eq!(writes.membership.len(), 2);
            }
            Err(ControlError::QuorumLoss { reachable_after: r, quorum_after: q, .. }) => {
                prop_assert!(!ok);
                prop_assert!(r < q);
            }
            Err(ControlError::IdsExhausted { .. }) => {}
            Err(other) => prop_assert!(false, "{}", other),
        }
    }
}

#[test]
fn quorum_is_a_strict_majority() {
    assert_eq!(
        (0..=7).map(quorum).collect::<Vec<_>>(),
        [0, 1, 2, 2, 3, 3, 4, 4]
    );
}

// ---- rm

#[test]
fn rm_deletes_a_down_worker_and_revokes_it_until_its_certificate_expires() {
    let mut w = cluster();
    w.node_mut("worker-1").status.state = NodeState::Down;
    let node = w.node("worker-1").clone();
    let writes = remove_node(w.view(), "worker-1", false, t(100)).unwrap();
    assert!(writes.membership.is_empty());
    match &writes.writes[..] {
        [
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version,
            },
            ManagerWrite::DeleteNode {
                id,
                expected_version: node_version,
            },
        ] => {
            assert_eq!(*expected_version, w.cluster.meta.version);
            assert_eq!(
                cluster.revoked_nodes.get(&node.id),
                node.certificate_not_after.as_ref()
            );
            assert_eq!(cluster.meta.updated_at, t(100));
            assert_eq!(*id, node.id);
            assert_eq!(*node_version, node.meta.version);
        }
        other => panic!("{other:?}"),
    }
    w.apply(&writes).unwrap();
    assert!(find_node(&w.nodes, node.id.as_str()).is_err());
    let revoked = revoked_node_ids(&w.cluster, t(100));
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].as_str(), node.id.as_str());
    // Its certificate expires, and with it the entry.
    assert!(revoked_node_ids(&w.cluster, node.certificate_not_after.unwrap()).is_empty());
}

#[test]
fn rm_refuses_a_node_that_is_not_down_unless_forced() {
    let w = cluster();
    for state in [
        NodeState::Ready,
        NodeState::Unknown,
        NodeState::Disconnected,
    ] {
        let mut w2 = cluster();
        w2.node_mut("worker-2").status.state = state;
        let e = remove_node(w2.view(), "worker-2", false, t(100)).unwrap_err();
        match &e {
            ControlError::NodeNotDown { node, state: s } => {
                assert_eq!(node.hostname, "worker-2");
                assert_eq!(*s, state);
            }
            other => panic!("{other}"),
        }
        assert!(e.is_retryable());
        assert!(e.to_string().contains("with force"), "{e}");
    }
    let writes = remove_node(w.view(), "worker-2", true, t(100)).unwrap();
    assert_eq!(writes.writes.len(), 2);
}

#[test]
fn rm_refuses_a_manager_even_forced_until_it_is_demoted_and_removed_from_raft() {
    let mut w = cluster();
    for force in [false, true] {
        let e = remove_node(w.view(), "manager-1", force, t(100)).unwrap_err();
        match &e {
            ControlError::ManagerNotDemoted {
                role,
                raft_member,
                action,
                ..
            } => {
                assert_eq!(
                    (*role, *raft_member, *action),
                    (NodeRole::Manager, true, "be removed")
                );
            }
            other => panic!("{other}"),
        }
    }
    // Demoted but still a member: still refused.
    w.apply(&demote(&w, "manager-1").unwrap()).unwrap();
    let e = remove_node(w.view(), "manager-1", true, t(100)).unwrap_err();
    assert!(e.to_string().contains("Raft member: true"), "{e}");
    // Once the loop removed it from Raft, it can go.
    w.node_mut("manager-1").manager_status = None;
    assert!(remove_node(w.view(), "manager-1", true, t(100)).is_ok());
}

#[test]
fn the_revocation_list_is_bounded_and_sheds_expired_entries() {
    let mut w = cluster();
    let expired_at = t(50);
    for i in 0..MAX_REVOKED_NODES {
        w.cluster
            .revoked_nodes
            .insert(NodeId::new(format!("gone{i}")), t(1_000_000));
    }
    w.node_mut("worker-3").status.state = NodeState::Down;
    let e = remove_node(w.view(), "worker-3", false, t(100)).unwrap_err();
    assert!(
        matches!(
            e,
            ControlError::RevocationListFull {
                limit: MAX_REVOKED_NODES,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_retryable());

    // One entry expired: it is dropped and the node takes its place.
    w.cluster
        .revoked_nodes
        .insert(NodeId::new("gone0"), expired_at);
    let writes = remove_node(w.view(), "worker-3", false, t(100)).unwrap();
    match &writes.writes[0] {
        ManagerWrite::UpdateCluster { cluster, .. } => {
            assert_eq!(cluster.revoked_nodes.len(), MAX_REVOKED_NODES);
            assert!(!cluster.revoked_nodes.contains_key(&NodeId::new("gone0")));
        }
        other => panic!("{other:?}"),
    }

    // A node whose certificate expiry is unknown is revoked for the longest validity; one
    // whose certificate already expired needs no entry.
    let mut w = cluster();
    w.node_mut("worker-1").certificate_not_after = None;
    w.node_mut("worker-2").certificate_not_after = Some(t(1));
    let id1 = w.node("worker-1").id.clone();
    let id2 = w.node("worker-2").id.clone();
    w.apply(&remove_node(w.view(), "worker-1", true, t(100)).unwrap())
        .unwrap();
    w.apply(&remove_node(w.view(), "worker-2", true, t(100)).unwrap())
        .unwrap();
    assert_eq!(
        w.cluster.revoked_nodes.get(&id1),
        Some(&(t(100) + MAX_NODE_CERT_EXPIRY))
    );
    assert!(!w.cluster.revoked_nodes.contains_key(&id2));
}

// ---- leave

#[test]
fn a_worker_leaves_and_shows_down() {
    let mut w = cluster();
    let id = w.node("worker-1").id.clone();
    let writes = leave_node(w.view(), &id, false, t(70)).unwrap();
    assert!(writes.membership.is_empty());
    w.apply(&writes).unwrap();
    let node = w.node("worker-1");
    assert_eq!(node.status.state, NodeState::Down);
    assert_eq!(node.status.message, LEFT_MESSAGE);
    assert_eq!(node.meta.updated_at, t(70));
    // Then it can be removed without force.
    assert!(remove_node(w.view(), "worker-1", false, t(71)).is_ok());

    let e = leave_node(w.view(), &NodeId::new("ghost"), true, t(70)).unwrap_err();
    assert!(matches!(e, ControlError::NodeNotFound { .. }), "{e}");
}

#[test]
fn a_manager_leaves_only_demoted_or_forced() {
    let mut w = cluster();
    let id = w.node("manager-2").id.clone();
    let e = leave_node(w.view(), &id, false, t(70)).unwrap_err();
    assert!(
        matches!(
            e,
            ControlError::ManagerNotDemoted {
                action: "leave",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("(manager-2)") && e.to_string().contains("demote"));

    let writes = leave_node(w.view(), &id, true, t(70)).unwrap();
    assert_eq!(
        writes.membership,
        vec![MembershipChange::Remove {
            member: MemberId(raft_id(&w, "manager-2")),
            node: id.clone(),
            force: true
        }]
    );
    w.apply(&writes).unwrap();
    assert_eq!(w.node("manager-2").spec.role, NodeRole::Worker);
    assert_eq!(w.node("manager-2").status.state, NodeState::Down);

    // The only manager leaving with force: nothing left to remove it from.
    let w = World::founded();
    let id = w.nodes[0].id.clone();
    let writes = leave_node(w.view(), &id, true, t(70)).unwrap();
    assert!(writes.membership.is_empty());
}

// ---- cluster update

#[test]
fn cluster_update_records_settings_at_the_version_read() {
    let mut w = cluster();
    let mut spec = w.cluster.spec.clone();
    spec.dispatcher.heartbeat_period = Duration::from_millis(500);
    spec.orchestration.task_history_retention_limit = 2;
    spec.ca_config.node_cert_expiry = Duration::from_secs(24 * 3600);
    spec.encryption.auto_lock_managers = true;
    let update = ClusterUpdate {
        version: w.cluster.meta.version,
        spec: spec.clone(),
    };
    let writes = update_cluster(&w.cluster, &update, t(80)).unwrap();
    assert!(writes.membership.is_empty());
    let before = w.cluster.clone();
    w.apply(&writes).unwrap();
    assert_eq!(w.cluster.spec, spec);
    assert_eq!(w.cluster.join_tokens, before.join_tokens);
    assert_eq!(w.cluster.meta.updated_at, t(80));
    // Certificates issued from now on follow the new expiry.
    let d = w.join(NodeRole::Worker, "worker-9", "");
    assert_eq!(
        d.certificate.info.not_after,
        t(10) + Duration::from_secs(24 * 3600)
    );

    // The old version is stale now.
    let e = update_cluster(&w.cluster, &update, t(81)).unwrap_err();
    assert!(e.is_conflict(), "{e}");
    assert!(e.to_string().contains("\"default\""), "{e}");
}

#[test]
fn cluster_update_names_each_invalid_field_and_keeps_the_name() {
    let w = cluster();
    let mut spec = w.cluster.spec.clone();
    spec.dispatcher.heartbeat_period = Duration::ZERO;
    spec.ca_config.node_cert_expiry = Duration::from_secs(60);
    spec.raft.election_timeout = spec.raft.heartbeat_interval;
    let update = ClusterUpdate {
        version: w.cluster.meta.version,
        spec,
    };
    match update_cluster(&w.cluster, &update, t(80)).unwrap_err() {
        ControlError::InvalidClusterSpec(errors) => {
            for field in [
                "dispatcher.heartbeat_period",
                "ca_config.node_cert_expiry",
                "raft.election_timeout",
            ] {
                assert!(errors.has_field(field), "{field}: {errors}");
            }
        }
        other => panic!("{other}"),
    }
    let mut spec = w.cluster.spec.clone();
    spec.name = "renamed".into();
    let update = ClusterUpdate {
        version: w.cluster.meta.version,
        spec,
    };
    let e = update_cluster(&w.cluster, &update, t(80)).unwrap_err();
    assert!(
        matches!(e, ControlError::ClusterNameImmutable { .. }),
        "{e}"
    );
}

// ---- errors

#[test]
fn errors_name_the_node_by_id_and_hostname() {
    let w = cluster();
    let r = NodeRef::of(w.node("worker-1"));
    assert_eq!(
        r.to_string(),
        format!("node {} (worker-1)", w.node("worker-1").id)
    );
    let bare = Node {
        id: NodeId::new("abc"),
        ..Node::default()
    };
    assert_eq!(NodeRef::of(&bare).to_string(), "node abc");
}

/// The chapter's scenario end to end: init, 2 managers and 3 workers join, a worker is
/// promoted and a manager demoted, a worker drained, a down worker removed and refused again.
#[test]
fn a_cluster_lifecycle_through_the_steps() {
    let mut w = cluster();
    assert_eq!(
        list_nodes(
            &w.nodes,
            &NodeFilter {
                roles: vec![NodeRole::Manager],
                ..NodeFilter::default()
            }
        )
        .len(),
        3
    );
    w.apply(&promote(&w, "worker-3").unwrap()).unwrap();
    w.node_mut("worker-3")
        .manager_status
        .as_mut()
        .unwrap()
        .reachability = Reachability::Reachable;
    w.apply(&demote(&w, "manager-2").unwrap()).unwrap();
    w.node_mut("manager-2").manager_status = None;
    let managers: Vec<_> = w
        .nodes
        .iter()
        .filter(|n| n.spec.role == NodeRole::Manager)
        .map(|n| n.display_name().to_owned())
        .collect();
    assert_eq!(managers, ["manager-0", "manager-1", "worker-3"]);

    let node = w.node("worker-1").clone();
    let drain = NodeUpdate {
        version: node.meta.version,
        spec: NodeSpec {
            availability: NodeAvailability::Drain,
            ..node.spec.clone()
        },
    };
    w.apply(&update_node(w.view(), "worker-1", &drain, t(90), &mut Rng(1).source()).unwrap())
        .unwrap();
    w.node_mut("worker-1").status.state = NodeState::Down;
    let id = w.node("worker-1").id.clone();
    w.apply(&remove_node(w.view(), "worker-1", false, t(91)).unwrap())
        .unwrap();
    assert_eq!(w.nodes.len(), 5);
    assert!(w.cluster.revoked_nodes.contains_key(&id));
    // A write built from a stale read is refused by the store's version check.
    let stale = update_cluster(
        &w.cluster,
        &ClusterUpdate {
            version: w.cluster.meta.version,
            spec: w.cluster.spec.clone(),
        },
        t(92),
    )
    .unwrap();
    w.apply(&rotate_after(&w)).unwrap();
    assert!(w.apply(&stale).is_err());
}

fn rotate_after(w: &World) -> ManagerWrites {
    swarm_core::manager::control::rotate_join_token(&w.cluster, NodeRole::Worker, t(93)).unwrap()
}
