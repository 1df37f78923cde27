//! Certificates over time on a running cluster over TCP with mutual TLS: a root CA rotation
//! re-issues every node's certificate from the new root while both roots are trusted, retires
//! the old root and re-pins the join tokens, with no node marked down meanwhile.

mod cluster_support;

use cluster_support::{cluster, config, eventually, nodes};
use std::time::Duration;
use swarm_core::model::{NodeRole, NodeState};
use swarm_core::node::{ClusterEvent, Node, NodeError};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_root_rotation_reissues_every_certificate_without_a_node_going_down() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 2, 2).await;
    let control = managers[0].control().unwrap();
    let mut events = managers[0].events();
    let before = control.cluster().await.unwrap();
    let old_token = control.join_token(NodeRole::Worker).await.unwrap();
    let old_roots: Vec<_> = nodes(&control)
        .await
        .iter()
        .map(|n| n.certificate_root)
        .collect();
    assert!(old_roots.iter().all(|r| r.is_some() && *r == old_roots[0]));
    // Every node's certificate comes from the root the cluster was initialized with.
    let old_root_der = managers[0].root_ca_der();
    assert!(!old_root_der.is_empty());
    for n in managers.iter().chain(&workers) {
        assert_eq!(n.root_ca_der(), old_root_der, "{}", n.id());
    }

    control.rotate_root_ca().await.unwrap();
    // A second rotation while one runs is refused, naming the rule.
    let again = control.rotate_root_ca().await;
    assert!(again.is_err() || control.cluster().await.unwrap().root_rotation.is_none());

    let after = eventually(Duration::from_secs(30), "the rotation finished", || async {
        let c = control.cluster().await.ok()?;
        c.root_rotation.is_none().then_some(c)
    })
    .await;
    assert_ne!(after.join_tokens.worker, before.join_tokens.worker);
    let records = nodes(&control).await;
    assert_eq!(records.len(), 4);
    for r in &records {
        assert_ne!(
            r.certificate_root, old_roots[0],
            "{} still on the old root",
            r.id
        );
        assert_eq!(
            r.status.state,
            NodeState::Ready,
            "{} is {}",
            r.id,
            r.status.state
        );
    }
    // Each node now holds the new root, the same for all.
    let new_root_der = eventually(
        Duration::from_secs(30),
        "every node on the new root",
        || {
            let roots: Vec<Vec<u8>> = managers
                .iter()
                .chain(&workers)
                .map(Node::root_ca_der)
                .collect();
            let done = roots.iter().all(|r| *r != old_root_der && *r == roots[0]);
            let root = done.then(|| roots[0].clone());
            async move { root }
        },
    )
    .await;
    assert!(!new_root_der.is_empty());
    // Nobody went down during the switch.
    while let Ok(event) = events.try_recv() {
        if let ClusterEvent::NodeStateChanged { node, to, .. } = &event {
            assert_ne!(*to, NodeState::Down, "{node} went down during the rotation");
        }
    }
    // The cluster keeps working: writes, and joins with the re-pinned token only.
    control
        .set_availability(
            workers[0].id().as_str(),
            swarm_core::model::NodeAvailability::Pause,
        )
        .await
        .unwrap();
    let refused = Node::join(
        config(root.path(), "late-old"),
        &managers[0].advertise_addr(),
        &old_token,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, NodeError::JoinRefused { .. }),
        "{refused}"
    );
    let token = control.join_token(NodeRole::Worker).await.unwrap();
    let late = Node::join(
        config(root.path(), "late"),
        &managers[0].advertise_addr(),
        &token,
    )
    .await
    .unwrap();
    eventually(Duration::from_secs(15), "the late worker ready", || async {
        let n = control.node(late.id().as_str()).await.ok()?;
        (n.status.state == NodeState::Ready).then_some(())
    })
    .await;
    // A node restarted after the rotation trusts the new root only and comes back.
    let mut workers = workers;
    let w = workers.pop().unwrap();
    let name = control
        .node(w.id().as_str())
        .await
        .unwrap()
        .description
        .unwrap()
        .hostname;
    w.shutdown().await;
    let w = Node::start(config(root.path(), &name)).await.unwrap();
    eventually(
        Duration::from_secs(15),
        "the restarted worker ready",
        || async {
            let n = control.node(w.id().as_str()).await.ok()?;
            (n.status.state == NodeState::Ready).then_some(())
        },
    )
    .await;
    for n in workers.into_iter().chain([w, late]).chain(managers) {
        n.shutdown().await;
    }
}
