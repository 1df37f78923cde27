//! The renewal step: identity kept, current role taken, record updated with a version check,
//! removed and unknown nodes refused by name.

use crate::manager::ca_server::{
    RenewError, RenewRequest, RenewView, certificate_role, renew_certificate,
};
use crate::manager::control::{remove_node, set_node_role};
use crate::manager::step_fixture::{Fixture, csr, new_ca};
use crate::manager::writes::ManagerWrite;
use crate::model::{Node, NodeMembership, NodeRole, NodeState};

#[test]
fn a_renewal_keeps_the_node_id_and_updates_the_record_at_the_version_read() {
    let mut f = Fixture::founded();
    let joined = f.join(NodeRole::Worker, "worker-1", 10);
    let before = f.node("worker-1").clone();

    let d = f.renew("worker-1", 3_600).unwrap();
    assert_eq!(d.certificate.info.node_id.as_str(), before.id.as_str());
    assert_eq!(
        d.certificate.info.cluster_id.as_str(),
        f.cluster.id.as_str()
    );
    assert_eq!(d.role, NodeRole::Worker);
    assert!(!d.role_changed);
    assert!(d.certificate.info.not_after > joined.certificate.info.not_after);
    assert_eq!(d.trusted_roots, vec![f.current.cert_der().to_vec()]);
    let [
        ManagerWrite::UpdateNode {
            node,
            expected_version,
        },
    ] = d.writes.writes.as_slice()
    else {
        panic!("one node update expected: {:?}", d.writes);
    };
    assert_eq!(*expected_version, before.meta.version);
    assert_eq!(
        node.certificate_not_after,
        Some(d.certificate.info.not_after)
    );
    assert_eq!(node.certificate_root, Some(f.current.digest()));
    assert_eq!(node.meta.updated_at, f.clock.at(3_600));
    // Everything else of the record is unchanged.
    let mut expected = before.clone();
    expected.certificate_not_after = node.certificate_not_after;
    expected.meta.updated_at = node.meta.updated_at;
    assert_eq!(*node, expected);
    assert!(d.writes.membership.is_empty());

    // The record changed under the renewal (a heartbeat wrote it): the store refuses it.
    let stale = f.renew("worker-1", 3_601).unwrap();
    f.apply(&d.writes).unwrap();
    assert!(f.apply(&stale.writes).is_err());
    assert_eq!(
        f.node("worker-1").certificate_not_after,
        Some(d.certificate.info.not_after)
    );
}

#[test]
fn a_renewal_takes_the_role_the_record_gives_now() {
    let mut f = Fixture::founded();
    f.join(NodeRole::Worker, "worker-1", 10);
    let mut rng = || 7_u64;
    let promote = set_node_role(
        f.view(),
        "worker-1",
        NodeRole::Manager,
        f.clock.at(20),
        &mut rng,
    )
    .unwrap();
    f.apply(&promote).unwrap();

    // It still presents its worker certificate; the record says manager.
    let d = f.renew("worker-1", 30).unwrap();
    assert_eq!(d.role, NodeRole::Manager);
    assert_eq!(d.certificate.info.role, swarm_secrets::Role::Manager);
    f.apply(&d.writes).unwrap();

    // Demoted but still a Raft member: a manager certificate until it left the group.
    let demote = set_node_role(
        f.view(),
        "worker-1",
        NodeRole::Worker,
        f.clock.at(40),
        &mut rng,
    )
    .unwrap();
    f.apply(&demote).unwrap();
    assert_eq!(f.node("worker-1").spec.role, NodeRole::Worker);
    assert_eq!(
        f.renew("worker-1", 50).unwrap().role,
        NodeRole::Manager,
        "still a Raft member"
    );
    f.node_mut("worker-1").manager_status = None;
    let d = f.renew("worker-1", 60).unwrap();
    assert_eq!(d.role, NodeRole::Worker);
    assert_eq!(d.certificate.info.role, swarm_secrets::Role::Worker);
    assert_eq!(certificate_role(&Node::default()), NodeRole::Worker);
}

#[test]
fn removed_unknown_and_pending_nodes_cannot_renew() {
    let mut f = Fixture::founded();
    f.join(NodeRole::Worker, "worker-1", 10);
    f.join(NodeRole::Worker, "worker-2", 10);
    let removed = f.node("worker-1").id.clone();
    f.node_mut("worker-1").status.state = NodeState::Down;
    let rm = remove_node(f.view(), "worker-1", false, f.clock.at(20)).unwrap();
    f.apply(&rm).unwrap();

    // The removed node still holds a valid certificate and asks with its id.
    let request = RenewRequest {
        node: removed.clone(),
        presented_role: NodeRole::Worker,
        csr_der: csr(),
    };
    let e = renew_certificate(view_of(&f), &request, f.clock.at(30)).unwrap_err();
    assert!(
        matches!(&e, RenewError::Revoked { node, .. } if *node == removed),
        "{e}"
    );
    assert!(e.to_string().contains(removed.as_str()), "{e}");
    assert!(!e.is_retryable());

    // An id the cluster never had, and a revocation that expired (the record is gone too).
    f.cluster.revoked_nodes.clear();
    let e = renew_certificate(view_of(&f), &request, f.clock.at(30)).unwrap_err();
    assert!(
        matches!(&e, RenewError::UnknownNode { node } if *node == removed),
        "{e}"
    );
    assert!(e.to_string().contains(removed.as_str()), "{e}");

    f.node_mut("worker-2").spec.membership = NodeMembership::Pending;
    let e = f.renew("worker-2", 40).unwrap_err();
    assert!(matches!(e, RenewError::NotAccepted { .. }), "{e}");
}

#[test]
fn a_renewal_from_another_ca_than_the_cluster_names_is_refused() {
    let mut f = Fixture::founded();
    f.join(NodeRole::Worker, "worker-1", 10);
    let other = new_ca("c0ffee");
    let node = f.node("worker-1");
    let view = RenewView {
        cluster: &f.cluster,
        ca: &other,
        nodes: &f.nodes,
    };
    let request = RenewRequest {
        node: node.id.clone(),
        presented_role: NodeRole::Worker,
        csr_der: csr(),
    };
    let e = renew_certificate(view, &request, f.clock.at(20)).unwrap_err();
    assert!(matches!(e, RenewError::ClusterState { .. }), "{e}");

    let bad_csr = RenewRequest {
        csr_der: b"not a CSR".to_vec(),
        ..request
    };
    let e = renew_certificate(view_of(&f), &bad_csr, f.clock.at(20)).unwrap_err();
    assert!(matches!(e, RenewError::Certificate { .. }), "{e}");
}

fn view_of(f: &Fixture) -> RenewView<'_> {
    RenewView {
        cluster: &f.cluster,
        ca: f.issuing(),
        nodes: &f.nodes,
    }
}
