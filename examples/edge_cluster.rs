//! A six-node cluster in one process, and what happens when the leader and a worker die.
//!
//! Three managers (`manager-1`..`manager-3`) and three workers (`worker-1`..`worker-3`) run
//! as real cluster nodes: they talk TCP with mutual TLS on 127.0.0.1 and keep their state in
//! a temporary directory, exactly as they would on six machines. The demo:
//!
//! 1. forms the cluster (`swarm init`, then `swarm join` with the manager and worker tokens)
//!    and prints `docker node ls`;
//! 2. deploys the NerdDinner services of the book chapter's `run-nerd-dinner.ps1` (an overlay
//!    network, a secret for the database, the reverse proxy on a manager publishing ports 80
//!    and 8080, the homepage scaled to 3) and prints `docker service ls` and
//!    `docker service ps nerd-dinner-homepage`;
//! 3. shuts down the leading manager and `worker-3` at the same moment;
//! 4. prints the events a surviving manager sees (a new leader, nodes going down);
//! 5. once a surviving manager accepts a write and `worker-3` shows `Down`, prints the node
//!    table again with the two times, and the services once every task of `worker-3` runs
//!    elsewhere.
//!
//! Every node uses the default settings: agents heartbeat every 500 ms and are marked down
//! after 2 s without one; managers heartbeat every 100 ms and elect a new leader after 0.6–1.2 s
//! without one (SwarmKit's defaults: 5 s heartbeats, down after 15 s, elections after 10–20 s).
//! Tasks run on the mock runtime (no containers are started; each task "runs" until stopped).
//!
//! What to expect: a new leader is elected and accepts writes about 2 s after the old one
//! stopped. As in SwarmKit, the new leader does not know when each node last heartbeat, so it
//! marks every node `Unknown` and gives each twice the usual grace (4 s) to find it; the nodes
//! that are alive turn `Ready` again within a heartbeat or two, and `worker-3` turns `Down`
//! when its grace ends, about 6 s after it stopped. A worker that dies while the leader stays
//! up is marked `Down` after about 2 s (see `cluster_bench` in the benches).
//!
//! Run it with `cargo run --example edge_cluster` (about 10 seconds).

use std::collections::BTreeMap;
use std::error::Error;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swarm::core::manager::control::TaskFilter;
use swarm::core::model::{
    ClusterSpec, EndpointSpec, FileTarget, NetworkAttachmentConfig, NetworkSpec, NodeAvailability,
    NodeId, NodeRole, NodeState, PortConfig, SecretData, SecretReference, SecretSpec, ServiceMode,
    ServiceSpec, TaskState,
};
use swarm::core::node::{ClusterEvent, Control, Node, NodeConfig};
use swarm::core::runtime::mock::{MockRuntime, MockScript};
use tokio::time::Instant;

/// How long the demo waits for any one step before giving up.
const STEP_LIMIT: Duration = Duration::from_secs(20);
/// How long one control call may take while no leader is known.
const CALL_LIMIT: Duration = Duration::from_secs(1);

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A node's settings: its own data directory, any free port on 127.0.0.1, a hostname.
fn config(root: &Path, hostname: &str) -> NodeConfig {
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let runtime = MockRuntime::new().with_default_script(MockScript::new().run_until_stopped());
    let mut config = NodeConfig::new(root.join(hostname), listen, Arc::new(runtime));
    config.hostname = Some(hostname.to_owned());
    config
}

