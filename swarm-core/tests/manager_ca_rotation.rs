//! Certificate renewal and a root CA rotation through a real swarm-store `Store` (one member,
//! memory storage): every step reads the state back from the store, its writes are applied as
//! one transaction with their version checks, and the root CA records move between slots.

#![allow(clippy::unwrap_used)]

mod manager_support;

use manager_support::{Rng, csr, description, found_cluster, new_ca, one_member_store, t};
use swarm_core::manager::ca_server::{
    JoinRequest, JoinView, RenewRequest, RenewView, join, renew_certificate,
};
use swarm_core::manager::control::ClusterView;
use swarm_core::manager::root_rotation::{
    finish_root_rotation, must_renew_now, root_rotation_progress, start_root_rotation,
    trusted_roots,
};
use swarm_core::manager::state::{ManagerStore, RootCaSlot};
use swarm_core::model::{Cluster, Node, NodeAvailability, NodeRole};
use swarm_secrets::{CertPolicy, ClusterCa};
use zeroize::Zeroizing;

/// The state a step reads, as the loop would read it: the cluster, the nodes and the root
/// that issues now.
async fn read(state: &ManagerStore) -> (Cluster, Vec<Node>, ClusterCa) {
    let cluster = state.cluster().await.unwrap().unwrap();
    let nodes = state.nodes().await.unwrap();
    let issuing = state
        .root_ca_in(&cluster.id, RootCaSlot::issuing(&cluster))
        .await
        .unwrap()
        .unwrap()
        .to_ca(CertPolicy::default())
        .unwrap();
    (cluster, nodes, issuing)
}

async fn renew(state: &ManagerStore, hostname: &str, secs: u64) {
    let (cluster, nodes, issuing) = read(state).await;
    let node = nodes.iter().find(|n| n.display_name() == hostname).unwrap();
    let request = RenewRequest {
        node: node.id.clone(),
        presented_role: node.spec.role,
        csr_der: csr(),
    };
    let view = RenewView {
        cluster: &cluster,
        ca: &issuing,
        nodes: &nodes,
    };
    let d = renew_certificate(view, &request, t(secs)).unwrap();
    assert_eq!(d.node.certificate_root, Some(issuing.digest()));
    state.apply(&d.writes).await.unwrap();
}

#[tokio::test]
async fn renewals_and_a_root_rotation_run_through_the_store() {
    let state = ManagerStore::new(one_member_store().await);
    let old = new_ca("c0ffee");
    found_cluster(&state, &old).await;
    let (cluster, nodes, issuing) = read(&state).await;
    let request = JoinRequest {
        token: Zeroizing::new(cluster.join_tokens.worker.clone()),
        csr_der: csr(),
        advertise_addr: String::new(),
        availability: NodeAvailability::Active,
        description: Some(description("worker-1")),
        observed_addr: "10.0.0.2".into(),
    };
    let view = JoinView {
        cluster: &cluster,
        ca: &issuing,
        nodes: &nodes,
    };
    let joined = join(view, &request, t(10), &mut Rng(2).source()).unwrap();
    state.apply(&joined.writes).await.unwrap();

    // A renewal outside a rotation: same root, record updated at the next version.
    renew(&state, "worker-1", 100).await;
    let worker = state.node(&joined.node.id).await.unwrap().unwrap();
    assert_eq!(
        worker.meta.version.index(),
        joined.node.meta.version.index() + 2
    );
    assert_eq!(worker.certificate_root, Some(old.digest()));

    // A renewal decided on a stale read is refused by the store, naming the node.
    let (cluster, nodes, issuing) = read(&state).await;
    let stale = renew_certificate(
        RenewView {
            cluster: &cluster,
            ca: &issuing,
            nodes: &nodes,
        },
        &RenewRequest {
            node: worker.id.clone(),
            presented_role: NodeRole::Worker,
            csr_der: csr(),
        },
        t(110),
    )
    .unwrap();
    renew(&state, "worker-1", 120).await;
    let e = state.apply(&stale.writes).await.unwrap_err();
    assert!(e.is_conflict(), "{e}");
    assert!(e.to_string().contains(worker.id.as_str()), "{e}");

    // Start: the new root is stored beside the current one and issues from now on.
    let new = new_ca("c0ffee");
    let (cluster, _, _) = read(&state).await;
    let writes = start_root_rotation(&cluster, old.cert_der(), &new, t(200)).unwrap();
    state.apply(&writes).await.unwrap();
    let (cluster, nodes, issuing) = read(&state).await;
    assert_eq!(issuing.digest(), new.digest());
    assert_eq!(
        state.root_ca(&cluster.id).await.unwrap().unwrap().cert_der,
        old.cert_der().to_vec()
    );
    assert_eq!(trusted_roots(&cluster, old.cert_der()).len(), 2);
    assert!(nodes.iter().all(|n| must_renew_now(n, &cluster)));

    // Finish is refused until both nodes renewed from the new root.
    let view = ClusterView {
        cluster: &cluster,
        nodes: &nodes,
    };
    assert!(finish_root_rotation(view, &issuing, t(210)).is_err());
    renew(&state, "worker-1", 220).await;
    renew(&state, "manager-0", 230).await;
    let (cluster, nodes, issuing) = read(&state).await;
    let view = ClusterView {
        cluster: &cluster,
        nodes: &nodes,
    };
    assert!(root_rotation_progress(view).unwrap().can_finish());
    let writes = finish_root_rotation(view, &issuing, t(240)).unwrap();
    state.apply(&writes).await.unwrap();

    // The new root is the only root record; the tokens pin it.
    let (cluster, _, issuing) = read(&state).await;
    assert!(cluster.root_rotation.is_none());
    assert_eq!(issuing.digest(), new.digest());
    assert_eq!(
        issuing.key_pkcs8_der().as_slice(),
        new.key_pkcs8_der().as_slice()
    );
    assert!(
        state
            .root_ca_in(&cluster.id, RootCaSlot::Rotation)
            .await
            .unwrap()
            .is_none()
    );
    let token = swarm_secrets::JoinToken::parse(&cluster.join_tokens.manager).unwrap();
    assert_eq!(token.ca_digest(), new.digest());
    assert_eq!(trusted_roots(&cluster, issuing.cert_der()).len(), 1);
}
