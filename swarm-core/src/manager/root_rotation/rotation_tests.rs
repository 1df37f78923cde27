//! Root rotation from start to finish over the steps: issuing from the new root, trust in
//! both roots, progress, the refusals, tokens re-pinned, the old root no longer trusted.

use super::*;
use crate::manager::ca_server::{JoinError, check_join_token};
use crate::manager::control::remove_node;
use crate::manager::state::RootCaSlot;
use crate::manager::step_fixture::{Fixture, new_ca};
use crate::manager::writes::ManagerWrite;
use crate::model::{NodeRole, NodeState};
use swarm_secrets::{ClusterCa, RevocationList};

/// Starts a rotation to a fresh root of the same cluster and applies it.
fn start(f: &mut Fixture, secs: u64) -> ClusterCa {
    let new = new_ca("c0ffee");
    let old_root = f.current.cert_der().to_vec();
    let writes = start_root_rotation(&f.cluster, &old_root, &new, f.clock.at(secs)).unwrap();
    f.apply(&writes).unwrap();
    new
}

fn trust_now(f: &Fixture) -> swarm_secrets::tls::ClusterTrust {
    cluster_trust(&f.cluster, f.current.cert_der(), RevocationList::new()).unwrap()
}

fn pending(f: &Fixture) -> Vec<String> {
    root_rotation_progress(f.view())
        .unwrap()
        .on_old_root
        .iter()
        .map(|p| p.node.hostname.clone())
        .collect()
}

