//! A rolling update end to end: one manager and two workers on the in-process network with
//! the mock runtime, driven only through the public `Control` handle, as `docker service
//! update --image` and `docker service rollback` drive a cluster.

mod cluster_support;

use cluster_support::{config, eventually};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::manager::control::TaskFilter;
use swarm_core::model::{
    FailureAction, NodeRole, ServiceMode, ServiceSpec, Task, TaskId, TaskState, UpdateConfig,
    UpdateOrder, UpdateState,
};
use swarm_core::node::{Control, InProcNodes, Node, NodeNetwork, UNHEALTHY_ERROR};
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;

const CONVERGE: Duration = Duration::from_secs(30);
/// How often the test looks at the tasks during an update.
const POLL: Duration = Duration::from_millis(10);
/// Most polls of one update (30 s at [`POLL`]).
const MAX_POLLS: usize = 3_000;

fn inproc_config(
    root: &std::path::Path,
    name: &str,
    nodes: &InProcNodes,
) -> swarm_core::node::NodeConfig {
    let mut c = config(root, name);
    // Tasks run until stopped, but the image `mock/web:bad` exits with 1 soon after it starts
    // and the health check of `mock/web:sick` fails before it ever passes.
    c.runtime = Arc::new(
        MockRuntime::new()
            .with_default_script(MockScript::new().run_until_stopped())
            .with_script(
                "mock/web:bad",
                MockScript::new().exit_after(Duration::from_millis(50), 1),
            )
            .with_script(
                "mock/web:sick",
                MockScript::new()
                    .run_until_stopped()
                    .unhealthy_after(Duration::from_millis(50)),
            ),
    );
    c.network = NodeNetwork::InProc(nodes.clone());
    c.advertise_addr = Some(format!("{name}:2377"));
    c.rng_seed = Some(name.bytes().map(u64::from).sum());
    c
}

/// The cluster's nodes (kept running) and the leader's control handle.
async fn cluster(root: &std::path::Path) -> (Vec<Node>, Control) {
    let net = InProcNodes::new(InProcNetwork::new(5));
    let m1 = Node::init(inproc_config(root, "m1", &net), Default::default())
        .await
        .expect("cluster start-up");
    let control = m1.control().expect("cluster start-up");
    let token = control
        .join_token(NodeRole::Worker)
        .await
        .expect("cluster start-up");
    let mut nodes = vec![m1];
    for name in ["w1", "w2"] {
        let node = Node::join(inproc_config(root, name, &net), "m1:2377", &token)
            .await
            .expect("cluster start-up");
        nodes.push(node);
    }
    cluster_support::all_ready(&control, 3).await;
    (nodes, control)
}

async fn tasks(control: &Control, service: &str) -> Vec<Task> {
    let filter = TaskFilter {
        services: vec![service.to_owned()],
        ..TaskFilter::default()
    };
    control.tasks(&filter).await.unwrap_or_default()
}