/// Calls `check` every 50 ms until it gives `Some`, for at most [`STEP_LIMIT`].
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("gave up after {STEP_LIMIT:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Forms the cluster: `manager-1` starts it, the others join with the tokens it hands out.
async fn form_cluster(root: &Path) -> Result<(Vec<Node>, Vec<Node>)> {
    let first = Node::init(config(root, "manager-1"), ClusterSpec::default()).await?;
    let control = first.control()?;
    let manager_token = control.join_token(NodeRole::Manager).await?;
    let worker_token = control.join_token(NodeRole::Worker).await?;
    let addr = first.advertise_addr();
    println!("manager-1 started the cluster, listening on {addr}");

    let mut managers = vec![first];
    for i in 2..=3 {
        let name = format!("manager-{i}");
        managers.push(Node::join(config(root, &name), &addr, &manager_token).await?);
        // A new manager votes once it has caught up with the log; let its promotion finish
        // before going on.
        wait_for("the new manager to vote", || async {
            let status = managers[0].store_status()?;
            // Raft promotes in two steps (old and new voters together, then the new voters
            // alone); until both are done the group tolerates only what the old voters do.
            (status.voters().len() == i && status.is_settled()).then_some(())
        })
        .await?;
        println!("{name} joined as a manager");
    }
    let mut workers = Vec::new();
    for i in 1..=3 {
        let name = format!("worker-{i}");
        workers.push(Node::join(config(root, &name), &addr, &worker_token).await?);
        println!("{name} joined as a worker");
    }
    wait_for("every node ready", || async {
        let nodes = control.nodes(&Default::default()).await.ok()?;
        let ready = nodes.iter().filter(|n| n.status.state == NodeState::Ready);
        (ready.count() == 6).then_some(())
    })
    .await?;
    Ok((managers, workers))
}

/// Prints what `manager` sees happen, with the time since `t0`, until the program ends.
fn print_events(manager: &Node, names: BTreeMap<NodeId, String>, t0: Instant) {
    let mut events = manager.events();
    let name = move |id: &NodeId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let what = match event {
                ClusterEvent::LeaderChanged { node: Some(node) } => {
                    format!("{} leads now", name(&node))
                }
                ClusterEvent::LeaderChanged { node: None } => "no leader known".to_owned(),
                ClusterEvent::NodeStateChanged { node, from, to } => {
                    format!("{} {from:?} -> {to:?}", name(&node))
                }
                other => format!("{other:?}"),
            };
            println!("  [{:>6.3}s] event: {what}", t0.elapsed().as_secs_f64());
        }
    });
}

/// Tries a write (`node update --availability active worker-1`) on each surviving manager
/// until one accepts it; returns the one that did.
async fn first_write(survivors: &[Node]) -> Result<Control> {
    wait_for("a surviving manager to accept a write", || async {
        for manager in survivors {
            let Ok(control) = manager.control() else {
                continue;
            };
            let write = control.set_availability("worker-1", NodeAvailability::Active);
            if let Ok(Ok(())) = tokio::time::timeout(CALL_LIMIT, write).await {
                return Some(control);
            }
        }
        None
    })
    .await
}

/// `run-nerd-dinner.ps1` as API calls: the network, a secret and the services.
async fn deploy_nerd_dinner(control: &Control) -> Result<()> {
    control
        .create_network(&NetworkSpec::new("nd-swarm"))
        .await?;
    control
        .create_secret(&SecretSpec {
            name: "nerd-dinner-db-password".into(),
            data: SecretData::new(b"s3cret-Passw0rd".to_vec()),
            ..SecretSpec::default()
        })
        .await?;
    let services = [
        ("message-queue", "dockeronwindows/ch05-nats:2e", 1),
        (
            "nerd-dinner-db",
            "dockeronwindows/ch06-nerd-dinner-db:2e",
            1,
        ),
        (
            "nerd-dinner-save-handler",
            "dockeronwindows/ch05-nerd-dinner-save-handler:2e",
            1,
        ),
        (
            "nerd-dinner-api",
            "dockeronwindows/ch05-nerd-dinner-api:2e",
            1,
        ),
        (
            "nerd-dinner-homepage",
            "dockeronwindows/ch03-nerd-dinner-homepage:2e",
            3,
        ),
        (
            "nerd-dinner-web",
            "dockeronwindows/ch05-nerd-dinner-web:2e",
            1,
        ),
        (
            "reverse-proxy",
            "sixeyed/traefik:v1.7.8-windowsservercore-ltsc2019",
            1,
        ),
    ];
    for (name, image, replicas) in services {
        let mut spec = ServiceSpec::new(name, image);
        spec.mode = ServiceMode::Replicated { replicas };
        spec.task_template.networks = vec![NetworkAttachmentConfig {
            target: "nd-swarm".into(),
            aliases: vec![],
        }];
        if name == "nerd-dinner-db" {
            // By name: the cluster resolves it to the secret's id.
            spec.task_template.container.secrets = vec![SecretReference {
                secret_id: Default::default(),
                secret_name: "nerd-dinner-db-password".into(),
                target: FileTarget::new("db-password"),
            }];
        }
        if name == "reverse-proxy" {
            spec.task_template.placement.constraints = vec!["node.role==manager".into()];
            spec.endpoint_spec = Some(EndpointSpec {
                ports: [80, 8080]
                    .into_iter()
                    .map(|port| PortConfig {
                        target_port: port,
                        published_port: port,
                        ..PortConfig::default()
                    })
                    .collect(),
                ..EndpointSpec::default()
            });
        }
        control.create_service(&spec).await?;
    }
    Ok(())
}

