//! A cluster formed over real TCP with mutual TLS on 127.0.0.1: init, joins, roles,
//! statuses, promote / demote, drain / pause, restart without a token.

mod cluster_support;

use cluster_support::{all_ready, cluster, config, eventually, nodes};
use std::time::Duration;
use swarm_core::model::{NodeAvailability, NodeRole, NodeState, Reachability};
use swarm_core::node::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn init_then_two_managers_and_three_workers_join_with_their_roles() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 3, 3).await;
    let control = managers[0].control().unwrap();
    let records = nodes(&control).await;
    assert_eq!(records.len(), 6);
    let role_of = |n: &Node| {
        records
            .iter()
            .find(|r| r.id == *n.id())
            .map(|r| r.spec.role)
            .unwrap()
    };
    for m in &managers {
        assert_eq!(role_of(m), NodeRole::Manager);
        assert_eq!(m.role(), NodeRole::Manager);
    }
    for w in &workers {
        assert_eq!(role_of(w), NodeRole::Worker);
        assert!(w.control().is_err(), "a worker has no control API");
    }
    // Manager statuses: one leader, the others reachable.
    let statuses = eventually(Duration::from_secs(10), "manager statuses", || async {
        let records = nodes(&control).await;
        let ms: Vec<_> = records
            .iter()
            .filter_map(|r| r.manager_status.clone())
            .collect();
        (ms.len() == 3
            && ms.iter().filter(|s| s.leader).count() == 1
            && ms.iter().all(|s| s.reachability == Reachability::Reachable))
        .then_some(ms)
    })
    .await;
    assert_eq!(statuses.len(), 3);
    let status = managers[0].store_status().unwrap();
    assert_eq!(status.voters().len(), 3);
    let table = control.node_ls().await.unwrap();
    println!("{table}");
    assert!(table.contains("Leader"));
    assert!(table.contains("Reachable"));
    assert_eq!(table.matches("Ready").count(), 6);
    // Every manager serves the control API (followers included).
    for m in &managers {
        assert_eq!(nodes(&m.control().unwrap()).await.len(), 6);
    }
    for n in workers.into_iter().chain(managers) {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn promote_and_demote_change_the_raft_membership() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 1, 2).await;
    let control = managers[0].control().unwrap();
    let w1 = &workers[0];
    control.promote(w1.id().as_str()).await.unwrap();
    eventually(
        Duration::from_secs(20),
        "the promoted node votes",
        || async {
            let status = managers[0].store_status()?;
            (status.voters().len() == 2 && w1.role() == NodeRole::Manager).then_some(())
        },
    )
    .await;
    assert!(
        w1.control().is_ok(),
        "a promoted node serves the control API"
    );
    assert_eq!(nodes(&w1.control().unwrap()).await.len(), 3);
    control.demote(w1.id().as_str()).await.unwrap();
    eventually(
        Duration::from_secs(20),
        "the demoted node leaves the group",
        || async {
            let status = managers[0].store_status()?;
            let record = control.node(w1.id().as_str()).await.ok()?;
            (status.members.len() == 1
                && w1.role() == NodeRole::Worker
                && record.manager_status.is_none())
            .then_some(())
        },
    )
    .await;
    // The last manager cannot be demoted.
    let refused = control.demote(managers[0].id().as_str()).await.unwrap_err();
    assert!(refused.to_string().contains("last manager"), "{refused}");
    for n in workers.into_iter().chain(managers) {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drain_pause_and_labels_are_recorded() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 1, 2).await;
    let control = managers[0].control().unwrap();
    control
        .set_availability(workers[0].id().as_str(), NodeAvailability::Drain)
        .await
        .unwrap();
    control
        .set_availability("w2", NodeAvailability::Pause)
        .await
        .unwrap();
    control.add_label("w2", "zone", "a").await.unwrap();
    let w1 = control.node(workers[0].id().as_str()).await.unwrap();
    let w2 = control.node("w2").await.unwrap();
    assert_eq!(w1.spec.availability, NodeAvailability::Drain);
    assert_eq!(w2.spec.availability, NodeAvailability::Pause);
    assert_eq!(w2.spec.labels.get("zone").map(String::as_str), Some("a"));
    let table = control.node_ls().await.unwrap();
    assert!(
        table.contains("Drain") && table.contains("Pause"),
        "{table}"
    );
    for n in workers.into_iter().chain(managers) {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_node_rejoins_without_a_token() {
    let root = tempfile::tempdir().unwrap();
    let (mut managers, mut workers) = cluster(root.path(), 1, 1).await;
    let control = managers[0].control().unwrap();
    let worker = workers.pop().unwrap();
    let id = worker.id().clone();
    worker.shutdown().await;
    eventually(
        Duration::from_secs(10),
        "the stopped worker is down",
        || async {
            let n = control.node(id.as_str()).await.ok()?;
            (n.status.state == NodeState::Down).then_some(())
        },
    )
    .await;
    let back = Node::start(config(root.path(), "w1")).await.unwrap();
    assert_eq!(back.id(), &id);
    all_ready(&control, 2).await;
    // The manager restarts too and keeps its state.
    let manager = managers.pop().unwrap();
    manager.shutdown().await;
    let manager = Node::start(config(root.path(), "m1")).await.unwrap();
    let control = manager.control().unwrap();
    all_ready(&control, 2).await;
    back.shutdown().await;
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_control_handle_connects_with_a_managers_data_directory() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 3, 1).await;
    // As a CLI in another process would: only the data directory of a manager (m2, a follower
    // or the leader).
    let remote = swarm_core::node::Control::connect(root.path().join("m2"))
        .await
        .unwrap();
    assert_eq!(remote.nodes(&Default::default()).await.unwrap().len(), 4);
    remote
        .set_availability(workers[0].id().as_str(), NodeAvailability::Drain)
        .await
        .unwrap();
    let local = managers[0].control().unwrap();
    let w = local.node(workers[0].id().as_str()).await.unwrap();
    assert_eq!(w.spec.availability, NodeAvailability::Drain);
    // Refusals come back typed, with the rule.
    let refused = remote.node("no-such-node").await.unwrap_err();
    assert_eq!(
        refused.refusal_kind(),
        Some(swarm_core::node::RefusalKind::NotFound),
        "{refused}"
    );
    // A worker's directory gives no control handle.
    let worker = swarm_core::node::Control::connect(root.path().join("w1")).await;
    assert!(matches!(
        worker,
        Err(swarm_core::node::NodeError::NotAManager)
    ));
    // The handle moves to another manager when the one it knows first (m2) is gone: two of
    // three managers keep a quorum.
    let (m2, rest): (Vec<Node>, Vec<Node>) = managers
        .into_iter()
        .partition(|m| m.data_dir().ends_with("m2"));
    for m in m2 {
        m.shutdown().await;
    }
    let seen = eventually(
        Duration::from_secs(15),
        "an answer from another manager",
        || async { remote.nodes(&Default::default()).await.ok() },
    )
    .await;
    assert_eq!(seen.len(), 4);
    for n in workers.into_iter().chain(rest) {
        n.shutdown().await;
    }
}