#[test]
fn a_rotation_issues_from_the_new_root_trusts_both_and_finishes_once_all_renewed() {
    let mut f = Fixture::founded();
    let before = f.join(NodeRole::Worker, "worker-1", 10);
    f.join(NodeRole::Manager, "manager-1", 10);
    let old = f.current.cert_der().to_vec();
    let old_worker_token = f.cluster.join_tokens.worker.clone();
    assert!(root_rotation_progress(f.view()).is_none());

    // Start: the cluster object records it, the new root goes to the rotation record.
    let new = new_ca("c0ffee");
    let writes = start_root_rotation(&f.cluster, &old, &new, f.clock.at(20)).unwrap();
    assert!(matches!(
        writes.writes.as_slice(),
        [
            ManagerWrite::UpdateCluster { .. },
            ManagerWrite::PutRootCa {
                slot: RootCaSlot::Rotation,
                ..
            }
        ]
    ));
    f.apply(&writes).unwrap();
    assert_eq!(RootCaSlot::issuing(&f.cluster), RootCaSlot::Rotation);
    assert_eq!(f.issuing().digest(), new.digest());
    assert_eq!(
        trusted_roots(&f.cluster, &old),
        vec![old.as_slice(), new.cert_der().as_ref()]
    );

    // Joins (with the tokens handed out before) and renewals issue from the new root.
    let joined = f.join(NodeRole::Worker, "worker-2", 30);
    assert_eq!(f.node("worker-2").certificate_root, Some(new.digest()));
    assert_eq!(
        joined.trusted_roots,
        vec![old.clone(), new.cert_der().to_vec()]
    );
    let trust = trust_now(&f);
    let old_cert = trust
        .identify_certificate(&before.certificate.cert_der)
        .unwrap();
    assert_eq!(old_cert.node_id.as_str(), f.node("worker-1").id.as_str());
    trust
        .identify_certificate(&joined.certificate.cert_der)
        .unwrap();
    // A verifier of the old root alone would refuse the new certificates.
    let old_only = cluster_trust(
        &crate::model::Cluster {
            root_rotation: None,
            ..f.cluster.clone()
        },
        &old,
        RevocationList::new(),
    )
    .unwrap();
    assert!(
        old_only
            .identify_certificate(&joined.certificate.cert_der)
            .is_err()
    );

    // Every node from before the rotation must renew now, down or not.
    assert!(must_renew_now(f.node("worker-1"), &f.cluster));
    assert!(!must_renew_now(f.node("worker-2"), &f.cluster));
    f.node_mut("manager-1").status.state = NodeState::Down;
    let progress = root_rotation_progress(f.view()).unwrap();
    assert_eq!(progress.on_new_root, 1);
    assert_eq!(progress.old_root, f.current.digest());
    assert_eq!(progress.new_root, new.digest());
    assert!(!progress.can_finish());
    let mut names = pending(&f);
    names.sort();
    assert_eq!(names, ["manager-0", "manager-1", "worker-1"]);
    assert!(
        progress
            .on_old_root
            .iter()
            .any(|p| p.node.hostname == "manager-1" && p.state == NodeState::Down)
    );

    // Finish is refused, naming them, until each renewed.
    let e = finish_root_rotation(f.view(), &new, f.clock.at(40)).unwrap_err();
    assert!(e.is_retryable());
    assert!(
        matches!(&e, RotationError::NodesOnOldRoot { nodes, more: 0 } if nodes.len() == 3),
        "{e}"
    );
    for name in ["manager-0", "manager-1", "worker-1"] {
        assert!(e.to_string().contains(name), "{e}");
    }
    let mut renewed = Vec::new();
    for name in ["manager-0", "worker-1"] {
        let d = f.renew(name, 50).unwrap();
        assert_eq!(d.node.certificate_root, Some(new.digest()));
        assert_eq!(d.trusted_roots, vec![old.clone(), new.cert_der().to_vec()]);
        trust_now(&f)
            .identify_certificate(&d.certificate.cert_der)
            .unwrap();
        f.apply(&d.writes).unwrap();
        assert!(!must_renew_now(f.node(name), &f.cluster));
        renewed.push(d.certificate.cert_der);
    }
    assert_eq!(pending(&f), ["manager-1"]);
    let e = finish_root_rotation(f.view(), &new, f.clock.at(60)).unwrap_err();
    assert!(e.to_string().contains("(manager-1) [down]"), "{e}");
    let d = f.renew("manager-1", 70).unwrap();
    f.apply(&d.writes).unwrap();
    assert!(root_rotation_progress(f.view()).unwrap().can_finish());

    // Finish: the new root alone, fresh tokens pinning it, the rotation record gone.
    let writes = finish_root_rotation(f.view(), &new, f.clock.at(80)).unwrap();
    assert!(matches!(
        writes.writes.as_slice(),
        [
            ManagerWrite::UpdateCluster { .. },
            ManagerWrite::PutRootCa {
                slot: RootCaSlot::Current,
                ..
            },
            ManagerWrite::DeleteRootCa {
                slot: RootCaSlot::Rotation,
                ..
            }
        ]
    ));
    f.apply(&writes).unwrap();
    assert!(f.cluster.root_rotation.is_none());
    assert!(f.rotation.is_none());
    assert_eq!(f.current.digest(), new.digest());
    assert_eq!(trusted_roots(&f.cluster, f.current.cert_der()).len(), 1);
    for role in [NodeRole::Worker, NodeRole::Manager] {
        let token = swarm_secrets::JoinToken::parse(f.cluster.join_tokens.current(role)).unwrap();
        assert_eq!(token.ca_digest(), new.digest());
        assert_eq!(
            check_join_token(&f.cluster.join_tokens, f.cluster.join_tokens.current(role)).unwrap(),
            role
        );
    }
    assert_ne!(f.cluster.join_tokens.worker, old_worker_token);
    let e = check_join_token(&f.cluster.join_tokens, &old_worker_token).unwrap_err();
    assert!(
        matches!(e, JoinError::RootRotated { retired_at } if retired_at == f.clock.at(80)),
        "{e}"
    );
    assert!(e.to_string().contains("root CA, which was rotated"), "{e}");

    // The old root is trusted no more; the renewed certificates are.
    let trust = trust_now(&f);
    assert!(
        trust
            .identify_certificate(&before.certificate.cert_der)
            .is_err()
    );
    for cert in &renewed {
        trust.identify_certificate(cert).unwrap();
    }
    // Joins go on, from the new root.
    let after = f.join(NodeRole::Worker, "worker-3", 90);
    assert_eq!(after.trusted_roots, vec![new.cert_der().to_vec()]);
    trust
        .identify_certificate(&after.certificate.cert_der)
        .unwrap();
}