/// Polls until the update status of `service` is `done`; returns the fewest tasks seen
/// running at once meanwhile.
async fn fewest_running_until(control: &Control, service: &str, done: UpdateState) -> usize {
    let mut fewest = usize::MAX;
    for _ in 0..MAX_POLLS {
        let running = tasks(control, service)
            .await
            .iter()
            .filter(|t| t.status.state == TaskState::Running)
            .count();
        fewest = fewest.min(running);
        let status = control
            .service(service)
            .await
            .ok()
            .and_then(|s| s.update_status);
        if status.is_some_and(|s| s.state == done) {
            return fewest;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the update of {service} did not reach {done} in time");
}

/// The images of the tasks of `service` meant to run, once all of them run.
async fn running_images(control: &Control, service: &str, count: usize) -> Vec<String> {
    eventually(CONVERGE, "every task runs", || async {
        let live: Vec<Task> = tasks(control, service)
            .await
            .into_iter()
            .filter(|t| t.desired_state <= TaskState::Running)
            .collect();
        (live.len() == count && live.iter().all(|t| t.status.state == TaskState::Running)).then(
            || {
                live.iter()
                    .map(|t| t.spec.container.image.clone())
                    .collect()
            },
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_first_update_never_runs_fewer_than_the_replicas_and_rolls_back() {
    let root = tempfile::tempdir().expect("temporary directory");
    let (_nodes, control) = cluster(root.path()).await;

    let mut spec = ServiceSpec::new("web", "mock/web:1");
    spec.mode = ServiceMode::Replicated { replicas: 4 };
    let policy = UpdateConfig {
        parallelism: 1,
        order: UpdateOrder::StartFirst,
        monitor: Duration::from_millis(300),
        ..UpdateConfig::default()
    };
    spec.update_config = Some(policy.clone());
    spec.rollback_config = Some(policy);
    control
        .create_service(&spec)
        .await
        .expect("service created");
    assert_eq!(running_images(&control, "web", 4).await, ["mock/web:1"; 4]);

    // docker service update --image mock/web:2 web
    let read = control.service("web").await.expect("service");
    let mut next = read.spec.clone();
    next.task_template.container.image = "mock/web:2".into();
    control
        .update_service("web", read.meta.version, &next)
        .await
        .expect("update accepted");
    let fewest = fewest_running_until(&control, "web", UpdateState::Completed).await;
    assert!(
        fewest >= 4,
        "only {fewest} tasks ran at one point of the update"
    );
    let service = control.service("web").await.expect("service");
    let status = service.update_status.expect("an update status");
    assert_eq!(status.message, "update completed");
    assert!(status.completed_at.is_some());
    assert_eq!(running_images(&control, "web", 4).await, ["mock/web:2"; 4]);

    // docker service rollback web
    control
        .rollback_service("web")
        .await
        .expect("rollback accepted");
    let fewest = fewest_running_until(&control, "web", UpdateState::RollbackCompleted).await;
    assert!(
        fewest >= 4,
        "only {fewest} tasks ran at one point of the rollback"
    );
    let service = control.service("web").await.expect("service");
    assert_eq!(service.spec.task_template.container.image, "mock/web:1");
    assert_eq!(
        service.update_status.expect("an update status").message,
        "rollback completed"
    );
    assert_eq!(running_images(&control, "web", 4).await, ["mock/web:1"; 4]);

    // A second rollback goes forward again; without a previous spec one is refused.
    let fresh = control
        .create_service(&ServiceSpec::new("api", "mock/api:1"))
        .await
        .expect("service created");
    let err = control.rollback_service(fresh.as_str()).await.unwrap_err();
    assert!(
        err.to_string().contains("does not have a previous spec"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_first_update_one_at_a_time_never_runs_fewer_than_all_but_one() {
    let root = tempfile::tempdir().expect("temporary directory");
    let (nodes, control) = cluster(root.path()).await;

    // docker's default policy: stop-first, parallelism 1.
    let mut spec = ServiceSpec::new("web", "mock/web:1");
    spec.mode = ServiceMode::Replicated { replicas: 4 };
    spec.update_config = Some(UpdateConfig {
        parallelism: 1,
        order: UpdateOrder::StopFirst,
        monitor: Duration::from_millis(200),
        ..UpdateConfig::default()
    });
    let id = control
        .create_service(&spec)
        .await
        .expect("service created");
    assert_eq!(running_images(&control, "web", 4).await, ["mock/web:1"; 4]);
    let old: BTreeSet<TaskId> = tasks(&control, "web")
        .await
        .into_iter()
        .filter(|t| t.status.state == TaskState::Running)
        .map(|t| t.id)
        .collect();
    assert_eq!(old.len(), 4);

    let mut events = nodes[0].events();
    let read = control.service("web").await.expect("service");
    let mut next = read.spec.clone();
    next.task_template.container.image = "mock/web:2".into();
    control
        .update_service("web", read.meta.version, &next)
        .await
        .expect("update accepted");
    // From the event stream: every moment until four new tasks run.
    let fewest = cluster_support::fewest_running(&mut events, &id, old.clone(), |running| {
        running.len() == 4 && running.is_disjoint(&old)
    })
    .await;
    assert_eq!(
        fewest, 3,
        "stop-first, one at a time: all but one run throughout"
    );
    assert_eq!(running_images(&control, "web", 4).await, ["mock/web:2"; 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_unhealthy_image_with_failure_action_rollback_returns_every_slot() {
    let root = tempfile::tempdir().expect("temporary directory");
    let (_nodes, control) = cluster(root.path()).await;

    for (name, image) in [("exits", "mock/web:bad"), ("sick", "mock/web:sick")] {
        let mut spec = ServiceSpec::new(name, "mock/web:1");
        spec.mode = ServiceMode::Replicated { replicas: 3 };
        spec.update_config = Some(UpdateConfig {
            parallelism: 1,
            order: UpdateOrder::StartFirst,
            failure_action: FailureAction::Rollback,
            monitor: Duration::from_secs(2),
            ..UpdateConfig::default()
        });
        control
            .create_service(&spec)
            .await
            .expect("service created");
        assert_eq!(running_images(&control, name, 3).await, ["mock/web:1"; 3]);

        let read = control.service(name).await.expect("service");
        let mut next = read.spec.clone();
        next.task_template.container.image = image.into();
        control
            .update_service(name, read.meta.version, &next)
            .await
            .expect("update accepted");
        let fewest = fewest_running_until(&control, name, UpdateState::RollbackCompleted).await;
        assert!(fewest >= 3, "{name}: only {fewest} tasks ran at one point");
        let service = control.service(name).await.expect("service");
        assert_eq!(service.spec.task_template.container.image, "mock/web:1");
        let failed: Vec<Task> = tasks(&control, name)
            .await
            .into_iter()
            .filter(|t| t.spec.container.image == image)
            .collect();
        assert!(!failed.is_empty(), "{name}");
        assert!(
            failed.iter().all(|t| t.status.state == TaskState::Failed),
            "{name}"
        );
        if name == "sick" {
            // Never healthy: never reported running.
            assert!(failed.iter().all(|t| t.running_since.is_none()));
            assert!(
                failed
                    .iter()
                    .all(|t| t.status.err.as_deref() == Some(UNHEALTHY_ERROR))
            );
        }
        assert_eq!(
            service.update_status.expect("status").message,
            "rollback completed"
        );
        assert_eq!(running_images(&control, name, 3).await, ["mock/web:1"; 3]);
    }
}
