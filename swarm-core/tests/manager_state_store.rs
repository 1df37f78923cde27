//! The managers' schema on a real swarm-store `Store` (one member, memory storage): a step's
//! writes applied as one transaction with their version checks, conflicts named, records read
//! back with their store versions.

#![allow(clippy::unwrap_used)]

mod manager_support;

use manager_support::{Rng, csr, description, new_ca, one_member_store, t};
use swarm_core::manager::control::{
    ClusterView, InitRequest, NodeUpdate, init_cluster, update_node,
};
use swarm_core::manager::state::schema::{CLUSTERS, NODES, ROOT_CA};
use swarm_core::manager::state::{ManagerStore, StateError, StoredRootCa};
use swarm_core::manager::writes::{ManagerWrite, ManagerWrites};
use swarm_core::model::{ClusterSpec, NodeAvailability, Version};
use swarm_secrets::CertPolicy;

fn init_request() -> InitRequest {
    InitRequest {
        spec: ClusterSpec::default(),
        csr_der: csr(),
        advertise_addr: "10.0.0.1:2377".into(),
        availability: NodeAvailability::Active,
        description: Some(description("manager-0")),
    }
}

/// A store holding a founded cluster, and the CA.
async fn founded() -> (ManagerStore, swarm_secrets::ClusterCa) {
    let state = ManagerStore::new(one_member_store().await);
    let ca = new_ca("c0ffee");
    let init = init_cluster(&ca, &init_request(), t(0), &mut Rng(1).source()).unwrap();
    state
        .initialize(&StoredRootCa::from_ca(&ca), &init.writes)
        .await
        .unwrap();
    (state, ca)
}

