//! `service logs` and `task logs` end to end: one manager and two workers on the in-process
//! network with the mock runtime, read only through the public `Control` handle.

mod cluster_support;

use cluster_support::{config, eventually};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm_core::manager::control::TaskFilter;
use swarm_core::manager::logbroker::{LogMessage, LogRequest};
use swarm_core::model::{NodeId, NodeRole, ServiceMode, ServiceSpec, Task, TaskId, TaskState};
use swarm_core::node::{Control, InProcNodes, LogMessages, Node, NodeError, NodeNetwork};
use swarm_core::runtime::LogStreamKind;
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;

const CONVERGE: Duration = Duration::from_secs(30);
/// A guard against a stream that never ends (the failure these tests look for), not a
/// measure of speed.
const NO_HANG: Duration = Duration::from_secs(60);

/// `mock/printer` prints two lines at start, one per stream, and runs until stopped;
/// `mock/ticker` prints `ready` then `tick <n>` every 200 ms.
fn runtime() -> MockRuntime {
    let printer = MockScript::new()
        .run_until_stopped()
        .prints("ready")
        .output_after(
            Duration::ZERO,
            LogStreamKind::Stderr,
            b"warming up\n".to_vec(),
        );
    let mut ticker = MockScript::new().run_until_stopped().prints("ready");
    for n in 1..=1000 {
        ticker = ticker.output_after(
            Duration::from_millis(200),
            LogStreamKind::Stdout,
            format!("tick {n}\n").into_bytes(),
        );
    }
    MockRuntime::new()
        .with_script("mock/printer", printer)
        .with_script("mock/ticker", ticker)
}

fn inproc_config(
    root: &std::path::Path,
    name: &str,
    nodes: &InProcNodes,
) -> swarm_core::node::NodeConfig {
    let mut c = config(root, name);
    c.runtime = Arc::new(runtime());
    c.network = NodeNetwork::InProc(nodes.clone());
    c.advertise_addr = Some(format!("{name}:2377"));
    c.rng_seed = Some(name.bytes().map(u64::from).sum());
    c
}

struct Cluster {
    _root: tempfile::TempDir,
    managers: Vec<Node>,
    workers: Vec<Node>,
}

impl Cluster {
    /// `managers` managers and two workers, all ready.
    async fn start(managers: usize, seed: u64) -> Cluster {
        let root = tempfile::tempdir().expect("cluster start-up");
        let net = InProcNodes::new(InProcNetwork::new(seed));
        let first = Node::init(inproc_config(root.path(), "m1", &net), Default::default())
            .await
            .expect("cluster start-up");
        let control = first.control().expect("cluster start-up");
        let manager_token = control
            .join_token(NodeRole::Manager)
            .await
            .expect("cluster start-up");
        let token = control
            .join_token(NodeRole::Worker)
            .await
            .expect("cluster start-up");
        let mut ms = vec![first];
        for i in 2..=managers {
            let node = Node::join(
                inproc_config(root.path(), &format!("m{i}"), &net),
                "m1:2377",
                &manager_token,
            )
            .await
            .expect("cluster start-up");
            ms.push(node);
            eventually(CONVERGE, "the new manager votes", || async {
                let s = ms[0].store_status()?;
                (s.voters().len() == i && s.is_settled()).then_some(())
            })
            .await;
        }
        let mut workers = Vec::new();
        for name in ["w1", "w2"] {
            let node = Node::join(inproc_config(root.path(), name, &net), "m1:2377", &token)
                .await
                .expect("cluster start-up");
            workers.push(node);
        }
        cluster_support::all_ready(&control, managers + 2).await;
        Cluster {
            _root: root,
            managers: ms,
            workers,
        }
    }

    /// The control API of the leader.
    async fn control(&self) -> Control {
        let managers: Vec<&Node> = self.managers.iter().collect();
        cluster_support::leader_control(&managers).await
    }

    fn worker_ids(&self) -> BTreeSet<NodeId> {
        self.workers.iter().map(|w| w.id().clone()).collect()
    }
}

