//! The NerdDinner chapter on a five-node cluster in one process, as `docker stack` drives it.
//!
//! Three managers (`manager-1`..`manager-3`) and two workers (`worker-1`, `worker-2`) run as
//! real cluster nodes: TCP with mutual TLS on 127.0.0.1, state in a temporary directory, and
//! the process runtime, so every task is a real OS process. The chapter's Windows images
//! cannot run here: each service keeps its image name (shown in the tables) but runs a
//! stand-in command, a shell that lists the secret and config files it was given and sleeps.
//! The demo prints what docker prints at each step of the chapter:
//!
//! 1. `docker node ls`;
//! 2. `docker network create` and `apply-configuration.ps1` (`docker config create`,
//!    `docker secret create`), from the chapter's files;
//! 3. `docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml nerd-dinner`,
//!    then `docker stack ls`, `docker stack services` and `docker stack ps` once every
//!    replica runs;
//! 4. the re-deploy with `new-homepage.yml`: only the homepage is updated, one task at a time
//!    (docker's default policy), and the demo counts the homepage tasks running meanwhile
//!    from the cluster's event stream; then `docker service ps` of the homepage;
//! 5. `docker stack rm nerd-dinner`, and the processes it leaves (none).
//!
//! Run it with `cargo run --example nerddinner` (about 15 seconds).

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use swarm::core::manager::control::TaskFilter;
use swarm::core::model::{
    ClusterSpec, ConfigSpec, NetworkSpec, NodeRole, NodeState, SecretSpec, ServiceId, ServiceMode,
    TaskId, TaskState,
};
use swarm::core::node::{ClusterEvent, Control, Node, NodeConfig};
use swarm::core::runtime::process::ProcessRuntime;
use swarm::core::stack::{
    ComposeFile, DeployOptions, StackObjects, convert, deploy, list, load, ps, remove,
    render_stack_ls, services,
};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant;

/// How long the demo waits for any one step before giving up.
const STEP_LIMIT: Duration = Duration::from_secs(30);
const STACK: &str = "nerd-dinner";

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The chapter's files (the repository's copy of `ch07/` of *Docker on Windows*).
macro_rules! chapter_file {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../swarm-core/tests/fixtures/nerddinner/", $name)).as_slice(),
        )
    };
}
const COMPOSE_FILES: [(&str, &[u8]); 3] = [
    chapter_file!("docker-compose.yml"),
    chapter_file!("docker-compose.swarm.yml"),
    chapter_file!("new-homepage.yml"),
];
const CONFIG_FILES: [(&str, &str, &[u8]); 2] = [
    (
        "nerd-dinner-api-config",
        ".\\configs\\nerd-dinner-api-config.json",
        chapter_file!("configs/nerd-dinner-api-config.json").1,
    ),
    (
        "nerd-dinner-config",
        ".\\configs\\nerd-dinner-config.json",
        chapter_file!("configs/nerd-dinner-config.json").1,
    ),
];
const SECRET_FILES: [(&str, &str, &[u8]); 7] = [
    (
        "nerd-dinner-secrets",
        ".\\secrets\\nerd-dinner-secrets.json",
        chapter_file!("secrets/nerd-dinner-secrets.json").1,
    ),
    (
        "nerd-dinner-save-handler-secrets",
        ".\\secrets\\save-handler-secrets.json",
        chapter_file!("secrets/save-handler-secrets.json").1,
    ),
    (
        "nerd-dinner-api-secrets",
        ".\\secrets\\nerd-dinner-api-secrets.json",
        chapter_file!("secrets/nerd-dinner-api-secrets.json").1,
    ),
    (
        "nerd-dinner-db-sa-password",
        ".\\secrets\\nerd-dinner-db-sa-password.txt",
        chapter_file!("secrets/nerd-dinner-db-sa-password.txt").1,
    ),
    // The client certificates are not part of the chapter's repository: stand-ins.
    (
        "docker-client-ca",
        ".\\secrets\\docker-client-certs\\ca.pem",
        b"stand-in CA certificate",
    ),
    (
        "docker-client-cert",
        ".\\secrets\\docker-client-certs\\cert.pem",
        b"stand-in client certificate",
    ),
    (
        "docker-client-key",
        ".\\secrets\\docker-client-certs\\key.pem",
        b"stand-in client key",
    ),
];

