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

/// Task `id` of service `web` in `slot`, desired running.
fn slot_task(id: &str, slot: u64) -> swarm_core::model::Task {
    let mut task = swarm_core::model::Task::new(id.into(), "web".into(), Default::default(), t(0));
    task.slot = Some(slot);
    task
}

#[tokio::test]
async fn chunked_writes_keep_each_slot_together_and_leave_out_only_a_refused_slot() {
    use swarm_core::manager::writes::ObjectWrite;
    use swarm_core::model::TaskState;
    const SLOTS: u64 = 600;
    let (state, _) = founded().await;
    let creates: Vec<ManagerWrite> = (1..=SLOTS)
        .map(|slot| ManagerWrite::Task(ObjectWrite::Create(slot_task(&format!("old{slot}"), slot))))
        .collect();
    let results = state.apply_chunked(&creates).await;
    assert!(results.len() >= 3, "{} transactions", results.len());
    let mut seen: Vec<usize> = results.iter().flat_map(|r| r.indexes()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..creates.len()).collect::<Vec<_>>());
    assert!(results.iter().all(|r| r.result.is_ok()));

    // Slot 300's task changes after the round read it (its agent reported a status).
    let mut loaded = state.load_state().await.unwrap();
    let read = loaded.task(&"old300".into()).unwrap().clone();
    let mut reported = read.clone();
    reported.status.message = "reported".into();
    let report = ManagerWrite::Task(ObjectWrite::Update {
        object: reported,
        expected_version: read.meta.version,
    });
    state.apply_chunked(std::slice::from_ref(&report)).await;

    // The round: every slot's task shut down and replaced, the writes sorted by slot, after
    // a write that stands alone (so that pairs straddle the 256-operation limit).
    let mut cluster = state.cluster().await.unwrap().unwrap();
    cluster.spec.labels.insert("zone".into(), "a".into());
    let mut round: Vec<ManagerWrite> = vec![ManagerWrite::UpdateCluster {
        expected_version: cluster.meta.version,
        cluster,
    }];
    for slot in 1..=SLOTS {
        let old = loaded.task(&format!("old{slot}").into()).unwrap().clone();
        let mut shut = old.clone();
        shut.desired_state = TaskState::Shutdown;
        round.push(ManagerWrite::Task(ObjectWrite::Update {
            object: shut,
            expected_version: old.meta.version,
        }));
        round.push(ManagerWrite::Task(ObjectWrite::Create(slot_task(
            &format!("new{slot}"),
            slot,
        ))));
    }
    round.sort_by(|a, b| a.commit_group().cmp(&b.commit_group()));
    let results = state.apply_chunked(&round).await;
    // Each slot's two writes shared a transaction.
    for result in &results {
        let held: Vec<usize> = result.indexes().collect();
        for i in &held {
            let partner = match i {
                0 => continue,
                i if i % 2 == 1 => i + 1,
                i => i - 1,
            };
            assert!(held.contains(&partner), "write {i} without {partner}");
        }
    }
    // Only slot 300 was refused, as a conflict; the transaction holding it went through
    // without it.
    let refused: Vec<usize> = results
        .iter()
        .filter(|r| r.result.is_err())
        .flat_map(|r| r.indexes())
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        results.iter().filter(|r| r.result.is_err()).all(|r| r
            .result
            .as_ref()
            .unwrap_err()
            .is_conflict())
    );
    loaded = state.load_state().await.unwrap();
    assert!(loaded.task(&"new300".into()).is_none());
    assert_eq!(
        loaded.task(&"old300".into()).unwrap().desired_state,
        TaskState::Running
    );
    for slot in (1..=SLOTS).filter(|s| *s != 300) {
        assert!(
            loaded.task(&format!("new{slot}").into()).is_some(),
            "slot {slot}"
        );
        let old = loaded.task(&format!("old{slot}").into()).unwrap();
        assert_eq!(old.desired_state, TaskState::Shutdown, "slot {slot}");
    }
}

#[tokio::test]
async fn a_round_under_a_fence_taken_since_by_another_manager_changes_nothing() {
    use swarm_core::manager::writes::ObjectWrite;
    // 600 creates: full transactions, so the fence's check must fit beside 255 writes.
    const SLOTS: u64 = 600;
    let (state, _) = founded().await;
    let deposed = state.take_orchestration_fence(1).await.unwrap();
    let leader = state.take_orchestration_fence(2).await.unwrap();
    assert!(
        leader.version > deposed.version,
        "{leader:?} after {deposed:?}"
    );

    // The deposed leader's round (its store member forwards it to the new leader): refused
    // whole, each transaction naming the fence, nothing created.
    let creates = |prefix: &str| -> Vec<ManagerWrite> {
        (1..=SLOTS)
            .map(|slot| {
                ManagerWrite::Task(ObjectWrite::Create(slot_task(
                    &format!("{prefix}{slot}"),
                    slot,
                )))
            })
            .collect()
    };
    let stale = state.apply_fenced(&creates("stale"), deposed).await;
    assert!(stale.len() >= 3, "{} transactions", stale.len());
    for result in &stale {
        let e = result.result.as_ref().unwrap_err();
        assert!(e.is_fence_lost() && e.is_conflict(), "{e}");
    }
    assert!(state.load_state().await.unwrap().tasks().is_empty());

    // The holder's round applies whole.
    let held = state.apply_fenced(&creates("new"), leader).await;
    assert!(held.iter().all(|r| r.result.is_ok()));
    assert_eq!(
        state.load_state().await.unwrap().tasks().len(),
        SLOTS as usize
    );

    // A version conflict on a task is not a lost fence.
    let loaded = state.load_state().await.unwrap();
    let task = loaded.task(&"new1".into()).unwrap().clone();
    let stale_update = ManagerWrite::Task(ObjectWrite::Update {
        object: task.clone(),
        expected_version: Version(task.meta.version.0 + 5),
    });
    let results = state
        .apply_fenced(std::slice::from_ref(&stale_update), leader)
        .await;
    let e = results[0].result.as_ref().unwrap_err();
    assert!(e.is_conflict() && !e.is_fence_lost(), "{e}");
}
