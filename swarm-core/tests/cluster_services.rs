//! Services that stay running, end to end: three managers and five workers on the in-process
//! network with the mock runtime, driven only through the public `Control` handle, as the
//! chapter's `run-nerd-dinner.ps1` drives a cluster with `docker service create`.

mod cluster_support;

use cluster_support::converged;

use cluster_support::{config, eventually};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use swarm_core::manager::control::TaskFilter;
use swarm_core::model::{
    EndpointSpec, NetworkAttachmentConfig, NetworkSpec, NodeAvailability, NodeRole, PortConfig,
    PublishMode, ServiceMode, ServiceSpec, Task, TaskState,
};
use swarm_core::node::{ClusterEvent, Control, InProcNodes, Node, NodeNetwork};
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;

const CONVERGE: Duration = Duration::from_secs(30);

/// The tests of this file run one at a time: each runs a whole cluster (up to 8 nodes), and
/// several at once on a 2-core machine would measure the machine, not the cluster.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The runtime of every node: services run until stopped; the job's image exits 0 at once.
fn runtime() -> MockRuntime {
    MockRuntime::new()
        .with_default_script(MockScript::new().run_until_stopped())
        .with_script(
            "mock/exit-0",
            MockScript::new().exit_after(Duration::from_millis(20), 0),
        )
}

fn inproc_config(
    root: &std::path::Path,
    name: &str,
    nodes: &InProcNodes,
    runtime: &MockRuntime,
) -> swarm_core::node::NodeConfig {
    let mut c = config(root, name);
    c.runtime = Arc::new(runtime.clone());
    c.network = NodeNetwork::InProc(nodes.clone());
    c.advertise_addr = Some(format!("{name}:2377"));
    c.rng_seed = Some(name.bytes().map(u64::from).sum());
    c
}

struct Cluster {
    net: InProcNodes,
    root: tempfile::TempDir,
    managers: Vec<Node>,
    workers: Vec<Node>,
    worker_token: String,
    /// Each node's runtime, by node name.
    runtimes: BTreeMap<String, MockRuntime>,
}

impl Cluster {
    async fn start(managers: usize, workers: usize, seed: u64) -> Cluster {
        let root = tempfile::tempdir().expect("cluster start-up");
        let net = InProcNodes::new(InProcNetwork::new(seed));
        let mut runtimes = BTreeMap::new();
        let mut runtime_of = |name: &str| {
            let r = runtime();
            runtimes.insert(name.to_owned(), r.clone());
            r
        };
        let m1 = Node::init(
            inproc_config(root.path(), "m1", &net, &runtime_of("m1")),
            Default::default(),
        )
        .await
        .expect("cluster start-up");
        let control = m1.control().expect("cluster start-up");
        let manager_token = control
            .join_token(NodeRole::Manager)
            .await
            .expect("cluster start-up");
        let worker_token = control
            .join_token(NodeRole::Worker)
            .await
            .expect("cluster start-up");
        let mut ms = vec![m1];
        for i in 2..=managers {
            let name = format!("m{i}");
            let node = Node::join(
                inproc_config(root.path(), &name, &net, &runtime_of(&name)),
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
        let mut cluster = Cluster {
            net,
            root,
            managers: ms,
            workers: Vec::new(),
            worker_token: worker_token.to_string(),
            runtimes,
        };
        for i in 1..=workers {
            cluster.add_worker(&format!("w{i}")).await;
        }
        cluster_support::all_ready(&control, managers + workers).await;
        cluster
    }

    async fn add_worker(&mut self, name: &str) {
        let runtime = runtime();
        self.runtimes.insert(name.to_owned(), runtime.clone());
        let node = Node::join(
            inproc_config(self.root.path(), name, &self.net, &runtime),
            "m1:2377",
            &self.worker_token,
        )
        .await
        .expect("cluster start-up");
        self.workers.push(node);
    }

    async fn control(&self) -> Control {
        let managers: Vec<&Node> = self.managers.iter().collect();
        cluster_support::leader_control(&managers).await
    }
}

fn service(name: &str, image: &str, replicas: u64) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, image);
    spec.mode = ServiceMode::Replicated { replicas };
    spec
}

/// The tasks of `service` that run and are meant to.
async fn running(control: &Control, service: &str) -> Vec<Task> {
    let filter = TaskFilter {
        services: vec![service.to_owned()],
        ..TaskFilter::default()
    };
    control
        .tasks(&filter)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.desired_state == TaskState::Running && t.status.state == TaskState::Running)
        .collect()
}