/// What each task runs instead of its Windows image: it lists its files, then sleeps until
/// stopped (a shell that `exec`s `sleep`, which ends on SIGTERM).
const STAND_IN: &str =
    "ls \"$SWARM_SECRETS_DIR\" \"$SWARM_CONFIGS_DIR\" >/dev/null 2>&1; exec sleep 600";

/// A node's settings: its own data directory, any free port on 127.0.0.1, a hostname, and a
/// process runtime of its own.
fn config(root: &Path, hostname: &str) -> Result<NodeConfig> {
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let runtime = ProcessRuntime::new()?;
    let mut config = NodeConfig::new(root.join(hostname), listen, Arc::new(runtime));
    config.hostname = Some(hostname.to_owned());
    Ok(config)
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

/// `swarm init` on `manager-1`, then `swarm join` of the others.
async fn form_cluster(root: &Path) -> Result<Vec<Node>> {
    let first = Node::init(config(root, "manager-1")?, ClusterSpec::default()).await?;
    let control = first.control()?;
    let manager_token = control.join_token(NodeRole::Manager).await?;
    let worker_token = control.join_token(NodeRole::Worker).await?;
    let addr = first.advertise_addr();
    let mut nodes = vec![first];
    for i in 2..=3 {
        let name = format!("manager-{i}");
        nodes.push(Node::join(config(root, &name)?, &addr, &manager_token).await?);
        wait_for("the new manager to vote", || async {
            let status = nodes[0].store_status()?;
            (status.voters().len() == i && status.is_settled()).then_some(())
        })
        .await?;
    }
    for i in 1..=2 {
        let name = format!("worker-{i}");
        nodes.push(Node::join(config(root, &name)?, &addr, &worker_token).await?);
    }
    wait_for("every node ready", || async {
        let nodes = control.nodes(&Default::default()).await.ok()?;
        let ready = nodes.iter().filter(|n| n.status.state == NodeState::Ready);
        (ready.count() == 5).then_some(())
    })
    .await?;
    Ok(nodes)
}

/// `docker stack deploy -c <files…> nerd-dinner`, each service running the stand-in.
fn stack(files: &[&str]) -> Result<StackObjects> {
    let compose: Vec<ComposeFile> = files
        .iter()
        .map(|name| {
            let (_, bytes) = COMPOSE_FILES
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| format!("no file {name}"))?;
            Ok(ComposeFile::new(*name, bytes.to_vec()))
        })
        .collect::<Result<_>>()?;
    // The chapter's stack files read no other file (its secrets and configs are external).
    let no_files = |p: &Path| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not part of the demo", p.display()),
        ))
    };
    let project = load(&compose, &BTreeMap::new(), &no_files)?;
    let mut objects = convert(&project, STACK)?;
    for service in &mut objects.services {
        let container = &mut service.task_template.container;
        container.command = vec!["/bin/sh".into(), "-c".into(), STAND_IN.into()];
        container.args.clear();
    }
    Ok(objects)
}

/// Waits until every service of the stack runs all its replicas.
async fn stack_converged(control: &Control) -> Result<()> {
    wait_for("every replica of the stack running", || async {
        let listed = services(control, STACK).await.ok()?;
        listed
            .services
            .iter()
            .all(|s| {
                let running = listed
                    .tasks
                    .iter()
                    .filter(|t| t.service_id == s.id && t.desired_state == TaskState::Running)
                    .filter(|t| t.status.state == TaskState::Running)
                    .filter(|t| t.spec.container.image == s.spec.task_template.container.image)
                    .count();
                matches!(s.spec.mode, ServiceMode::Replicated { replicas } if running as u64 == replicas)
            })
            .then_some(())
    })
    .await
}

