//! A service's secret and config reach exactly the nodes that run its tasks, end to end: three
//! managers and five workers on the in-process network with the mock runtime, driven only
//! through the public `Control` handle. The files the tasks see hold the values; they follow a
//! task moved off a drained node, stay on a node that still runs one of its tasks after a
//! scale-down, and scaling the service to zero drops them from every agent; the secret cannot
//! be removed while the service uses it.

mod cluster_support;
use cluster_support::inproc::{Member, start_cluster};

use cluster_support::converged;

use cluster_support::eventually;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use swarm_core::manager::control::{ControlError, ObjectType};
use swarm_core::model::{
    ConfigId, ConfigReference, ConfigSpec, FileTarget, NodeAvailability, NodeId, SecretId,
    SecretReference, SecretSpec, ServiceMode, ServiceSpec, Task,
};
use swarm_core::node::{Node, NodeError};
use swarm_core::runtime::FileKind;

const CONVERGE: Duration = Duration::from_secs(30);
const SECRET_VALUE: &[u8] = b"nerd-dinner-db-password: hunter2";
const CONFIG_VALUE: &[u8] = b"{\"Logging\":{\"LogLevel\":\"Warning\"}}";

/// How many of `tasks` each node runs.
fn count_per_node(tasks: &[Task]) -> BTreeMap<NodeId, usize> {
    let mut by_node = BTreeMap::new();
    for t in tasks {
        if let Some(node) = &t.node_id {
            *by_node.entry(node.clone()).or_insert(0) += 1;
        }
    }
    by_node
}

/// Waits until exactly the nodes in `holders` hold `secret` and `config` (and nothing else),
/// and the others hold nothing.
async fn held_exactly_by(
    members: &[Member],
    holders: &BTreeSet<NodeId>,
    secret: &SecretId,
    config: &ConfigId,
) {
    eventually(CONVERGE, "the agents' holdings settle", || async {
        members
            .iter()
            .all(|m| {
                let view = m.node.agent_snapshot();
                if holders.contains(m.node.id()) {
                    view.held_secrets == [secret.clone()] && view.held_configs == [config.clone()]
                } else {
                    view.held_secrets.is_empty() && view.held_configs.is_empty()
                }
            })
            .then_some(())
    })
    .await;
}

