//! The join step and cluster init: who gets in, with which role and record, and who is
//! refused and why.

mod manager_support;

use manager_support::{Rng, World, csr, description, new_ca, t};
use std::time::Duration;
use swarm_core::manager::ca_server::{
    ID_CHARS, JoinError, JoinView, check_join_token, join, verify_downloaded_ca,
};
use swarm_core::manager::control::{
    ControlError, InitRequest, init_cluster, join_token, rotate_join_token,
};
use swarm_core::manager::writes::{ManagerWrite, MembershipChange};
use swarm_core::model::{
    ClusterSpec, MAX_RETIRED_JOIN_TOKENS_PER_ROLE, NodeAvailability, NodeMembership, NodeRole,
    NodeState, Reachability,
};
use swarm_secrets::limits::CERT_BACKDATE;
use swarm_secrets::{CaDigest, JoinTokens, NodeCertInfo, Role};
use swarm_store::MemberId;
use zeroize::Zeroizing;

fn init_request() -> InitRequest {
    InitRequest {
        spec: ClusterSpec::default(),
        csr_der: csr(),
        advertise_addr: "10.0.0.1:2377".into(),
        availability: NodeAvailability::Active,
        description: Some(description("manager-0")),
    }
}

#[test]
fn init_founds_the_cluster_with_a_leader_and_tokens_pinning_the_ca() {
    let ca = new_ca("c0ffee");
    let init = init_cluster(&ca, &init_request(), t(0), &mut Rng(1).source()).unwrap();
    let c = &init.cluster;
    assert_eq!(c.id.as_str(), "c0ffee");
    assert_eq!(c.spec, ClusterSpec::default());
    assert!(c.revoked_nodes.is_empty() && c.join_tokens.retired.is_empty());
    for role in [NodeRole::Worker, NodeRole::Manager] {
        let text = join_token(c, role).unwrap();
        assert_eq!(text.as_str(), c.join_tokens.current(role));
        let token = verify_downloaded_ca(&text, ca.cert_der(), "10.0.0.1:2377").unwrap();
        assert_eq!(token.ca_digest(), ca.digest());
        assert_eq!(check_join_token(&c.join_tokens, &text).unwrap(), role);
    }
    assert_ne!(c.join_tokens.worker, c.join_tokens.manager);

    let n = &init.node;
    assert_eq!(n.id.as_str().len(), ID_CHARS);
    assert_eq!(n.spec.role, NodeRole::Manager);
    assert_eq!(n.spec.membership, NodeMembership::Accepted);
    assert_eq!(n.status.state, NodeState::Ready);
    let ms = n.manager_status.as_ref().unwrap();
    assert!(ms.leader && ms.raft_id != 0);
    assert_eq!(ms.reachability, Reachability::Reachable);
    assert_eq!(ms.addr, "10.0.0.1:2377");
    assert_eq!(n.display_name(), "manager-0");

    let info = &init.certificate.info;
    assert_eq!(info.node_id.as_str(), n.id.as_str());
    assert_eq!(info.role, Role::Manager);
    assert_eq!(info.cluster_id.as_str(), "c0ffee");
    assert_eq!(info.not_before, t(0) - CERT_BACKDATE);
    assert_eq!(info.not_after, t(0) + Duration::from_secs(90 * 24 * 3600));
    assert_eq!(n.certificate_not_after, Some(info.not_after));

    assert_eq!(
        init.writes.writes,
        vec![
            ManagerWrite::CreateCluster(init.cluster.clone()),
            ManagerWrite::CreateNode(init.node.clone())
        ]
    );
    assert!(init.writes.membership.is_empty());

    // The same seed gives the same ids.
    let again = init_cluster(&ca, &init_request(), t(0), &mut Rng(1).source()).unwrap();
    assert_eq!(again.node.id, init.node.id);
    assert_eq!(
        again.node.manager_status.unwrap().raft_id,
        init.node.manager_status.unwrap().raft_id
    );
}

