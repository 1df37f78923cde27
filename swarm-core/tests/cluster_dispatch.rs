//! Tasks written to the store with a node reach that node's runtime, their states come back,
//! a secret reaches only the node whose task references it, a desired shutdown stops the task
//! and drops the secret, and reports keep flowing after the leader is lost. On the in-process
//! network, with the mock runtime.

mod cluster_support;

use cluster_support::inproc::member_config;
use cluster_support::{eventually, nodes};
use std::time::{Duration, SystemTime};
use swarm_core::manager::cluster_state::ClusterState;
use swarm_core::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use swarm_core::model::{
    FileTarget, Meta, NodeId, NodeRole, NodeState, Secret, SecretId, SecretReference, SecretSpec,
    Task, TaskId, TaskSpec, TaskState, TaskStatus, Version,
};
use swarm_core::node::{InProcNodes, Node, NodeConfig};
use swarm_core::runtime::FileKind;
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;

const SECRET_VALUE: &[u8] = b"correct horse battery staple";
const LIMIT: Duration = Duration::from_secs(30);

fn inproc_config(
    root: &std::path::Path,
    name: &str,
    nodes: &InProcNodes,
    runtime: &MockRuntime,
) -> NodeConfig {
    let mut c = member_config(root, name, nodes, runtime);
    // The tests write assigned tasks by hand (of no service): no orchestrator may reap them.
    c.orchestrate = false;
    c
}

fn mock() -> MockRuntime {
    MockRuntime::new()
        .with_script("web", MockScript::new().run_until_stopped())
        .with_script(
            "batch",
            MockScript::new().exit_after(Duration::from_millis(1500), 0),
        )
}

/// A task of `image` assigned to `node`, desired running, referencing `secrets`.
fn assigned(id: &str, node: &NodeId, image: &str, secrets: &[&str]) -> Task {
    let mut spec = TaskSpec::default();
    spec.container.image = image.to_owned();
    spec.container.secrets = secrets
        .iter()
        .map(|s| SecretReference {
            secret_id: (*s).into(),
            secret_name: (*s).to_owned(),
            target: FileTarget::new(*s),
        })
        .collect();
    let now = SystemTime::now();
    let mut task = Task::new(id.into(), "svc".into(), spec, now);
    task.node_id = Some(node.clone());
    task.status = TaskStatus::new(TaskState::Assigned, now, "scheduler assigned task to node");
    task
}

async fn write(manager: &Node, writes: Vec<ManagerWrite>) {
    manager
        .testkit_apply(&ManagerWrites {
            writes,
            membership: Vec::new(),
        })
        .await
        .expect("test write");
}

/// The leader, among `managers`.
async fn leader<'a>(managers: &[&'a Node]) -> &'a Node {
    eventually(LIMIT, "a leader", || async {
        managers.iter().copied().find(|m| m.is_leader())
    })
    .await
}

/// Waits until `check` holds on `manager`'s view of the state.
async fn state_until(manager: &Node, what: &str, check: impl Fn(&ClusterState) -> bool) {
    eventually(LIMIT, what, || async {
        manager.testkit_read_state(&check)?.then_some(())
    })
    .await;
}

