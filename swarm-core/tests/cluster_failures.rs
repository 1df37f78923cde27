//! Failures of a cluster over real TCP with mutual TLS: a dead worker, a dead leader, quorum
//! loss and force-new-cluster, autolock across restarts.

mod cluster_support;

use cluster_support::{all_ready, cluster, config, eventually, leader_control, nodes, spec};
use std::time::Duration;
use swarm_core::model::{NodeRole, NodeState, Reachability};
use swarm_core::node::{Node, NodeError};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_worker_is_marked_down() {
    let root = tempfile::tempdir().unwrap();
    let (managers, mut workers) = cluster(root.path(), 1, 2).await;
    let control = managers[0].control().unwrap();
    let dead = workers.pop().unwrap();
    let id = dead.id().clone();
    dead.shutdown().await;
    let record = eventually(Duration::from_secs(10), "the dead worker down", || async {
        let n = control.node(id.as_str()).await.ok()?;
        (n.status.state == NodeState::Down).then_some(n)
    })
    .await;
    assert_eq!(record.status.message, "heartbeat failure");
    // The other worker stays ready.
    let other = control.node(workers[0].id().as_str()).await.unwrap();
    assert_eq!(other.status.state, NodeState::Ready);
    for n in workers.into_iter().chain(managers) {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_leader_is_replaced_and_the_control_api_answers_again() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 3, 1).await;
    let refs: Vec<&Node> = managers.iter().collect();
    leader_control(&refs).await;
    let (leaders, survivors): (Vec<Node>, Vec<Node>) =
        managers.into_iter().partition(|m| m.is_leader());
    let [old] = <[Node; 1]>::try_from(leaders).expect("one leader");
    let old_id = old.id().clone();
    old.shutdown().await;
    let refs: Vec<&Node> = survivors.iter().collect();
    let control = leader_control(&refs).await;
    let record = eventually(
        Duration::from_secs(15),
        "the old leader unreachable",
        || async {
            let n = control.node(old_id.as_str()).await.ok()?;
            let status = n.manager_status.clone()?;
            (!status.leader && status.reachability == Reachability::Unreachable).then_some(n)
        },
    )
    .await;
    assert_eq!(record.spec.role, NodeRole::Manager);
    // Writes work under the new leader.
    control
        .set_availability(
            workers[0].id().as_str(),
            swarm_core::model::NodeAvailability::Drain,
        )
        .await
        .unwrap();
    assert_eq!(nodes(&control).await.len(), 4);
    for n in workers.into_iter().chain(survivors) {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn force_new_cluster_after_quorum_loss_keeps_every_record() {
    let root = tempfile::tempdir().unwrap();
    let (mut managers, workers) = cluster(root.path(), 3, 1).await;
    let m3 = managers.pop().unwrap();
    let m2 = managers.pop().unwrap();
    let m1 = managers.pop().unwrap();
    let lost = [m2.id().clone(), m3.id().clone()];
    m2.shutdown().await;
    m3.shutdown().await;
    // No quorum: a write cannot commit.
    let control = m1.control().unwrap();
    let write = tokio::time::timeout(
        Duration::from_secs(8),
        control.set_availability("w1", swarm_core::model::NodeAvailability::Pause),
    )
    .await;
    assert!(
        !matches!(write, Ok(Ok(()))),
        "a write committed without quorum"
    );
    m1.shutdown().await;
    let m1 = Node::force_new_cluster(config(root.path(), "m1"))
        .await
        .unwrap();
    let control = m1.control().unwrap();
    let records = eventually(
        Duration::from_secs(15),
        "the records after recovery",
        || async {
            let n = nodes(&control).await;
            (n.len() == 4).then_some(n)
        },
    )
    .await;
    for id in &lost {
        let r = records
            .iter()
            .find(|r| r.id == *id)
            .expect("a lost manager's record");
        assert_eq!(r.spec.role, NodeRole::Worker);
        assert!(r.manager_status.is_none());
    }
    assert_eq!(m1.store_status().unwrap().voters().len(), 1);
    control
        .set_availability("w1", swarm_core::model::NodeAvailability::Pause)
        .await
        .unwrap();
    let w1 = control.node("w1").await.unwrap();
    assert_eq!(
        w1.spec.availability,
        swarm_core::model::NodeAvailability::Pause
    );
    eventually(
        Duration::from_secs(15),
        "the worker ready again",
        || async {
            let n = control.node("w1").await.ok()?;
            (n.status.state == NodeState::Ready).then_some(())
        },
    )
    .await;
    for n in workers {
        n.shutdown().await;
    }
    m1.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_autolocked_manager_stays_locked_until_given_the_right_key() {
    let root = tempfile::tempdir().unwrap();
    let mut cluster_spec = spec();
    cluster_spec.encryption.auto_lock_managers = true;
    let m1 = Node::init(config(root.path(), "m1"), cluster_spec)
        .await
        .unwrap();
    let control = m1.control().unwrap();
    let key = control
        .unlock_key()
        .await
        .unwrap()
        .expect("autolock gives a key");
    let token = control.join_token(NodeRole::Worker).await.unwrap();
    let w1 = Node::join(config(root.path(), "w1"), &m1.advertise_addr(), &token)
        .await
        .unwrap();
    all_ready(&control, 2).await;
    m1.shutdown().await;

    let locked = Node::start(config(root.path(), "m1")).await.unwrap_err();
    assert!(matches!(locked, NodeError::Locked), "{locked}");
    let mut wrong = config(root.path(), "m1");
    wrong.unlock_key = Some(swarm_secrets::UnlockKey::generate().unwrap());
    let refused = Node::start(wrong).await.unwrap_err();
    assert!(matches!(refused, NodeError::WrongUnlockKey), "{refused}");

    let mut right = config(root.path(), "m1");
    right.unlock_key = Some(swarm_secrets::UnlockKey::parse(&key).unwrap());
    let m1 = Node::start(right).await.unwrap();
    let control = m1.control().unwrap();
    all_ready(&control, 2).await;

    // A rotated key locks the data from then on; the old one no longer opens it.
    let rotated = control
        .rotate_unlock_key()
        .await
        .unwrap()
        .expect("a new key");
    assert_ne!(*rotated, *key);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    m1.shutdown().await;
    let mut old = config(root.path(), "m1");
    old.unlock_key = Some(swarm_secrets::UnlockKey::parse(&key).unwrap());
    assert!(matches!(
        Node::start(old).await,
        Err(NodeError::WrongUnlockKey)
    ));
    let mut new = config(root.path(), "m1");
    new.unlock_key = Some(swarm_secrets::UnlockKey::parse(&rotated).unwrap());
    let m1 = Node::start(new).await.unwrap();
    assert_eq!(nodes(&m1.control().unwrap()).await.len(), 2);
    w1.shutdown().await;
    m1.shutdown().await;
}

/// A leader stops promptly although its quorum stopped first and its dead workers are due to
/// be written `Down`: whatever its loops wait on, `Node::shutdown` waits for them at most
/// `MANAGER_STOP_GRACE` before aborting them (the store fails such writes fast today; the
/// bound holds if a write waited its full request timeout of 5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_whose_quorum_stopped_first_stops_without_waiting_for_its_writes() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 3, 3).await;
    let refs: Vec<&Node> = managers.iter().collect();
    leader_control(&refs).await;
    let (leaders, followers): (Vec<Node>, Vec<Node>) =
        managers.into_iter().partition(|m| m.is_leader());
    let [leader] = <[Node; 1]>::try_from(leaders).expect("one leader");
    for n in followers.into_iter().chain(workers) {
        n.shutdown().await;
    }
    // Past the workers' grace (4 heartbeats of 500 ms): the leader writes them down, and no
    // write commits without a quorum.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Three writes of 5 s each would take 15 s; the loops' grace is 0.5 s, the store's release
    // wait 2 s at most.
    let stopped = tokio::time::timeout(Duration::from_secs(10), leader.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "the leader's shutdown waited on writes that cannot commit"
    );
}

/// A write made on a survivor while the next leader is being elected waits for it
/// (`NO_LEADER_WAIT`) instead of failing with "no leader": the election takes about 1.3 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_during_an_election_waits_for_the_new_leader() {
    let root = tempfile::tempdir().unwrap();
    let (managers, workers) = cluster(root.path(), 3, 1).await;
    let refs: Vec<&Node> = managers.iter().collect();
    leader_control(&refs).await;
    let (leaders, survivors): (Vec<Node>, Vec<Node>) =
        managers.into_iter().partition(|m| m.is_leader());
    let [old] = <[Node; 1]>::try_from(leaders).expect("one leader");
    let control = survivors[0].control().unwrap();
    old.shutdown().await;
    // No leader yet: the write is made at once, through the survivor's own handle.
    assert!(survivors.iter().all(|m| !m.is_leader()));
    control
        .set_availability(
            workers[0].id().as_str(),
            swarm_core::model::NodeAvailability::Pause,
        )
        .await
        .expect("the write waited for the new leader");
    let record = control.node(workers[0].id().as_str()).await.unwrap();
    assert_eq!(
        record.spec.availability,
        swarm_core::model::NodeAvailability::Pause
    );
    for n in workers.into_iter().chain(survivors) {
        n.shutdown().await;
    }
}