/// A replicated service of `image` on the workers only.
fn on_workers(name: &str, image: &str, replicas: u64) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, image);
    spec.mode = ServiceMode::Replicated { replicas };
    spec.task_template.placement.constraints = vec!["node.role==worker".into()];
    spec
}

/// Waits until `service` runs exactly `count` tasks.
async fn running(control: &Control, service: &str, count: usize) -> Vec<Task> {
    eventually(
        CONVERGE,
        &format!("{service} runs {count} tasks"),
        || async {
            let filter = TaskFilter {
                services: vec![service.to_owned()],
                ..TaskFilter::default()
            };
            let tasks: Vec<Task> = control
                .tasks(&filter)
                .await
                .ok()?
                .into_iter()
                .filter(|t| t.desired_state <= TaskState::Running)
                .collect();
            (tasks.len() == count && tasks.iter().all(|t| t.status.state == TaskState::Running))
                .then_some(tasks)
        },
    )
    .await
}

/// Every item of a stream that must end.
async fn collect(stream: LogMessages) -> Vec<Result<LogMessage, NodeError>> {
    tokio::time::timeout(NO_HANG, stream.collect::<Vec<_>>())
        .await
        .expect("the logs stream ends")
}

/// The messages of a stream that must end without an error.
async fn messages(stream: LogMessages) -> Vec<LogMessage> {
    collect(stream)
        .await
        .into_iter()
        .map(|item| item.expect("a complete logs stream"))
        .collect()
}

