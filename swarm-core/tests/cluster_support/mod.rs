//! Shared set-up of the cluster tests: nodes on 127.0.0.1 with disk storage in a temporary
//! directory, over real TCP with mutual TLS.
#![allow(dead_code)]

pub(crate) mod inproc;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::manager::control::NodeFilter;
use swarm_core::model::{ClusterSpec, Node as NodeRecord, NodeRole, NodeState};
use swarm_core::node::{Control, Node, NodeConfig};
use swarm_core::runtime::Runtime;
use swarm_core::runtime::mock::MockRuntime;

/// A node's settings: a data directory under `root`, any free port, the mock runtime.
pub(crate) fn config(root: &Path, name: &str) -> NodeConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut c = NodeConfig::new(
        root.join(name),
        "127.0.0.1:0".parse().expect("address"),
        Arc::new(MockRuntime::new()),
    );
    c.hostname = Some(name.to_owned());
    c
}

/// A cluster spec with the default heartbeat.
pub(crate) fn spec() -> ClusterSpec {
    ClusterSpec::default()
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`.
pub(crate) async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every node record, through `control`.
pub(crate) async fn nodes(control: &Control) -> Vec<NodeRecord> {
    control
        .nodes(&NodeFilter::default())
        .await
        .unwrap_or_default()
}

/// Waits until `count` nodes are ready.
pub(crate) async fn all_ready(control: &Control, count: usize) -> Vec<NodeRecord> {
    eventually(Duration::from_secs(20), "all nodes ready", || async {
        let nodes = nodes(control).await;
        (nodes.len() == count && nodes.iter().all(|n| n.status.state == NodeState::Ready))
            .then_some(nodes)
    })
    .await
}

/// A cluster of `managers` managers and `workers` workers, all ready.
pub(crate) async fn cluster(
    root: &Path,
    managers: usize,
    workers: usize,
) -> (Vec<Node>, Vec<Node>) {
    cluster_with(root, managers, workers, |_| Arc::new(MockRuntime::new())).await
}

/// A cluster of `managers` managers (`m1`..) and `workers` workers (`w1`..), all ready, each
/// node running its tasks on `runtime(name)`.
pub(crate) async fn cluster_with(
    root: &Path,
    managers: usize,
    workers: usize,
    runtime: impl Fn(&str) -> Arc<dyn Runtime>,
) -> (Vec<Node>, Vec<Node>) {
    let config = |root: &Path, name: &str| {
        let mut c = config(root, name);
        c.runtime = runtime(name);
        c
    };
    let first = Node::init(config(root, "m1"), spec()).await.expect("init");
    let control = first.control().expect("a manager");
    let manager_token = control.join_token(NodeRole::Manager).await.expect("token");
    let worker_token = control.join_token(NodeRole::Worker).await.expect("token");
    let addr = first.advertise_addr();
    let mut ms = vec![first];
    for i in 2..=managers {
        let node = Node::join(config(root, &format!("m{i}")), &addr, &manager_token)
            .await
            .expect("manager join");
        ms.push(node);
        // A manager is promoted to voter once it caught up, in two Raft steps; let both finish
        // before the next joins (until then the group tolerates only what the old voters do).
        eventually(Duration::from_secs(20), "the new manager votes", || async {
            let status = ms[0].store_status()?;
            (status.voters().len() == i && status.is_settled()).then_some(())
        })
        .await;
    }
    let mut ws = Vec::new();
    for i in 1..=workers {
        ws.push(
            Node::join(config(root, &format!("w{i}")), &addr, &worker_token)
                .await
                .expect("worker join"),
        );
    }
    all_ready(&control, managers + workers).await;
    (ms, ws)
}

/// The control API of whichever manager leads now.
pub(crate) async fn leader_control(managers: &[&Node]) -> Control {
    eventually(Duration::from_secs(20), "a leader", || async {
        managers
            .iter()
            .find(|m| m.is_leader())
            .and_then(|m| m.control().ok())
    })
    .await
}

/// How long the service tests wait for a cluster to converge.
pub(crate) const CONVERGE: Duration = Duration::from_secs(30);

/// Waits until `service` has exactly `count` tasks meant to run, all running, and returns
/// them.
pub(crate) async fn converged(
    control: &Control,
    service: &str,
    count: usize,
) -> Vec<swarm_core::model::Task> {
    use swarm_core::model::TaskState;
    eventually(
        CONVERGE,
        &format!("{service} runs {count} tasks"),
        || async {
            let filter = swarm_core::manager::control::TaskFilter {
                services: vec![service.to_owned()],
                ..Default::default()
            };
            let tasks = control.tasks(&filter).await.ok()?;
            let live: Vec<_> = tasks
                .into_iter()
                .filter(|t| t.desired_state <= TaskState::Running)
                .collect();
            (live.len() == count && live.iter().all(|t| t.status.state == TaskState::Running))
                .then_some(live)
        },
    )
    .await
}

/// Follows `events` until `done(running)`, starting from the tasks of `service` in `running`;
/// returns the fewest of its tasks running at once meanwhile (a task counts from its event
/// `Running` until its next state change). Proves zero downtime from the event stream, where a
/// poll could miss a dip.
pub(crate) async fn fewest_running(
    events: &mut tokio::sync::broadcast::Receiver<swarm_core::node::ClusterEvent>,
    service: &swarm_core::model::ServiceId,
    mut running: std::collections::BTreeSet<swarm_core::model::TaskId>,
    done: impl Fn(&std::collections::BTreeSet<swarm_core::model::TaskId>) -> bool,
) -> usize {
    use swarm_core::model::TaskState;
    use swarm_core::node::ClusterEvent;
    let mut fewest = running.len();
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while !done(&running) {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the update ends in time")
            .expect("no event is missed");
        if let ClusterEvent::TaskStateChanged {
            task,
            service: of,
            to,
            ..
        } = event
        {
            if &of != service {
                continue;
            }
            if to == TaskState::Running {
                running.insert(task);
            } else {
                running.remove(&task);
            }
            fewest = fewest.min(running.len());
        }
    }
    fewest
}