#[test]
fn init_refuses_an_invalid_spec_address_csr_or_a_stuck_random_source() {
    let ca = new_ca("c0ffee");
    let mut bad = init_request();
    bad.spec.dispatcher.heartbeat_period = Duration::ZERO;
    bad.spec.ca_config.node_cert_expiry = Duration::from_secs(60);
    match init_cluster(&ca, &bad, t(0), &mut Rng(1).source()).unwrap_err() {
        ControlError::InvalidClusterSpec(errors) => {
            assert!(errors.has_field("dispatcher.heartbeat_period"));
            assert!(errors.has_field("ca_config.node_cert_expiry"));
        }
        other => panic!("{other}"),
    }

    let mut bad = init_request();
    bad.advertise_addr = "10.0.0.1".into();
    let e = init_cluster(&ca, &bad, t(0), &mut Rng(1).source()).unwrap_err();
    assert!(
        matches!(
            e,
            ControlError::InvalidRequest {
                field: "advertise_addr",
                ..
            }
        ),
        "{e}"
    );

    let mut bad = init_request();
    bad.csr_der = b"not a csr".to_vec();
    let e = init_cluster(&ca, &bad, t(0), &mut Rng(1).source()).unwrap_err();
    assert!(matches!(e, ControlError::Secrets { .. }), "{e}");
    assert!(e.to_string().contains("founding manager"), "{e}");
    assert!(!e.is_retryable());

    let e = init_cluster(&ca, &init_request(), t(0), &mut || 0).unwrap_err();
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
    assert!(e.is_retryable());
}

#[test]
fn a_worker_token_admits_a_worker_with_its_record_and_certificate() {
    let mut w = World::founded();
    let mut request = w.request(&w.token(NodeRole::Worker), "worker-1", "10.0.0.11:2377");
    request.availability = NodeAvailability::Drain;
    request.observed_addr = "10.0.0.11".into();
    let d = join(w.join_view(), &request, t(10), &mut Rng(7).source()).unwrap();
    assert_eq!(d.role, NodeRole::Worker);
    let n = &d.node;
    assert_eq!(n.id.as_str().len(), ID_CHARS);
    assert!(
        n.id.as_str()
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    );
    assert_eq!(n.spec.role, NodeRole::Worker);
    assert_eq!(n.spec.availability, NodeAvailability::Drain);
    assert_eq!(n.spec.membership, NodeMembership::Accepted);
    assert_eq!(n.status.state, NodeState::Unknown);
    assert_eq!(n.status.addr, "10.0.0.11");
    assert_eq!(n.advertise_addr, "10.0.0.11:2377");
    assert!(n.manager_status.is_none());
    assert_eq!(n.description, Some(description("worker-1")));
    assert_eq!(n.meta.created_at, t(10));
    assert_eq!(d.certificate.info.role, Role::Worker);
    assert_eq!(d.certificate.info.node_id.as_str(), n.id.as_str());
    assert_eq!(n.certificate_not_after, Some(d.certificate.info.not_after));
    assert_eq!(d.writes.writes, vec![ManagerWrite::CreateNode(n.clone())]);
    assert!(d.writes.membership.is_empty());

    // Deterministic in the seed; another seed, another id.
    let same = join(w.join_view(), &request, t(10), &mut Rng(7).source()).unwrap();
    assert_eq!(same.node.id, n.id);
    let other = join(w.join_view(), &request, t(10), &mut Rng(8).source()).unwrap();
    assert_ne!(other.node.id, n.id);

    // A worker may join without an advertised address.
    request.advertise_addr.clear();
    assert!(join(w.join_view(), &request, t(10), &mut Rng(9).source()).is_ok());
    w.apply(&d.writes).unwrap();
    assert_eq!(w.nodes.len(), 2);
}