/// The lines of each task, with their streams, in order.
fn by_task(messages: &[LogMessage]) -> BTreeMap<TaskId, Vec<(LogStreamKind, String)>> {
    let mut out: BTreeMap<TaskId, Vec<(LogStreamKind, String)>> = BTreeMap::new();
    for m in messages {
        out.entry(m.context.task.clone())
            .or_default()
            .push((m.stream, m.text().into_owned()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_service_on_two_workers_end_with_every_line_and_its_task_and_node() {
    let cluster = Cluster::start(1, 31).await;
    let control = cluster.control().await;
    let service = control
        .create_service(&on_workers("printer", "mock/printer", 2))
        .await
        .unwrap();
    let tasks = running(&control, "printer", 2).await;
    let nodes: BTreeSet<NodeId> = tasks.iter().filter_map(|t| t.node_id.clone()).collect();
    assert_eq!(nodes, cluster.worker_ids(), "one task per worker");

    // Not following: every line of both tasks, then the end.
    let all = messages(
        control
            .service_logs("printer", &LogRequest::default())
            .await
            .unwrap(),
    )
    .await;
    let expected = vec![
        (LogStreamKind::Stdout, "ready".to_owned()),
        (LogStreamKind::Stderr, "warming up".to_owned()),
    ];
    let lines = by_task(&all);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for task in &tasks {
        assert_eq!(lines[&task.id], expected, "task {}", task.id);
    }
    for m in &all {
        let task = tasks.iter().find(|t| t.id == m.context.task).unwrap();
        assert_eq!(Some(&m.context.node), task.node_id.as_ref());
        assert_eq!(m.context.service, service);
        assert!(m.timestamp <= SystemTime::now());
    }

    // --tail 1: the last line of each task.
    let tail = LogRequest {
        tail: Some(1),
        ..LogRequest::default()
    };
    let last = messages(control.service_logs("printer", &tail).await.unwrap()).await;
    let lines = by_task(&last);
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .values()
            .all(|l| *l == [(LogStreamKind::Stderr, "warming up".to_owned())]),
        "{lines:?}"
    );

    // --since later than any line: nothing, and still an end.
    let since = LogRequest {
        since: Some(SystemTime::now() + Duration::from_secs(3600)),
        ..LogRequest::default()
    };
    assert!(
        messages(control.service_logs("printer", &since).await.unwrap())
            .await
            .is_empty()
    );

    // One task by id prefix.
    let one = &tasks[0];
    let own = messages(
        control
            .task_logs(&one.id.as_str()[..12], &LogRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        by_task(&own).into_iter().collect::<Vec<_>>(),
        [(one.id.clone(), expected)]
    );

    // A name that does not resolve is refused before anything is read.
    let missing = control
        .service_logs("no-such-service", &LogRequest::default())
        .await;
    assert!(missing.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_logs_get_new_lines_and_the_lines_of_a_task_started_later() {
    let cluster = Cluster::start(1, 32).await;
    let control = cluster.control().await;
    control
        .create_service(&on_workers("ticker", "mock/ticker", 1))
        .await
        .unwrap();
    let first = running(&control, "ticker", 1).await.remove(0);

    let subscribed_at = SystemTime::now();
    let follow = LogRequest {
        follow: true,
        ..LogRequest::default()
    };
    let mut stream = control.service_logs("ticker", &follow).await.unwrap();
    control.scale_service("ticker", 2).await.unwrap();

    let mut printed_later = false;
    let mut second: Option<(TaskId, NodeId, String)> = None;
    let read = tokio::time::timeout(NO_HANG, async {
        while !(printed_later && second.is_some()) {
            let m = stream
                .next()
                .await
                .expect("a following stream does not end")
                .expect("no error");
            if m.context.task == first.id {
                printed_later |= m.timestamp >= subscribed_at && m.text().starts_with("tick");
            } else if second.is_none() {
                let text = m.text().into_owned();
                second = Some((m.context.task, m.context.node, text));
            }
        }
    })
    .await;
    assert!(read.is_ok(), "later lines of both tasks arrive");
    let (task, node, text) = second.unwrap();
    assert_eq!(text, "ready", "the new task's output from its first line");
    assert_ne!(
        Some(&node),
        first.node_id.as_ref(),
        "started on the other worker"
    );
    let tasks = running(&control, "ticker", 2).await;
    let started = tasks.iter().find(|t| t.id == task).unwrap();
    assert_eq!(started.node_id.as_ref(), Some(&node));
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_task_on_a_killed_worker_end_without_hanging_and_say_why() {
    let mut cluster = Cluster::start(1, 33).await;
    let control = cluster.control().await;
    control
        .create_service(&on_workers("printer", "mock/printer", 2))
        .await
        .unwrap();
    let tasks = running(&control, "printer", 2).await;
    let victim = cluster.workers.remove(1);
    let victim_id = victim.id().clone();
    let task = tasks
        .iter()
        .find(|t| t.node_id.as_ref() == Some(&victim_id))
        .expect("a task on the worker")
        .clone();
    victim.shutdown().await;

    let items = collect(
        control
            .task_logs(task.id.as_str(), &LogRequest::default())
            .await
            .unwrap(),
    )
    .await;
    let Some(Err(NodeError::IncompleteLogs { reasons })) = items.last() else {
        panic!("the stream ends saying it is incomplete: {items:?}");
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains(victim_id.as_str()), "{reasons:?}");
    assert!(
        items[..items.len() - 1].iter().all(Result::is_ok),
        "{items:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_asked_of_a_follower_manager_are_served_by_the_leader() {
    let cluster = Cluster::start(3, 34).await;
    let leader = cluster.control().await;
    leader
        .create_service(&on_workers("printer", "mock/printer", 2))
        .await
        .unwrap();
    let tasks = running(&leader, "printer", 2).await;
    let follower = cluster
        .managers
        .iter()
        .find(|m| !m.is_leader())
        .expect("a follower")
        .control()
        .unwrap();
    let tail = LogRequest {
        tail: Some(1),
        ..LogRequest::default()
    };
    let last = messages(follower.service_logs("printer", &tail).await.unwrap()).await;
    let tasks_read: BTreeSet<TaskId> = last.iter().map(|m| m.context.task.clone()).collect();
    let tasks_run: BTreeSet<TaskId> = tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(tasks_read, tasks_run);
    assert!(last.iter().all(|m| m.text() == "warming up"), "{last:?}");
}