fn nodes_of(tasks: &[Task]) -> BTreeMap<String, usize> {
    let mut by_node = BTreeMap::new();
    for t in tasks {
        let node = t
            .node_id
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default();
        *by_node.entry(node).or_insert(0) += 1;
    }
    by_node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nerd_dinner_services_run_scale_spread_and_move_off_drained_and_dead_nodes() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(3, 5, 11).await;
    let control = cluster.control().await;

    // run-nerd-dinner.ps1, as API calls.
    control
        .create_network(&NetworkSpec::new("nd-swarm"))
        .await
        .unwrap();
    let attach = |spec: &mut ServiceSpec| {
        spec.task_template.networks = vec![NetworkAttachmentConfig {
            target: "nd-swarm".into(),
            aliases: vec![],
        }];
    };
    for (name, image) in [
        ("message-queue", "dockeronwindows/ch05-nats:2e"),
        ("elasticsearch", "sixeyed/elasticsearch:5.6.11"),
        ("nerd-dinner-db", "dockeronwindows/ch06-nerd-dinner-db:2e"),
        (
            "nerd-dinner-save-handler",
            "dockeronwindows/ch05-nerd-dinner-save-handler:2e",
        ),
        (
            "nerd-dinner-index-handler",
            "dockeronwindows/ch05-nerd-dinner-index-handler:2e",
        ),
        ("nerd-dinner-api", "dockeronwindows/ch05-nerd-dinner-api:2e"),
        (
            "nerd-dinner-homepage",
            "dockeronwindows/ch03-nerd-dinner-homepage:2e",
        ),
        ("nerd-dinner-web", "dockeronwindows/ch05-nerd-dinner-web:2e"),
    ] {
        let mut spec = service(name, image, 1);
        attach(&mut spec);
        if name == "elasticsearch" {
            spec.task_template.container.env = vec!["ES_JAVA_OPTS=-Xms512m -Xmx512m".into()];
        }
        control.create_service(&spec).await.unwrap();
    }
    let mut proxy = service("reverse-proxy", "sixeyed/traefik:v1.7.8", 1);
    attach(&mut proxy);
    proxy.task_template.placement.constraints = vec!["node.role==manager".into()];
    proxy.endpoint_spec = Some(EndpointSpec {
        ports: [80, 8080]
            .into_iter()
            .map(|port| PortConfig {
                target_port: port,
                published_port: port,
                publish_mode: PublishMode::Ingress,
                ..PortConfig::default()
            })
            .collect(),
        ..EndpointSpec::default()
    });
    control.create_service(&proxy).await.unwrap();
    let mut kibana = service("kibana", "sixeyed/kibana:5.6.11", 1);
    attach(&mut kibana);
    kibana.labels = [
        ("traefik.frontend.rule", "Host:kibana.nerddinner.swarm"),
        ("traefik.port", "5601"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    control.create_service(&kibana).await.unwrap();

    for name in ["message-queue", "nerd-dinner-web", "kibana"] {
        let tasks = converged(&control, name, 1).await;
        let attachment = &tasks[0].networks[0];
        assert_eq!(attachment.network_name, "nd-swarm");
        assert!(attachment.aliases.contains(&name.to_owned()));
    }
    // The reverse proxy runs on a manager, with its ports published.
    let proxy_tasks = converged(&control, "reverse-proxy", 1).await;
    let proxy_node = control
        .node(proxy_tasks[0].node_id.as_ref().unwrap().as_str())
        .await
        .unwrap();
    assert_eq!(proxy_node.spec.role, NodeRole::Manager);
    let proxy_service = control.service("reverse-proxy").await.unwrap();
    let published: BTreeSet<u32> = proxy_service
        .endpoint
        .as_ref()
        .unwrap()
        .ports
        .iter()
        .map(|p| p.published_port)
        .collect();
    assert_eq!(published, BTreeSet::from([80, 8080]));
    // Service names resolve to the service's virtual IP on the network.
    let vip = control.resolve("nd-swarm", "message-queue").await.unwrap();
    assert_eq!(vip.len(), 1);

    // Scale the homepage to 5: spread over 5 different nodes.
    control
        .scale_service("nerd-dinner-homepage", 5)
        .await
        .unwrap();
    let homepage = converged(&control, "nerd-dinner-homepage", 5).await;
    assert!(
        nodes_of(&homepage).values().all(|&n| n == 1),
        "spread over distinct nodes: {:?}",
        nodes_of(&homepage)
    );

    // Drain the node of one homepage task: its tasks move elsewhere.
    let drained = homepage[0].node_id.clone().unwrap();
    control
        .set_availability(drained.as_str(), NodeAvailability::Drain)
        .await
        .unwrap();
    eventually(CONVERGE, "nothing left on the drained node", || async {
        let filter = TaskFilter {
            nodes: vec![drained.to_string()],
            ..TaskFilter::default()
        };
        let tasks = control.tasks(&filter).await.ok()?;
        tasks
            .iter()
            .all(|t| t.desired_state > TaskState::Running)
            .then_some(())
    })
    .await;
    let homepage = converged(&control, "nerd-dinner-homepage", 5).await;
    assert!(
        homepage
            .iter()
            .all(|t| t.node_id.as_ref() != Some(&drained))
    );

    // Kill a worker that runs a homepage task: its tasks run elsewhere.
    let victim_id = homepage
        .iter()
        .filter_map(|t| t.node_id.clone())
        .find(|n| cluster.workers.iter().any(|w| w.id() == n))
        .expect("a homepage task on a worker");
    let index = cluster
        .workers
        .iter()
        .position(|w| w.id() == &victim_id)
        .unwrap();
    let victim = cluster.workers.remove(index);
    victim.shutdown().await;
    eventually(
        CONVERGE,
        "the dead worker's tasks run elsewhere",
        || async {
            let tasks = running(&control, "nerd-dinner-homepage").await;
            (tasks.len() == 5 && tasks.iter().all(|t| t.node_id.as_ref() != Some(&victim_id)))
                .then_some(())
        },
    )
    .await;
    converged(&control, "nerd-dinner-homepage", 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_service_follows_joins_a_job_completes_and_unplaceable_tasks_say_why() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(1, 2, 12).await;
    let control = cluster.control().await;
    let mut events = cluster.managers[0].events();

    let mut global = ServiceSpec::new("node-exporter", "prom/node-exporter");
    global.mode = ServiceMode::Global;
    // Templates, expanded by the agent of the node that runs the task.
    global.task_template.container.hostname = Some("{{.Node.Hostname}}-{{.Service.Name}}".into());
    global.task_template.container.env = vec!["TASK={{.Task.Name}}".into()];
    control.create_service(&global).await.unwrap();
    let tasks = converged(&control, "node-exporter", 3).await;
    // The events stream announced the service and its tasks reaching running.
    let mut seen_created = false;
    let mut running = BTreeSet::new();
    while let Ok(event) = events.try_recv() {
        match event {
            ClusterEvent::ServiceCreated { name, .. } if name == "node-exporter" => {
                seen_created = true;
            }
            ClusterEvent::TaskStateChanged {
                task,
                to: TaskState::Running,
                ..
            } => {
                running.insert(task);
            }
            _ => {}
        }
    }
    assert!(seen_created, "a ServiceCreated event");
    for task in &tasks {
        let node = control
            .node(task.node_id.as_ref().unwrap().as_str())
            .await
            .unwrap();
        let host = node.description.unwrap().hostname;
        let spec = cluster.runtimes[&host].spec_of(&task.id).unwrap();
        assert_eq!(
            spec.container.hostname.as_deref(),
            Some(format!("{host}-node-exporter").as_str())
        );
        assert_eq!(
            spec.container.env,
            [format!("TASK=node-exporter.{}.{}", node.id, task.id)]
        );
    }
    assert!(
        tasks.iter().all(|t| running.contains(&t.id)),
        "a running event for every task"
    );
    cluster.add_worker("w3").await;
    let tasks = converged(&control, "node-exporter", 4).await;
    assert_eq!(nodes_of(&tasks).len(), 4, "one task per node");

    // A replicated job: 3 completions, at most 2 at once; the mock's unknown images run until
    // stopped, so the job's image is scripted to exit 0.
    let mut job = ServiceSpec::new("migrate", "mock/exit-0");
    job.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 2,
        total_completions: 3,
    };
    control.create_service(&job).await.unwrap();
    eventually(CONVERGE, "the job completes 3 tasks", || async {
        let filter = TaskFilter {
            services: vec!["migrate".into()],
            ..TaskFilter::default()
        };
        let tasks = control.tasks(&filter).await.ok()?;
        let complete = tasks
            .iter()
            .filter(|t| t.status.state == TaskState::Complete)
            .count();
        (complete == 3).then_some(())
    })
    .await;

    // A reservation no node has: the task waits, saying why per filter.
    let mut big = service("big", "mock/big", 1);
    big.task_template.resources.reservations = Some(swarm_core::model::Resources {
        memory_bytes: 1 << 50,
        ..Default::default()
    });
    control.create_service(&big).await.unwrap();
    let reason = eventually(CONVERGE, "the unplaceable task's reason", || async {
        let filter = TaskFilter {
            services: vec!["big".into()],
            ..TaskFilter::default()
        };
        let tasks = control.tasks(&filter).await.ok()?;
        let task = tasks.first()?;
        (task.status.state == TaskState::Pending)
            .then(|| task.status.err.clone())
            .flatten()
    })
    .await;
    assert!(reason.contains("no suitable node"), "{reason}");
    assert!(reason.contains("memory"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_mid_scale_leaves_exactly_the_replicas_asked_for() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(3, 3, 13).await;
    let control = cluster.control().await;
    control
        .create_service(&service("web", "nginx", 2))
        .await
        .unwrap();
    converged(&control, "web", 2).await;
    control.scale_service("web", 12).await.unwrap();
    // Kill the leader while the new tasks are being created and placed.
    let index = cluster
        .managers
        .iter()
        .position(|m| m.is_leader())
        .expect("a leader");
    let leader = cluster.managers.remove(index);
    leader.shutdown().await;
    let control = cluster.control().await;
    let tasks = converged(&control, "web", 12).await;
    let slots: BTreeSet<u64> = tasks.iter().filter_map(|t| t.slot).collect();
    assert_eq!(
        slots,
        (1..=12).collect(),
        "one task per slot, no duplicates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebalancing_when_turned_on_moves_tasks_to_a_new_node_a_few_at_a_time() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(1, 2, 14).await;
    let control = cluster.control().await;
    control
        .create_service(&service("web", "nginx", 6))
        .await
        .unwrap();
    let tasks = converged(&control, "web", 6).await;
    assert_eq!(
        nodes_of(&tasks).values().copied().collect::<Vec<_>>(),
        [2, 2, 2]
    );

    // A new node gets nothing while rebalancing is off (as in SwarmKit).
    cluster.add_worker("w3").await;
    cluster_support::all_ready(&control, 4).await;
    let w3 = cluster.workers[2].id().clone();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tasks = converged(&control, "web", 6).await;
    assert!(tasks.iter().all(|t| t.node_id.as_ref() != Some(&w3)));

    // Turned on, at most one move per pass: the new node gets its share.
    let cluster_object = control.cluster().await.unwrap();
    let mut spec = cluster_object.spec.clone();
    spec.orchestration.rebalance_max_moves = 1;
    spec.orchestration.rebalance_interval = Duration::from_millis(200);
    control
        .update_cluster(swarm_core::manager::control::ClusterUpdate {
            version: cluster_object.meta.version,
            spec,
        })
        .await
        .unwrap();
    eventually(CONVERGE, "the new node runs its share", || async {
        let tasks = running(&control, "web").await;
        let on_w3 = tasks
            .iter()
            .filter(|t| t.node_id.as_ref() == Some(&w3))
            .count();
        (tasks.len() == 6 && on_w3 == 1).then_some(())
    })
    .await;
    let tasks = converged(&control, "web", 6).await;
    let mut counts: Vec<usize> = nodes_of(&tasks).values().copied().collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 1, 2, 2], "an even spread over four nodes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_creating_one_name_at_once_make_one_service() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let cluster = Cluster::start(3, 0, 15).await;
    let followers: Vec<Control> = cluster
        .managers
        .iter()
        .filter(|m| !m.is_leader())
        .map(|m| m.control().unwrap())
        .collect();
    assert_eq!(followers.len(), 2);
    for round in 0..5 {
        let name = format!("api-{round}");
        let spec = service(&name, "nginx", 1);
        let (a, b) = tokio::join!(
            followers[0].create_service(&spec),
            followers[1].create_service(&spec)
        );
        assert!(
            a.is_ok() != b.is_ok(),
            "exactly one create of {name} succeeds: {a:?} {b:?}"
        );
        let refusal = a.err().or(b.err()).unwrap().to_string();
        assert!(refusal.contains(&name), "{refusal}");
    }
    let control = cluster.control().await;
    let services = control.services(&Default::default()).await.unwrap();
    assert_eq!(services.len(), 5);
}