#[tokio::test]
async fn init_writes_the_cluster_the_founder_and_the_root_ca_in_one_transaction() {
    let (state, ca) = founded().await;
    let cluster = state.cluster().await.unwrap().unwrap();
    assert_eq!(cluster.id.as_str(), "c0ffee");
    assert_eq!(cluster.meta.version, Version(1));
    let nodes = state.nodes().await.unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].meta.version, Version(1));
    assert_eq!(nodes[0].display_name(), "manager-0");
    assert_eq!(state.node(&nodes[0].id).await.unwrap().unwrap(), nodes[0]);

    let stored = state.root_ca(&cluster.id).await.unwrap().unwrap();
    assert!(!format!("{stored:?}").contains(&format!("{:?}", stored.expose_key_pkcs8_der())));
    let restored = stored.to_ca(CertPolicy::default()).unwrap();
    assert_eq!(restored.digest(), ca.digest());
    assert_eq!(
        restored.key_pkcs8_der().as_slice(),
        ca.key_pkcs8_der().as_slice()
    );

    // A second init is refused as a whole: nothing of it is written.
    let again = init_cluster(&ca, &init_request(), t(5), &mut Rng(2).source()).unwrap();
    let e = state
        .initialize(&StoredRootCa::from_ca(&ca), &again.writes)
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    match e {
        StateError::Conflict {
            collection,
            expected: None,
            actual: Some(1),
            ..
        } => assert_eq!(collection, ROOT_CA),
        other => panic!("{other}"),
    }
    assert_eq!(state.nodes().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_step_applies_at_the_version_it_read_and_a_stale_one_conflicts() {
    let (state, _) = founded().await;
    let cluster = state.cluster().await.unwrap().unwrap();
    let nodes = state.nodes().await.unwrap();
    let view = ClusterView {
        cluster: &cluster,
        nodes: &nodes,
    };
    let drain = |version| NodeUpdate {
        version,
        spec: swarm_core::model::NodeSpec {
            availability: NodeAvailability::Drain,
            ..nodes[0].spec.clone()
        },
    };
    let writes = update_node(
        view,
        nodes[0].id.as_str(),
        &drain(Version(1)),
        t(1),
        &mut Rng(3).source(),
    )
    .unwrap();
    let outcome = state.apply(&writes).await.unwrap().unwrap();
    assert_eq!(outcome.versions, vec![Some(2)]);
    let node = state.node(&nodes[0].id).await.unwrap().unwrap();
    assert_eq!(node.spec.availability, NodeAvailability::Drain);
    assert_eq!(node.meta.version, Version(2));
    assert_eq!(node.meta.updated_at, t(1));

    // The same writes again: the node moved on, so the store refuses and names it.
    let e = state.apply(&writes).await.unwrap_err();
    match &e {
        StateError::Conflict {
            collection,
            key,
            expected: Some(1),
            actual: Some(2),
        } => {
            assert_eq!(
                (collection.as_str(), key.as_str()),
                (NODES, nodes[0].id.as_str())
            );
        }
        other => panic!("{other}"),
    }
    assert!(e.is_conflict() && !e.is_retryable() && !e.is_indeterminate());
    assert!(e.to_string().contains(nodes[0].id.as_str()), "{e}");
}

#[tokio::test]
async fn writes_apply_all_or_nothing() {
    let (state, _) = founded().await;
    let mut cluster = state.cluster().await.unwrap().unwrap();
    let node = state.nodes().await.unwrap().remove(0);
    let mut renamed = node.clone();
    renamed.spec.name = "first".into();
    cluster.spec.labels.insert("zone".into(), "a".into());
    // A good cluster update and a stale node update: neither applies.
    let writes = ManagerWrites {
        writes: vec![
            ManagerWrite::UpdateCluster {
                cluster: cluster.clone(),
                expected_version: Version(1),
            },
            ManagerWrite::UpdateNode {
                node: renamed.clone(),
                expected_version: Version(9),
            },
        ],
        membership: Vec::new(),
    };
    let e = state.apply(&writes).await.unwrap_err();
    assert!(e.is_conflict(), "{e}");
    let stored = state.cluster().await.unwrap().unwrap();
    assert!(stored.spec.labels.is_empty());
    assert_eq!(stored.meta.version, Version(1));

    // Both at the versions read: both apply at one revision.
    let writes = ManagerWrites {
        writes: vec![
            ManagerWrite::UpdateCluster {
                cluster,
                expected_version: Version(1),
            },
            ManagerWrite::UpdateNode {
                node: renamed,
                expected_version: Version(1),
            },
        ],
        membership: Vec::new(),
    };
    let outcome = state.apply(&writes).await.unwrap().unwrap();
    assert_eq!(outcome.versions, vec![Some(2), Some(2)]);
    assert_eq!(
        state.node(&node.id).await.unwrap().unwrap().spec.name,
        "first"
    );
    assert_eq!(
        state.cluster().await.unwrap().unwrap().spec.labels["zone"],
        "a"
    );
}

#[tokio::test]
async fn creates_deletes_and_missing_documents_are_named() {
    let (state, _) = founded().await;
    let node = state.nodes().await.unwrap().remove(0);
    let cluster = state.cluster().await.unwrap().unwrap();

    let duplicate = ManagerWrites {
        writes: vec![ManagerWrite::CreateNode(node.clone())],
        membership: Vec::new(),
    };
    match state.apply(&duplicate).await.unwrap_err() {
        StateError::Conflict {
            collection,
            expected: None,
            actual: Some(1),
            ..
        } => assert_eq!(collection, NODES),
        other => panic!("{other}"),
    }
    let second_cluster = ManagerWrites {
        writes: vec![ManagerWrite::CreateCluster(cluster)],
        membership: Vec::new(),
    };
    match state.apply(&second_cluster).await.unwrap_err() {
        StateError::Conflict { collection, .. } => assert_eq!(collection, CLUSTERS),
        other => panic!("{other}"),
    }

    let delete = |version| ManagerWrites {
        writes: vec![ManagerWrite::DeleteNode {
            id: node.id.clone(),
            expected_version: Version(version),
        }],
        membership: Vec::new(),
    };
    assert!(state.apply(&delete(4)).await.unwrap_err().is_conflict());
    state.apply(&delete(1)).await.unwrap();
    assert!(state.node(&node.id).await.unwrap().is_none());
    // Deleting it again: gone, and the error carries the version the write expected.
    match state.apply(&delete(1)).await.unwrap_err() {
        StateError::Conflict {
            key,
            expected: Some(1),
            actual: None,
            ..
        } => assert_eq!(key, node.id.as_str()),
        other => panic!("{other}"),
    }
    assert_eq!(state.apply(&ManagerWrites::default()).await.unwrap(), None);
}