fn state_of(state: &ClusterState, task: &str) -> Option<TaskState> {
    state.task(&TaskId::new(task)).map(|t| t.status.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_tasks_run_on_their_node_with_only_their_secrets_and_survive_a_leader_loss() {
    let root = tempfile::tempdir().unwrap();
    let net = InProcNodes::new(InProcNetwork::new(11));
    let runtimes: Vec<MockRuntime> = (0..5).map(|_| mock()).collect();
    let m1 = Node::init(
        inproc_config(root.path(), "m1", &net, &runtimes[0]),
        Default::default(),
    )
    .await
    .unwrap();
    let control = m1.control().unwrap();
    let manager_token = control.join_token(NodeRole::Manager).await.unwrap();
    let worker_token = control.join_token(NodeRole::Worker).await.unwrap();
    let mut managers = vec![m1];
    for (i, name) in [(1, "m2"), (2, "m3")] {
        let n = Node::join(
            inproc_config(root.path(), name, &net, &runtimes[i]),
            "m1:2377",
            &manager_token,
        )
        .await
        .unwrap();
        managers.push(n);
        let expected = managers.len();
        eventually(LIMIT, "the manager votes", || async {
            let s = managers[0].store_status()?;
            (s.voters().len() == expected && s.is_settled()).then_some(())
        })
        .await;
    }
    let w1 = Node::join(
        inproc_config(root.path(), "w1", &net, &runtimes[3]),
        "m1:2377",
        &worker_token,
    )
    .await
    .unwrap();
    let w2 = Node::join(
        inproc_config(root.path(), "w2", &net, &runtimes[4]),
        "m1:2377",
        &worker_token,
    )
    .await
    .unwrap();
    let (w1_runtime, w2_runtime) = (&runtimes[3], &runtimes[4]);
    eventually(LIMIT, "five nodes ready with seal keys", || async {
        let n = nodes(&control).await;
        (n.len() == 5
            && n.iter().all(|r| {
                r.status.state == NodeState::Ready
                    && r.description
                        .as_ref()
                        .is_some_and(|d| d.seal_public_key.as_ref().is_some_and(|k| k.len() == 32))
            }))
        .then_some(())
    })
    .await;

    // A secret, a task on w1 that references it, a task on w2 that does not.
    let all: Vec<&Node> = managers.iter().collect();
    let lead = leader(&all).await;
    let secret = Secret {
        id: SecretId::new("s1"),
        meta: Meta::new(Version(0), SystemTime::now()),
        spec: SecretSpec::new("db-password", SECRET_VALUE.to_vec()),
    };
    write(
        lead,
        vec![
            ManagerWrite::Secret(ObjectWrite::Create(secret)),
            ManagerWrite::Task(ObjectWrite::Create(assigned("t1", w1.id(), "web", &["s1"]))),
            ManagerWrite::Task(ObjectWrite::Create(assigned("t2", w2.id(), "web", &[]))),
        ],
    )
    .await;
    state_until(lead, "both tasks running", |s| {
        state_of(s, "t1") == Some(TaskState::Running)
            && state_of(s, "t2") == Some(TaskState::Running)
    })
    .await;

    // The secret reached w1 only, and opened there: t1 sees its value as a file.
    let w1_view = w1.agent_snapshot();
    assert_eq!(w1_view.held_secrets, [SecretId::new("s1")]);
    assert_eq!(w1_view.running_tasks, [TaskId::new("t1")]);
    let w2_view = w2.agent_snapshot();
    assert!(w2_view.held_secrets.is_empty());
    assert_eq!(w2_view.running_tasks, [TaskId::new("t2")]);
    for m in &managers {
        assert!(m.agent_snapshot().held_secrets.is_empty());
        assert!(m.agent_snapshot().tasks.is_empty());
    }
    let files = w1_runtime.visible_files(&TaskId::new("t1"));
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].kind, FileKind::Secret);
    assert_eq!(files[0].target, "s1");
    assert_eq!(files[0].data.expose(), SECRET_VALUE);
    assert!(w2_runtime.visible_files(&TaskId::new("t2")).is_empty());
    assert_eq!(w1_runtime.running_tasks(), [TaskId::new("t1")]);
    assert_eq!(w2_runtime.running_tasks(), [TaskId::new("t2")]);

    // A job on w2 that completes on its own, then the leader is lost while it runs.
    write(
        lead,
        vec![ManagerWrite::Task(ObjectWrite::Create(assigned(
            "t3",
            w2.id(),
            "batch",
            &[],
        )))],
    )
    .await;
    state_until(lead, "the job running", |s| {
        state_of(s, "t3") == Some(TaskState::Running)
    })
    .await;
    let lost = managers
        .iter()
        .position(|m| m.is_leader())
        .expect("a leader");
    let old = managers.remove(lost);
    old.shutdown().await;
    let survivors: Vec<&Node> = managers.iter().collect();
    let lead = leader(&survivors).await;

    // The job's completion, reported across the leader change, reaches the store.
    state_until(lead, "the job complete after the leader change", |s| {
        s.task(&TaskId::new("t3"))
            .is_some_and(|t| t.status.state == TaskState::Complete && t.status.exit_code == Some(0))
    })
    .await;

    // A desired shutdown stops t1, reported as shut down; w1 drops the secret.
    eventually(LIMIT, "t1 desired shutdown", || async {
        let state = lead.testkit_state()?;
        let mut t1 = state.task(&TaskId::new("t1"))?.clone();
        let expected_version = t1.meta.version;
        t1.set_desired_state(TaskState::Shutdown).ok()?;
        lead.testkit_apply(&ManagerWrites {
            writes: vec![ManagerWrite::Task(ObjectWrite::Update {
                object: t1,
                expected_version,
            })],
            membership: Vec::new(),
        })
        .await
        .ok()
    })
    .await;
    state_until(lead, "t1 shut down", |s| {
        state_of(s, "t1") == Some(TaskState::Shutdown)
    })
    .await;
    eventually(LIMIT, "w1 dropped the secret", || async {
        w1.agent_snapshot().held_secrets.is_empty().then_some(())
    })
    .await;
    assert!(w1_runtime.running_tasks().is_empty());
    assert!(w1.agent_snapshot().running_tasks.is_empty());
    // t2 was left alone.
    assert_eq!(w2_runtime.running_tasks(), [TaskId::new("t2")]);
    let state = lead.testkit_state().unwrap();
    assert_eq!(state_of(&state, "t2"), Some(TaskState::Running));
    // Read in place, the view says the same; a worker has none.
    assert_eq!(
        lead.testkit_read_state(|s| state_of(s, "t2")),
        Some(Some(TaskState::Running))
    );
    assert!(w2.testkit_read_state(|_| ()).is_none());

    w1.shutdown().await;
    w2.shutdown().await;
    for m in managers {
        m.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_registers_a_new_seal_key_and_reports_the_task_it_lost() {
    let root = tempfile::tempdir().unwrap();
    let net = InProcNodes::new(InProcNetwork::new(13));
    let m1 = Node::init(
        inproc_config(root.path(), "m1", &net, &mock()),
        Default::default(),
    )
    .await
    .unwrap();
    let control = m1.control().unwrap();
    let token = control.join_token(NodeRole::Worker).await.unwrap();
    let runtime = mock();
    let w1_config = inproc_config(root.path(), "w1", &net, &runtime);
    let w1 = Node::join(w1_config.clone(), "m1:2377", &token)
        .await
        .unwrap();
    let w1_id = w1.id().clone();
    let key_of = |nodes: Vec<swarm_core::model::Node>| {
        nodes
            .into_iter()
            .find(|n| n.id == w1_id)
            .and_then(|n| n.description?.seal_public_key)
    };
    let first_key = eventually(LIMIT, "w1's seal key recorded", || async {
        key_of(nodes(&control).await)
    })
    .await;
    write(
        &m1,
        vec![ManagerWrite::Task(ObjectWrite::Create(assigned(
            "t1",
            &w1_id,
            "web",
            &[],
        )))],
    )
    .await;
    state_until(&m1, "t1 running", |s| {
        state_of(s, "t1") == Some(TaskState::Running)
    })
    .await;

    // The worker restarts: a new seal key, registered; the task it ran is lost with the old
    // run and reported failed, so an orchestrator can replace it.
    w1.shutdown().await;
    let w1 = Node::start(w1_config).await.unwrap();
    let second_key = eventually(LIMIT, "w1's new seal key recorded", || async {
        key_of(nodes(&control).await).filter(|k| *k != first_key)
    })
    .await;
    assert_eq!(second_key.len(), 32);
    state_until(&m1, "t1 reported lost", |s| {
        s.task(&TaskId::new("t1")).is_some_and(|t| {
            t.status.state == TaskState::Failed
                && t.status.err.as_deref() == Some(swarm_core::agent::MESSAGE_TASK_LOST)
        })
    })
    .await;

    // A secret for a new task is sealed for the new key and opens on the restarted worker.
    let secret = Secret {
        id: SecretId::new("s2"),
        meta: Meta::new(Version(0), SystemTime::now()),
        spec: SecretSpec::new("api-key", SECRET_VALUE.to_vec()),
    };
    write(
        &m1,
        vec![
            ManagerWrite::Secret(ObjectWrite::Create(secret)),
            ManagerWrite::Task(ObjectWrite::Create(assigned("t2", &w1_id, "web", &["s2"]))),
        ],
    )
    .await;
    state_until(&m1, "t2 running", |s| {
        state_of(s, "t2") == Some(TaskState::Running)
    })
    .await;
    let files = runtime.visible_files(&TaskId::new("t2"));
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].data.expose(), SECRET_VALUE);
    assert_eq!(w1.agent_snapshot().held_secrets, [SecretId::new("s2")]);

    w1.shutdown().await;
    m1.shutdown().await;
}