/// Follows the task events of `service` from `running` (the ids running now) until two tasks
/// run that were not running at the start; returns the fewest seen running at once.
async fn fewest_running(
    events: &mut Receiver<ClusterEvent>,
    service: &ServiceId,
    old: BTreeSet<TaskId>,
) -> Result<usize> {
    let mut running = old.clone();
    let mut fewest = running.len();
    let deadline = Instant::now() + STEP_LIMIT;
    while !(running.len() == old.len() && running.is_disjoint(&old)) {
        let event = tokio::time::timeout_at(deadline, events.recv()).await??;
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
    Ok(fewest)
}

#[tokio::main]
async fn main() -> Result<()> {
    let t0 = Instant::now();
    let root = tempfile::tempdir()?;
    let nodes = form_cluster(root.path()).await?;
    let leader = nodes
        .iter()
        .find(|n| n.is_leader())
        .ok_or("no manager leads")?;
    let control = leader.control()?;
    println!("$ docker node ls\n{}", control.node_ls().await?);

    println!("$ docker network create --driver overlay nd-swarm");
    println!(
        "{}",
        control
            .create_network(&NetworkSpec::new("nd-swarm"))
            .await?
    );
    println!("\n$ .\\apply-configuration.ps1");
    for (name, file, data) in CONFIG_FILES {
        let id = control
            .create_config(&ConfigSpec::new(name, data.to_vec()))
            .await?;
        println!("docker config create {name} {file}\n{id}");
    }
    for (name, file, data) in SECRET_FILES {
        let id = control
            .create_secret(&SecretSpec::new(name, data.to_vec()))
            .await?;
        println!("docker secret create {name} {file}\n{id}");
    }

    let chapter = ["docker-compose.yml", "docker-compose.swarm.yml"];
    println!("\n$ docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml {STACK}");
    let report = deploy(&control, &stack(&chapter)?, &DeployOptions::default()).await?;
    print!("{}", report.render());
    stack_converged(&control).await?;
    println!(
        "\n$ docker stack ls\n{}",
        render_stack_ls(&list(&control).await?)
    );
    println!(
        "$ docker stack services {STACK}\n{}",
        services(&control, STACK).await?.render()
    );
    println!(
        "$ docker stack ps {STACK}\n{}",
        ps(&control, STACK).await?.render(SystemTime::now())
    );

    let homepage = control.service("nerd-dinner_nerd-dinner-homepage").await?;
    let old: BTreeSet<TaskId> = control
        .tasks(&TaskFilter {
            services: vec![homepage.id.to_string()],
            desired_states: vec![TaskState::Running],
            ..TaskFilter::default()
        })
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut events = leader.events();
    println!(
        "$ docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml -c new-homepage.yml {STACK}"
    );
    let update = [
        "docker-compose.yml",
        "docker-compose.swarm.yml",
        "new-homepage.yml",
    ];
    let report = deploy(&control, &stack(&update)?, &DeployOptions::default()).await?;
    print!("{}", report.render());
    let fewest = fewest_running(&mut events, &homepage.id, old).await?;
    stack_converged(&control).await?;
    println!(
        "({} services left alone; the homepage was replaced one task at a time with at least {fewest} of its 2 tasks running throughout)",
        report.unchanged_services.len()
    );
    println!(
        "\n$ docker service ps {}\n{}",
        homepage.spec.name,
        control.service_ps(&homepage.spec.name).await?
    );

    println!("$ docker stack rm {STACK}");
    print!("{}", remove(&control, STACK).await?.render());
    wait_for("every task of the stack to stop", || async {
        let tasks = control.tasks(&TaskFilter::default()).await.ok()?;
        tasks
            .iter()
            .all(|t| t.status.state > TaskState::Running)
            .then_some(())
    })
    .await?;
    println!(
        "\n$ docker stack ls\n{}",
        render_stack_ls(&list(&control).await?)
    );
    println!(
        "every task process has stopped; the demo took {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