#[test]
fn a_second_rotation_is_refused_unless_it_is_the_same_and_bad_roots_are_named() {
    let mut f = Fixture::founded();
    let old = f.current.cert_der().to_vec();
    let same = start_root_rotation(&f.cluster, &old, &f.current, f.clock.at(1)).unwrap_err();
    assert!(matches!(same, RotationError::SameRoot { .. }), "{same}");
    let foreign = new_ca("beef");
    let e = start_root_rotation(&f.cluster, &old, &foreign, f.clock.at(1)).unwrap_err();
    assert!(matches!(e, RotationError::OtherCluster { .. }), "{e}");
    assert!(e.to_string().contains("beef"), "{e}");
    let e = start_root_rotation(
        &f.cluster,
        b"not the current root",
        &new_ca("c0ffee"),
        f.clock.at(1),
    )
    .unwrap_err();
    assert!(matches!(e, RotationError::ClusterState { .. }), "{e}");
    assert!(matches!(
        finish_root_rotation(f.view(), &f.current, f.clock.at(1)).unwrap_err(),
        RotationError::NotInProgress
    ));

    let new = start(&mut f, 10);
    // The same rotation again: nothing to write.
    let again = start_root_rotation(&f.cluster, &old, &new, f.clock.at(20)).unwrap();
    assert!(again.writes.is_empty());
    // Another root while one is in progress: refused, naming the running one.
    let e = start_root_rotation(&f.cluster, &old, &new_ca("c0ffee"), f.clock.at(20)).unwrap_err();
    assert!(
        matches!(&e, RotationError::InProgress { new_root, started_at }
        if *new_root == new.digest() && *started_at == f.clock.at(10)),
        "{e}"
    );
    assert!(e.is_retryable());
    // Finish with another root than the rotation's.
    let e = finish_root_rotation(f.view(), &f.current, f.clock.at(20)).unwrap_err();
    assert!(matches!(e, RotationError::WrongRoot { .. }), "{e}");
    // Joins during the rotation need the new root to issue.
    let view = crate::manager::ca_server::JoinView {
        cluster: &f.cluster,
        ca: &f.current,
        nodes: &f.nodes,
    };
    let request = crate::manager::ca_server::JoinRequest {
        token: zeroize::Zeroizing::new(f.cluster.join_tokens.worker.clone()),
        csr_der: crate::manager::step_fixture::csr(),
        advertise_addr: String::new(),
        availability: crate::model::NodeAvailability::Active,
        description: None,
        observed_addr: "10.0.0.5".into(),
    };
    let e = crate::manager::ca_server::join(view, &request, f.clock.at(20), &mut || 9).unwrap_err();
    assert!(matches!(e, JoinError::ClusterState { .. }), "{e}");
}

#[test]
fn a_down_node_blocks_the_rotation_until_it_is_removed() {
    let mut f = Fixture::founded();
    f.join(NodeRole::Worker, "worker-1", 10);
    let new = start(&mut f, 20);
    let d = f.renew("manager-0", 30).unwrap();
    f.apply(&d.writes).unwrap();
    f.node_mut("worker-1").status.state = NodeState::Down;
    assert_eq!(pending(&f), ["worker-1"]);
    assert!(finish_root_rotation(f.view(), &new, f.clock.at(40)).is_err());

    let rm = remove_node(f.view(), "worker-1", false, f.clock.at(50)).unwrap();
    f.apply(&rm).unwrap();
    assert!(pending(&f).is_empty());
    let writes = finish_root_rotation(f.view(), &new, f.clock.at(60)).unwrap();
    f.apply(&writes).unwrap();
    assert_eq!(f.cluster.join_tokens.retired_roots.len(), 1);
}

#[test]
fn the_pending_list_is_bounded_and_old_records_decode_without_an_issuer() {
    let mut f = Fixture::founded();
    for i in 0..(MAX_NAMED_PENDING_NODES + 2) {
        f.join(NodeRole::Worker, &format!("worker-{i}"), 10);
    }
    let new = start(&mut f, 20);
    let e = finish_root_rotation(f.view(), &new, f.clock.at(30)).unwrap_err();
    let RotationError::NodesOnOldRoot { nodes, more } = &e else {
        panic!("{e}");
    };
    assert_eq!(nodes.len(), MAX_NAMED_PENDING_NODES);
    assert_eq!(
        *more,
        3,
        "{} workers and the founding manager",
        MAX_NAMED_PENDING_NODES + 2
    );
    assert!(e.to_string().contains("and 3 more"), "{e}");

    // A record written before issuers were kept decodes, and must renew.
    let mut json = serde_json::to_value(f.node("worker-0")).unwrap();
    json.as_object_mut().unwrap().remove("certificate_root");
    let old: crate::model::Node = serde_json::from_value(json).unwrap();
    assert_eq!(old.certificate_root, None);
    assert!(must_renew_now(&old, &f.cluster));
    let mut cluster_json = serde_json::to_value(&f.cluster).unwrap();
    cluster_json
        .as_object_mut()
        .unwrap()
        .remove("root_rotation");
    let decoded: crate::model::Cluster = serde_json::from_value(cluster_json).unwrap();
    assert!(decoded.root_rotation.is_none());
}
