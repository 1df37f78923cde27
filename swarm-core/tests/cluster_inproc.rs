//! The same cluster on swarm-store's in-process network with seeded faults: the node code
//! paths of the TCP tests, certificates checked the same way, the network under the test's
//! control (partitions, crashes).

mod cluster_support;

use cluster_support::inproc::inproc_config;
use cluster_support::{eventually, nodes};
use std::time::Duration;
use swarm_core::model::{NodeRole, NodeState, Reachability};
use swarm_core::node::{InProcNodes, Node};
use swarm_store::testkit::inproc::InProcNetwork;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_the_in_process_network_forms_and_survives_a_partitioned_leader() {
    let root = tempfile::tempdir().unwrap();
    let net = InProcNodes::new(InProcNetwork::new(7));
    let m1 = Node::init(inproc_config(root.path(), "m1", &net), Default::default())
        .await
        .unwrap();
    let control = m1.control().unwrap();
    let manager_token = control.join_token(NodeRole::Manager).await.unwrap();
    let worker_token = control.join_token(NodeRole::Worker).await.unwrap();
    let mut managers = vec![m1];
    for name in ["m2", "m3"] {
        let n = Node::join(
            inproc_config(root.path(), name, &net),
            "m1:2377",
            &manager_token,
        )
        .await
        .unwrap();
        managers.push(n);
        let expected = managers.len();
        eventually(Duration::from_secs(20), "the manager votes", || async {
            let s = managers[0].store_status()?;
            (s.voters().len() == expected && s.is_settled()).then_some(())
        })
        .await;
    }
    let w1 = Node::join(
        inproc_config(root.path(), "w1", &net),
        "m1:2377",
        &worker_token,
    )
    .await
    .unwrap();
    // A wrong token is refused on this network too.
    let wrong = Node::join(
        inproc_config(root.path(), "x1", &net),
        "m1:2377",
        "SWMTKN-1-bad",
    )
    .await;
    assert!(wrong.is_err());
    eventually(Duration::from_secs(20), "four nodes ready", || async {
        let n = nodes(&control).await;
        (n.len() == 4 && n.iter().all(|r| r.status.state == NodeState::Ready)).then_some(())
    })
    .await;

    // Cut the leader off: the others elect a new one, which marks it unreachable.
    let leader = eventually(Duration::from_secs(10), "a leader", || async {
        managers.iter().position(|m| m.is_leader())
    })
    .await;
    let leader_name = ["m1", "m2", "m3"][leader];
    let leader_net = net.net_id(&format!("{leader_name}:2377"));
    net.network().isolate(leader_net);
    let survivors: Vec<&Node> = managers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leader)
        .map(|(_, m)| m)
        .collect();
    let old = managers[leader].id().clone();
    let new_control = eventually(Duration::from_secs(20), "a new leader", || async {
        survivors
            .iter()
            .find(|m| m.is_leader())
            .and_then(|m| m.control().ok())
    })
    .await;
    eventually(
        Duration::from_secs(20),
        "the old leader unreachable",
        || async {
            let n = new_control.node(old.as_str()).await.ok()?;
            let s = n.manager_status?;
            (!s.leader && s.reachability == Reachability::Unreachable).then_some(())
        },
    )
    .await;
    net.network().rejoin(leader_net);
    eventually(
        Duration::from_secs(20),
        "every manager reachable again",
        || async {
            let n = nodes(&new_control).await;
            let ms: Vec<_> = n.iter().filter_map(|r| r.manager_status.clone()).collect();
            (ms.len() == 3 && ms.iter().all(|s| s.reachability == Reachability::Reachable))
                .then_some(())
        },
    )
    .await;
    w1.shutdown().await;
    for m in managers {
        m.shutdown().await;
    }
}

/// Seed 264 of the simulation: a worker cut off while the only manager it knew was demoted
/// (and a manager it had known before promoted again) kept calling the demoted node, which
/// no longer listens as a manager, and never found the new manager. The agent now tries
/// every manager it ever learned of once its current ones all fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_264_a_worker_whose_only_manager_was_demoted_while_cut_off_finds_the_new_one() {
    let root = tempfile::tempdir().unwrap();
    let net = InProcNodes::new(InProcNetwork::new(264));
    let m1 = Node::init(inproc_config(root.path(), "m1", &net), Default::default())
        .await
        .unwrap();
    let control = m1.control().unwrap();
    let manager_token = control.join_token(NodeRole::Manager).await.unwrap();
    let worker_token = control.join_token(NodeRole::Worker).await.unwrap();
    let m2 = Node::join(
        inproc_config(root.path(), "m2", &net),
        "m1:2377",
        &manager_token,
    )
    .await
    .unwrap();
    eventually(Duration::from_secs(20), "m2 votes", || async {
        let s = m1.store_status()?;
        (s.voters().len() == 2 && s.is_settled()).then_some(())
    })
    .await;
    let mut w1_config = inproc_config(root.path(), "w1", &net);
    // Give up on the current managers sooner than the defaults (10 calls in a row).
    w1_config.agent.max_attempts = 3;
    w1_config.agent.backoff_max = Duration::from_millis(500);
    let w1 = Node::join(w1_config, "m1:2377", &worker_token)
        .await
        .unwrap();
    let addrs = |n: &Node| -> Vec<String> { n.managers().into_iter().map(|m| m.addr).collect() };
    eventually(
        Duration::from_secs(20),
        "w1 knows both managers",
        || async { (addrs(&w1).len() == 2).then_some(()) },
    )
    .await;

    // m2 demoted: w1 hears of m1 only.
    control.demote(m2.id().as_str()).await.unwrap();
    eventually(Duration::from_secs(20), "w1 knows m1 only", || async {
        (addrs(&w1) == ["m1:2377"] && m2.role() == NodeRole::Worker).then_some(())
    })
    .await;

    // w1 cut off; meanwhile m2 promoted again and m1 demoted.
    let w1_net = net.net_id("w1:2377");
    net.network().isolate(w1_net);
    control.promote(m2.id().as_str()).await.unwrap();
    eventually(Duration::from_secs(20), "m2 votes again", || async {
        let s = m1.store_status()?;
        (s.voters().len() == 2 && s.is_settled() && m2.role() == NodeRole::Manager).then_some(())
    })
    .await;
    let m2_control = m2.control().unwrap();
    eventually(Duration::from_secs(20), "m1 demoted", || async {
        m2_control.demote(m1.id().as_str()).await.ok()
    })
    .await;
    eventually(Duration::from_secs(20), "m1 a worker", || async {
        (m1.role() == NodeRole::Worker && m2.is_leader()).then_some(())
    })
    .await;

    // Healed: w1 finds m2 and is ready again.
    net.network().rejoin(w1_net);
    eventually(Duration::from_secs(60), "w1 ready with m2", || async {
        let record = m2_control.node(w1.id().as_str()).await.ok()?;
        (record.status.state == NodeState::Ready && addrs(&w1) == ["m2:2377"]).then_some(())
    })
    .await;
    for n in [w1, m1, m2] {
        n.shutdown().await;
    }
}