/// Waits until every service runs as many tasks as it should, none of them on `gone`.
async fn services_converged(control: &Control, gone: Option<&NodeId>) -> Result<()> {
    wait_for("every service running", || async {
        let services = control.services(&Default::default()).await.ok()?;
        let tasks = control.tasks(&TaskFilter::default()).await.ok()?;
        services
            .iter()
            .all(|s| {
                let running = tasks
                    .iter()
                    .filter(|t| t.service_id == s.id && t.desired_state == TaskState::Running)
                    .filter(|t| t.status.state == TaskState::Running)
                    .filter(|t| gone.is_none_or(|g| t.node_id.as_ref() != Some(g)))
                    .count();
                matches!(s.spec.mode, ServiceMode::Replicated { replicas } if running as u64 == replicas)
            })
            .then_some(())
    })
    .await
}

#[tokio::main]
async fn main() -> Result<()> {
    let root = tempfile::tempdir()?;
    let (managers, mut workers) = form_cluster(root.path()).await?;
    let leader_index = managers
        .iter()
        .position(Node::is_leader)
        .ok_or("no manager leads")?;
    let control = managers[leader_index].control()?;
    println!("\n$ docker node ls\n{}", control.node_ls().await?);

    deploy_nerd_dinner(&control).await?;
    services_converged(&control, None).await?;
    println!("$ docker service ls\n{}", control.service_ls().await?);
    println!(
        "$ docker service ps nerd-dinner-homepage\n{}",
        control.service_ps("nerd-dinner-homepage").await?
    );

    // Hostnames by node id, to print events readably.
    let names: BTreeMap<NodeId, String> = control
        .nodes(&Default::default())
        .await?
        .into_iter()
        .filter_map(|n| Some((n.id.clone(), n.description?.hostname)))
        .collect();
    let (mut survivors, mut leader) = (Vec::new(), None);
    for (i, manager) in managers.into_iter().enumerate() {
        if i == leader_index {
            leader = Some(manager);
        } else {
            survivors.push(manager);
        }
    }
    let leader = leader.ok_or("no leader")?;
    let worker = workers.pop().ok_or("no worker")?;
    let (leader_name, worker_id) = (names[leader.id()].clone(), worker.id().clone());

    println!("shutting down the leader ({leader_name}) and worker-3");
    let t0 = Instant::now();
    print_events(&survivors[0], names, t0);
    tokio::join!(leader.shutdown(), worker.shutdown());
    println!("  [{:>6.3}s] both are stopped", t0.elapsed().as_secs_f64());

    let control = first_write(&survivors).await?;
    let new_leader_ms = t0.elapsed().as_millis();
    println!(
        "  [{:>6.3}s] a surviving manager accepted a write",
        t0.elapsed().as_secs_f64()
    );
    wait_for("worker-3 down", || async {
        let record = control.node(worker_id.as_str()).await.ok()?;
        (record.status.state == NodeState::Down).then_some(())
    })
    .await?;
    let worker_down_ms = t0.elapsed().as_millis();

    println!("\n$ docker node ls\n{}", control.node_ls().await?);
    println!("a new leader answered a write {new_leader_ms} ms after the shutdown");
    println!("worker-3 was shown Down {worker_down_ms} ms after the shutdown");

    services_converged(&control, Some(&worker_id)).await?;
    println!(
        "every service runs its replicas again, none on worker-3, {} ms after the shutdown",
        t0.elapsed().as_millis()
    );
    println!("\n$ docker service ls\n{}", control.service_ls().await?);

    for node in survivors.into_iter().chain(workers) {
        node.shutdown().await;
    }
    Ok(())
}