/// Checks that `task` runs alone on its node and sees the secret at its target and the config
/// at its path, with their values.
fn assert_sees_its_files(members: &[Member], task: &Task) {
    let member = members
        .iter()
        .find(|m| Some(m.node.id()) == task.node_id.as_ref())
        .expect("the task's node is a member");
    assert_eq!(
        member.runtime.running_tasks(),
        std::slice::from_ref(&task.id)
    );
    let files = member.runtime.visible_files(&task.id);
    assert_eq!(files.len(), 2, "{files:?}");
    let secret_file = files
        .iter()
        .find(|f| f.kind == FileKind::Secret)
        .expect("the secret file");
    assert_eq!(secret_file.target, "db-password");
    assert_eq!(secret_file.mode, 0o444);
    assert_eq!(secret_file.data.expose(), SECRET_VALUE);
    let config_file = files
        .iter()
        .find(|f| f.kind == FileKind::Config)
        .expect("the config file");
    assert_eq!(config_file.target, "/app/appsettings.json");
    assert_eq!(config_file.data.expose(), CONFIG_VALUE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_services_secret_and_config_reach_only_the_nodes_running_its_tasks() {
    let root = tempfile::tempdir().unwrap();
    let members = start_cluster(root.path(), 21, 3, 5).await;
    let managers: Vec<&Node> = members[..3].iter().map(|m| &m.node).collect();
    let control = cluster_support::leader_control(&managers).await;

    let secret = control
        .create_secret(&SecretSpec::new("db-password", SECRET_VALUE.to_vec()))
        .await
        .unwrap();
    let config = control
        .create_config(&ConfigSpec::new("app-config", CONFIG_VALUE.to_vec()))
        .await
        .unwrap();
    // Another secret nothing uses: it reaches no node.
    control
        .create_secret(&SecretSpec::new("unused", b"nobody reads me".to_vec()))
        .await
        .unwrap();

    let mut spec = ServiceSpec::new("nerd-dinner-api", "dockeronwindows/ch05-nerd-dinner-api:2e");
    spec.mode = ServiceMode::Replicated { replicas: 2 };
    spec.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "db-password".into(),
        target: FileTarget::new("db-password"),
    }];
    spec.task_template.container.configs = vec![ConfigReference {
        config_id: "".into(),
        config_name: "app-config".into(),
        target: FileTarget::new("/app/appsettings.json"),
    }];
    let api = control.create_service(&spec).await.unwrap();
    let tasks = converged(&control, "nerd-dinner-api", 2).await;
    let running_on: BTreeSet<NodeId> = tasks.iter().filter_map(|t| t.node_id.clone()).collect();
    assert_eq!(running_on.len(), 2, "spread over two nodes: {running_on:?}");

    // Exactly the two nodes running the tasks hold the secret and the config; the other six
    // hold nothing.
    held_exactly_by(&members, &running_on, &secret, &config).await;
    // Each task sees the secret at its target and the config at its path, with their values.
    for task in &tasks {
        assert_sees_its_files(&members, task);
    }
    for m in members.iter().filter(|m| !running_on.contains(m.node.id())) {
        assert!(m.runtime.live_tasks().is_empty(), "{:?}", m.node.id());
    }

    // The secret cannot be removed while the service uses it; the refusal names the service.
    let err = control.remove_secret("db-password").await.unwrap_err();
    match &err {
        NodeError::Control(ControlError::InUse { object, users, .. }) => {
            assert_eq!(object.kind, ObjectType::Secret);
            assert_eq!(object.id, secret.as_str());
            assert!(
                users
                    .iter()
                    .any(|u| u.kind == ObjectType::Service && u.id == api.as_str()),
                "{err}"
            );
        }
        other => panic!("expected the secret in use, got {other}"),
    }
    assert!(err.to_string().contains("nerd-dinner-api"), "{err}");
    control.secret("db-password").await.unwrap();

    // One of the two nodes drained: its task moves, and the secret and config follow it.
    let drained = running_on.first().cloned().expect("a node");
    control
        .set_availability(drained.as_str(), NodeAvailability::Drain)
        .await
        .unwrap();
    let tasks = eventually(CONVERGE, "the task moved off the drained node", || async {
        let tasks = converged(&control, "nerd-dinner-api", 2).await;
        tasks
            .iter()
            .all(|t| t.node_id.as_ref() != Some(&drained))
            .then_some(tasks)
    })
    .await;
    let running_on: BTreeSet<NodeId> = tasks.iter().filter_map(|t| t.node_id.clone()).collect();
    assert_eq!(running_on.len(), 2, "spread over two nodes: {running_on:?}");
    held_exactly_by(&members, &running_on, &secret, &config).await;
    for task in &tasks {
        assert_sees_its_files(&members, task);
    }

    // Scaled to 9 on the 7 active nodes, two nodes run two tasks; every active node holds the
    // files. Scaled down to 8, a task of a node running two goes (the scale-down removes from
    // the busiest nodes first): that node keeps the files for its other task.
    control.scale_service("nerd-dinner-api", 9).await.unwrap();
    let tasks = converged(&control, "nerd-dinner-api", 9).await;
    let before = count_per_node(&tasks);
    assert_eq!(before.len(), 7, "on every active node: {before:?}");
    let running_on: BTreeSet<NodeId> = before.keys().cloned().collect();
    held_exactly_by(&members, &running_on, &secret, &config).await;
    control.scale_service("nerd-dinner-api", 8).await.unwrap();
    let tasks = converged(&control, "nerd-dinner-api", 8).await;
    let after = count_per_node(&tasks);
    let shrunk: Vec<&NodeId> = before
        .iter()
        .filter(|&(node, &n)| after.get(node) == Some(&(n - 1)))
        .map(|(node, _)| node)
        .collect();
    assert_eq!(
        shrunk.len(),
        1,
        "one node lost one of two tasks: {before:?} → {after:?}"
    );
    assert_eq!(after[shrunk[0]], 1);
    let running_on: BTreeSet<NodeId> = after.keys().cloned().collect();
    assert!(running_on.contains(shrunk[0]));
    held_exactly_by(&members, &running_on, &secret, &config).await;
    for task in &tasks {
        let member = members
            .iter()
            .find(|m| Some(m.node.id()) == task.node_id.as_ref())
            .expect("the task's node is a member");
        assert_eq!(member.runtime.visible_files(&task.id).len(), 2);
    }

    // Scaled to zero, no agent holds the secret or the config any more, and nothing runs.
    control.scale_service("nerd-dinner-api", 0).await.unwrap();
    eventually(
        CONVERGE,
        "every agent dropped the secret and config",
        || async {
            members
                .iter()
                .all(|m| {
                    let view = m.node.agent_snapshot();
                    view.held_secrets.is_empty()
                        && view.held_configs.is_empty()
                        && view.running_tasks.is_empty()
                })
                .then_some(())
        },
    )
    .await;
    assert!(members.iter().all(|m| m.runtime.running_tasks().is_empty()));

    // Still referenced by the (scaled-down) service, the secret stays; once the service is
    // gone it can be removed.
    assert!(control.remove_secret("db-password").await.is_err());
    control.remove_service("nerd-dinner-api").await.unwrap();
    control.remove_secret("db-password").await.unwrap();
    control.remove_config("app-config").await.unwrap();
    assert!(control.secret("db-password").await.is_err());

    for m in members.into_iter().rev() {
        m.node.shutdown().await;
    }
}