#[test]
fn a_manager_token_admits_a_manager_as_learner_then_voter() {
    let w = World::founded();
    let request = w.request(&w.token(NodeRole::Manager), "manager-1", "10.0.0.2:2377");
    let d = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap();
    assert_eq!(d.role, NodeRole::Manager);
    assert_eq!(d.certificate.info.role, Role::Manager);
    let ms = d.node.manager_status.clone().unwrap();
    assert!(!ms.leader && ms.raft_id != 0);
    assert_eq!(ms.reachability, Reachability::Unknown);
    assert_eq!(ms.addr, "10.0.0.2:2377");
    assert_ne!(
        ms.raft_id,
        w.nodes[0].manager_status.as_ref().unwrap().raft_id
    );
    assert_eq!(d.node.status.state, NodeState::Unknown);
    let member = MemberId(ms.raft_id);
    assert_eq!(
        d.writes.membership,
        vec![
            MembershipChange::AddLearner {
                member,
                node: d.node.id.clone(),
                addr: "10.0.0.2:2377".into()
            },
            MembershipChange::Promote {
                member,
                node: d.node.id.clone()
            },
        ]
    );
}

#[test]
fn a_manager_token_needs_a_reachable_address_and_hostnames_must_be_names() {
    let w = World::founded();
    for addr in ["", "10.0.0.2", "10.0.0.2:0", "bad host:2377"] {
        let request = w.request(&w.token(NodeRole::Manager), "manager-1", addr);
        let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
        assert!(
            matches!(
                e,
                JoinError::InvalidRequest {
                    field: "advertise_addr",
                    ..
                }
            ),
            "{addr}: {e}"
        );
        assert!(!e.is_retryable());
    }
    let request = w.request(&w.token(NodeRole::Worker), "worker-1", "10.0.0.2");
    let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
    assert!(e.to_string().contains("advertise_addr"), "{e}");

    let request = w.request(&w.token(NodeRole::Worker), "not a host", "");
    let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
    assert!(
        matches!(
            e,
            JoinError::InvalidRequest {
                field: "description.hostname",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_wrong_token_of_this_cluster_is_refused_as_wrong() {
    let w = World::founded();
    let forged = JoinTokens::generate(w.ca.digest()).unwrap();
    for role in [Role::Worker, Role::Manager] {
        let request = w.request(&forged.token(role).expose(), "intruder", "10.0.0.66:2377");
        let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
        assert!(matches!(e, JoinError::WrongToken), "{e}");
        assert!(
            e.to_string()
                .contains("not a current worker or manager token")
        );
    }
    for malformed in ["", "SWMTKN-1-abc", "hello"] {
        let request = w.request(malformed, "intruder", "");
        let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
        assert!(matches!(e, JoinError::MalformedToken { .. }), "{e}");
    }
}

#[test]
fn a_token_of_another_cluster_is_refused_as_such_on_both_sides() {
    let w = World::founded();
    let elsewhere = new_ca("beef");
    let theirs = JoinTokens::generate(elsewhere.digest()).unwrap();
    let text = theirs.token(Role::Manager).expose();
    let request = w.request(&text, "stranger", "10.0.0.66:2377");
    let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
    assert!(matches!(e, JoinError::OtherCluster), "{e}");
    assert!(e.to_string().contains("another cluster"));

    // The joining node, given our CA by our manager, sees it too, before sending anything.
    let e = verify_downloaded_ca(&text, w.ca.cert_der(), "10.0.0.1:2377").unwrap_err();
    assert!(matches!(e, JoinError::DownloadedCaMismatch { .. }), "{e}");
    assert!(e.to_string().contains("10.0.0.1:2377"), "{e}");
    assert!(verify_downloaded_ca(&text, elsewhere.cert_der(), "x:1").is_ok());
    assert!(matches!(
        verify_downloaded_ca("SWMTKN-1-x-y", w.ca.cert_der(), "x:1").unwrap_err(),
        JoinError::MalformedToken { .. }
    ));
}

#[test]
fn a_rotated_token_is_refused_as_rotated_and_the_new_one_admits() {
    let mut w = World::founded();
    let old_worker = w.token(NodeRole::Worker);
    let manager = w.token(NodeRole::Manager);
    let writes = rotate_join_token(&w.cluster, NodeRole::Worker, t(5)).unwrap();
    match &writes.writes[..] {
        [
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version,
            },
        ] => {
            assert_eq!(*expected_version, w.cluster.meta.version);
            assert_eq!(cluster.meta.updated_at, t(5));
            assert_eq!(cluster.join_tokens.manager, manager);
            assert_ne!(cluster.join_tokens.worker, old_worker);
            assert_eq!(cluster.join_tokens.retired.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    w.apply(&writes).unwrap();

    let request = w.request(&old_worker, "worker-1", "");
    match join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err() {
        JoinError::RotatedToken { role, retired_at } => {
            assert_eq!(role, NodeRole::Worker);
            assert_eq!(retired_at, t(5));
        }
        other => panic!("{other}"),
    }
    let e = check_join_token(&w.cluster.join_tokens, &old_worker).unwrap_err();
    assert!(
        e.to_string().contains("worker join token was rotated"),
        "{e}"
    );
    assert_eq!(
        w.join(NodeRole::Worker, "worker-1", "").role,
        NodeRole::Worker
    );
    assert_eq!(
        w.join(NodeRole::Manager, "manager-1", "10.0.0.2:2377").role,
        NodeRole::Manager
    );

    // Rotating the manager token leaves the worker token alone.
    let worker = w.token(NodeRole::Worker);
    let writes = rotate_join_token(&w.cluster, NodeRole::Manager, t(20)).unwrap();
    w.apply(&writes).unwrap();
    assert_eq!(w.token(NodeRole::Worker), worker);
    assert!(matches!(
        check_join_token(&w.cluster.join_tokens, &manager).unwrap_err(),
        JoinError::RotatedToken {
            role: NodeRole::Manager,
            ..
        }
    ));
}

#[test]
fn rotated_tokens_are_remembered_up_to_the_bound_per_role() {
    let mut w = World::founded();
    let mut old = Vec::new();
    for i in 0..MAX_RETIRED_JOIN_TOKENS_PER_ROLE + 2 {
        old.push(w.token(NodeRole::Worker));
        let writes = rotate_join_token(&w.cluster, NodeRole::Worker, t(i as u64)).unwrap();
        w.apply(&writes).unwrap();
    }
    let manager = w.token(NodeRole::Manager);
    w.apply(&rotate_join_token(&w.cluster, NodeRole::Manager, t(100)).unwrap())
        .unwrap();
    let retired = &w.cluster.join_tokens.retired;
    assert_eq!(
        retired
            .iter()
            .filter(|r| r.role == NodeRole::Worker)
            .count(),
        MAX_RETIRED_JOIN_TOKENS_PER_ROLE
    );
    assert_eq!(retired.len(), MAX_RETIRED_JOIN_TOKENS_PER_ROLE + 1);
    let tokens = &w.cluster.join_tokens;
    // The two oldest are forgotten: wrong, not rotated.
    for forgotten in &old[..2] {
        assert!(matches!(
            check_join_token(tokens, forgotten).unwrap_err(),
            JoinError::WrongToken
        ));
    }
    for remembered in &old[2..] {
        assert!(matches!(
            check_join_token(tokens, remembered).unwrap_err(),
            JoinError::RotatedToken {
                role: NodeRole::Worker,
                ..
            }
        ));
    }
    assert!(matches!(
        check_join_token(tokens, &manager).unwrap_err(),
        JoinError::RotatedToken {
            role: NodeRole::Manager,
            ..
        }
    ));
}

#[test]
fn the_cluster_state_must_be_usable_and_consistent_with_the_ca() {
    let w = World::founded();
    let request = w.request(&w.token(NodeRole::Worker), "worker-1", "");

    // No tokens in the cluster object.
    let empty = swarm_core::model::Cluster::default();
    let view = JoinView {
        cluster: &empty,
        ..w.join_view()
    };
    let e = join(view, &request, t(10), &mut Rng(3).source()).unwrap_err();
    assert!(matches!(e, JoinError::ClusterState { .. }), "{e}");
    assert!(matches!(
        join_token(&empty, NodeRole::Worker).unwrap_err(),
        ControlError::ClusterState { .. }
    ));
    assert!(rotate_join_token(&empty, NodeRole::Worker, t(0)).is_err());

    // The tokens pin another CA than the one asked to issue.
    let other_ca = new_ca("beef");
    let view = JoinView {
        ca: &other_ca,
        ..w.join_view()
    };
    let e = join(view, &request, t(10), &mut Rng(3).source()).unwrap_err();
    assert!(matches!(e, JoinError::ClusterState { .. }), "{e}");

    // Worker and manager tokens that disagree about the CA, or are equal.
    let mut odd = w.cluster.clone();
    odd.join_tokens.manager = JoinTokens::generate(CaDigest::of_certificate(b"x"))
        .unwrap()
        .token(Role::Manager)
        .expose()
        .to_string();
    assert!(matches!(
        check_join_token(&odd.join_tokens, &w.token(NodeRole::Worker)).unwrap_err(),
        JoinError::ClusterState { .. }
    ));
    odd.join_tokens.manager = odd.join_tokens.worker.clone();
    assert!(matches!(
        check_join_token(&odd.join_tokens, &w.token(NodeRole::Worker)).unwrap_err(),
        JoinError::ClusterState { .. }
    ));
}

#[test]
fn a_bad_csr_or_a_stuck_random_source_issues_nothing() {
    let w = World::founded();
    let mut request = w.request(&w.token(NodeRole::Manager), "manager-1", "10.0.0.2:2377");
    request.csr_der = b"not a csr".to_vec();
    let e = join(w.join_view(), &request, t(10), &mut Rng(3).source()).unwrap_err();
    match &e {
        JoinError::Certificate { role, node, .. } => {
            assert_eq!(*role, NodeRole::Manager);
            assert!(e.to_string().contains(node.as_str()));
        }
        other => panic!("{other}"),
    }
    assert!(!e.is_retryable());

    // A source that only repeats the founding manager's id.
    let existing = w.nodes[0].id.clone();
    let mut replay = Rng(42);
    let (a, b) = (replay.next(), replay.next());
    let mut flip = false;
    let mut stuck = move || {
        flip = !flip;
        if flip { a } else { b }
    };
    let request = w.request(&w.token(NodeRole::Worker), "worker-1", "");
    let e = join(w.join_view(), &request, t(10), &mut stuck).unwrap_err();
    assert!(
        matches!(
            e,
            JoinError::IdsExhausted {
                what: "node id",
                ..
            }
        ),
        "{e} (existing {existing})"
    );
    assert!(e.is_retryable());
}

#[test]
fn a_join_request_does_not_show_its_token() {
    let w = World::founded();
    let token = w.token(NodeRole::Manager);
    let request = w.request(&token, "manager-1", "10.0.0.2:2377");
    let shown = format!("{request:?}");
    assert!(!shown.contains(&token[20..]), "{shown}");
    assert!(shown.contains("REDACTED"));
    let shown = format!("{:?}", w.cluster.join_tokens);
    assert!(!shown.contains(&token[20..]), "{shown}");
    let _: Zeroizing<String> = join_token(&w.cluster, NodeRole::Worker).unwrap();
}

#[test]
fn certificates_follow_the_cluster_expiry_setting() {
    let mut w = World::founded();
    w.cluster.spec.ca_config.node_cert_expiry = Duration::from_secs(3600 * 24);
    let d = w.join(NodeRole::Worker, "worker-1", "");
    let info = NodeCertInfo::parse(&d.certificate.cert_der).unwrap();
    assert_eq!(info.not_after, t(10) + Duration::from_secs(3600 * 24));
    assert_eq!(info.not_before, t(10) - CERT_BACKDATE);
}
