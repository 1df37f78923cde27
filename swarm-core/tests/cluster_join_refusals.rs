//! Joins refused over real TCP with mutual TLS: a wrong, rotated, other-cluster or malformed
//! token, each with an error that says which; nothing is recorded for a refused join.

mod cluster_support;

use cluster_support::{config, nodes, spec};
use swarm_core::model::NodeRole;
use swarm_core::node::{Node, NodeError};

fn refusal(e: NodeError) -> String {
    match e {
        NodeError::JoinRefused { reason, .. } => reason,
        other => panic!("expected a refused join, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_rotated_other_cluster_and_malformed_tokens_are_refused_saying_which() {
    let root = tempfile::tempdir().unwrap();
    let m1 = Node::init(config(root.path(), "m1"), spec()).await.unwrap();
    let control = m1.control().unwrap();
    let addr = m1.advertise_addr();
    let worker_token = control.join_token(NodeRole::Worker).await.unwrap();

    // Wrong: the right CA digest, another secret.
    let (prefix, secret) = worker_token.rsplit_once('-').unwrap();
    let flipped: String = secret
        .chars()
        .map(|c| if c == 'a' { 'b' } else { 'a' })
        .collect();
    let wrong = format!("{prefix}-{flipped}");
    let e = Node::join(config(root.path(), "x1"), &addr, &wrong)
        .await
        .unwrap_err();
    assert!(refusal(e).contains("not a current worker or manager token"));

    // Rotated: the old worker token after a rotation.
    let fresh = control.rotate_join_token(NodeRole::Worker).await.unwrap();
    assert_ne!(*fresh, *worker_token);
    let e = Node::join(config(root.path(), "x2"), &addr, &worker_token)
        .await
        .unwrap_err();
    assert!(refusal(e).contains("was rotated"));

    // Another cluster's token: its CA digest does not match this manager's root CA.
    let other = Node::init(config(root.path(), "o1"), spec()).await.unwrap();
    let other_token = other
        .control()
        .unwrap()
        .join_token(NodeRole::Worker)
        .await
        .unwrap();
    let e = Node::join(config(root.path(), "x3"), &addr, &other_token)
        .await
        .unwrap_err();
    assert!(refusal(e).contains("not the one the token pins"));

    // Malformed.
    let e = Node::join(config(root.path(), "x4"), &addr, "SWMTKN-1-nonsense")
        .await
        .unwrap_err();
    assert!(refusal(e).contains("the token"));

    // Nothing was recorded; the fresh token works.
    assert_eq!(nodes(&control).await.len(), 1);
    let ok = Node::join(config(root.path(), "w1"), &addr, &fresh)
        .await
        .unwrap();
    assert_eq!(ok.role(), NodeRole::Worker);
    // A data directory that already holds a node is refused.
    let again = Node::join(config(root.path(), "w1"), &addr, &fresh)
        .await
        .unwrap_err();
    assert!(
        matches!(again, NodeError::AlreadyInitialized { .. }),
        "{again}"
    );
    ok.shutdown().await;
    other.shutdown().await;
    m1.shutdown().await;
}
