//! Services of a real cluster on real containers: a manager and a worker (swarm-core nodes over
//! TCP with mutual TLS on 127.0.0.1) whose tasks run on the local Docker engine through this
//! adapter. Two services on one cluster network: `web`, a job, reads its secret at
//! `/run/secrets/`, reaches `api` by its service name (at the address the allocator gave api's
//! task) and completes. Everything is removed at
//! the end. Skips loudly without an engine (fails under `CI=true`).

mod common;

use common::{ClusterNet, LONG_RUNNING, TEST_IMAGE, TestRuntime, assert_removed, connect};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::manager::control::{NodeFilter, TaskFilter};
use swarm_core::model::{
    FileTarget, IpamConfig, NetworkAttachmentConfig, NetworkSpec, NodeId, NodeRole, NodeState,
    SecretReference, SecretSpec, ServiceMode, ServiceSpec, Task, TaskState,
};
use swarm_core::node::{Control, Node, NodeConfig};

/// Bound on every wait of this test (pulling nothing: the test image is local).
const CONVERGE: Duration = Duration::from_secs(60);

/// The value of web's secret.
const API_KEY: &str = "hunter2";

/// Polls `check` every 100 ms until it returns `Some`, for at most [`CONVERGE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {CONVERGE:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A node named `name` keeping its state under `root`, running its tasks on `runtime`.
fn node_config(root: &Path, name: &str, runtime: &TestRuntime) -> NodeConfig {
    let mut c = NodeConfig::new(
        root.join(name),
        "127.0.0.1:0".parse().expect("address"),
        Arc::new((**runtime).clone()),
    );
    c.hostname = Some(name.to_owned());
    c
}

/// A service of the test image running `sh -c <script>` on `network`.
fn service(name: &str, network: &str, script: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, TEST_IMAGE);
    spec.task_template.container.command = vec!["/bin/sh".into(), "-c".into(), script.into()];
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: network.to_owned(),
        aliases: vec![],
    }];
    spec
}

/// The tasks of `service`.
async fn tasks_of(control: &Control, service: &str) -> Vec<Task> {
    let filter = TaskFilter {
        services: vec![service.to_owned()],
        ..TaskFilter::default()
    };
    control.tasks(&filter).await.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reaches_a_service_by_name_on_a_cluster_network_of_real_containers() {
    // Declared before the nodes: dropped after them, they remove whatever a failed run left.
    let Some(manager_rt) = connect(common::test_config("cluster-m1")).await else {
        return;
    };
    let Some(worker_rt) = connect(common::test_config("cluster-w1")).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let net = ClusterNet::free(manager_rt.client(), "cluster").await;

    let m1 = Node::init(
        node_config(root.path(), "m1", &manager_rt),
        Default::default(),
    )
    .await
    .expect("init");
    let control = m1.control().expect("a manager");
    let token = control.join_token(NodeRole::Worker).await.expect("token");
    let w1 = Node::join(
        node_config(root.path(), "w1", &worker_rt),
        &m1.advertise_addr(),
        &token,
    )
    .await
    .expect("worker join");
    eventually("both nodes ready", || async {
        let nodes = control.nodes(&NodeFilter::default()).await.ok()?;
        (nodes.len() == 2 && nodes.iter().all(|n| n.status.state == NodeState::Ready)).then_some(())
    })
    .await;
    let runtime_of = |node: &NodeId| -> &TestRuntime {
        if node == m1.id() {
            &manager_rt
        } else {
            assert_eq!(node, w1.id());
            &worker_rt
        }
    };

    // The cluster network, on a subnet no network of the engine uses.
    let mut network = NetworkSpec::new(net.name.clone());
    network.ipam.configs = vec![IpamConfig {
        subnet: net.subnet(),
        range: None,
        gateway: None,
    }];
    control.create_network(&network).await.unwrap();

    // api runs until stopped.
    let mut api = service("api", &net.name, LONG_RUNNING);
    api.mode = ServiceMode::Replicated { replicas: 1 };
    control.create_service(&api).await.unwrap();
    let api_task = eventually("api running", || async {
        let tasks = tasks_of(&control, "api").await;
        tasks
            .into_iter()
            .find(|t| t.status.state == TaskState::Running)
    })
    .await;
    let attachment = &api_task.networks[0];
    assert_eq!(attachment.network_name, net.name);
    assert!(attachment.aliases.contains(&"api".to_owned()));
    let api_address = attachment.addresses[0]
        .split_once('/')
        .expect("a CIDR")
        .0
        .to_owned();

    // web, a job: reads its secret (exit 3 if it is not there with its value), looks api up
    // by name and pings it until it answers at api's task address, then exits 0 (1 after
    // about 30 s of trying).
    control
        .create_secret(&SecretSpec::new("api-key", API_KEY.as_bytes().to_vec()))
        .await
        .unwrap();
    let mut web = service(
        "web",
        &net.name,
        "[ \"$(cat /run/secrets/api-key)\" = \"$API_KEY\" ] || exit 3; \
         i=0; until nslookup api && ping -c1 -W2 api | grep -F \"($API_ADDRESS)\"; do \
         i=$((i+1)); [ $i -ge 150 ] && exit 1; sleep 0.2; done; echo reached api",
    );
    web.task_template.container.env = vec![
        format!("API_ADDRESS={api_address}"),
        format!("API_KEY={API_KEY}"),
    ];
    web.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "api-key".into(),
        target: FileTarget::new("api-key"),
    }];
    web.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 1,
        total_completions: 1,
    };
    control.create_service(&web).await.unwrap();
    let web_task = eventually("web's task ended", || async {
        let tasks = tasks_of(&control, "web").await;
        tasks
            .into_iter()
            .find(|t| t.status.state > TaskState::Running)
    })
    .await;
    assert_eq!(
        (web_task.status.state, web_task.status.exit_code),
        (TaskState::Complete, Some(0)),
        "{:?}",
        web_task.status
    );

    // Clean-up: the services go with their containers and files, then the local network with
    // its last container.
    control.remove_service("web").await.unwrap();
    control.remove_service("api").await.unwrap();
    for task in [&api_task, &web_task] {
        let runtime = runtime_of(task.node_id.as_ref().expect("an assigned task"));
        eventually("the task's container and files removed", || async {
            assert_removed(runtime, task).await.ok()
        })
        .await;
    }
    let local = net.local_name();
    eventually("the local network removed", || async {
        match manager_rt.client().inspect_network(&local, None).await {
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Some(()),
            _ => None,
        }
    })
    .await;
    control.remove_network(&net.name).await.unwrap();
    control.remove_secret("api-key").await.unwrap();
    w1.shutdown().await;
    m1.shutdown().await;
}
