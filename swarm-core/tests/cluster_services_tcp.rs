//! Services end to end over real TCP with mutual TLS on 127.0.0.1, with tasks as real OS
//! processes (the process runtime): the shape of the chapter's `run-nerd-dinner.ps1` as control
//! calls on three managers and two workers (a network, services with env, labels, published
//! ports and a manager constraint), a scale-out that spreads, a secret that reaches exactly the
//! nodes running its service's tasks as a file with its value and goes with the service, a job
//! that completes its total, and no process left once the nodes are shut down.
#![cfg(unix)]

mod cluster_support;

use cluster_support::converged;

use cluster_support::{cluster_with, eventually, leader_control};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::manager::control::TaskFilter;
use swarm_core::model::{
    EndpointSpec, FileTarget, NetworkAttachmentConfig, NetworkSpec, NodeId, NodeRole, PortConfig,
    PublishMode, SecretReference, SecretSpec, ServiceMode, ServiceSpec, Task, TaskState,
};
use swarm_core::node::Node;
use swarm_core::runtime::process::{ProcessRuntime, ProcessRuntimeConfig};

const CONVERGE: Duration = Duration::from_secs(30);
const SECRET_VALUE: &[u8] = b"{\"apiKey\":\"hunter2\"}";
const SECRET_TARGET: &str = "secrets.json";
/// Where each long-running task writes its shell's process id (named by task id), so the test
/// can check that no task process outlives the nodes.
const PID_DIR_VAR: &str = "TEST_PID_DIR";

/// The process runtime of every node, by node name.
type Runtimes = Arc<Mutex<BTreeMap<String, ProcessRuntime>>>;

/// `sh -c <script>`, as the process runtime runs a task's command.
fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

/// A replicated service running `sh -c "echo started; ...; sleep 1000"` on `nd-swarm`, with
/// the task's shell's pid written to `$TEST_PID_DIR/$SWARM_TASK_ID` and `extra` run first.
fn service(name: &str, image: &str, replicas: u64, pid_dir: &Path, extra: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, image);
    spec.mode = ServiceMode::Replicated { replicas };
    let container = &mut spec.task_template.container;
    container.command = sh(&format!(
        "echo started; echo $$ > \"${PID_DIR_VAR}/$SWARM_TASK_ID\"; {extra} sleep 1000"
    ));
    container.env = vec![format!("{PID_DIR_VAR}={}", pid_dir.display())];
    spec.task_template.networks = vec![NetworkAttachmentConfig {
        target: "nd-swarm".into(),
        aliases: vec![],
    }];
    spec
}

/// How many of `tasks` run on each node.
fn per_node(tasks: &[Task]) -> BTreeMap<NodeId, usize> {
    let mut by_node = BTreeMap::new();
    for t in tasks {
        if let Some(node) = &t.node_id {
            *by_node.entry(node.clone()).or_insert(0) += 1;
        }
    }
    by_node
}

/// The file a process task sees its secret target `SECRET_TARGET` as.
fn secret_file(runtime: &ProcessRuntime, task: &Task) -> PathBuf {
    runtime
        .task_dir(&task.id)
        .join("secrets")
        .join(SECRET_TARGET)
}

/// The processes of process group `pgid` that still run (zombies waiting to be reaped by
/// whoever inherited them do not run).
#[cfg(target_os = "linux")]
fn running_in_group(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first().is_some_and(|s| *s != "Z")
                && fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid)
        })
        .collect()
}

/// The processes of process group `pgid` that still exist.
#[cfg(not(target_os = "linux"))]
fn running_in_group(pgid: i32) -> Vec<i32> {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    match kill(Pid::from_raw(-pgid), None) {
        Ok(()) => vec![pgid],
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nerd_dinner_over_tcp_with_process_tasks_secrets_on_their_nodes_only_and_a_job() {
    let root = tempfile::tempdir().unwrap();
    let pid_dir = root.path().join("pids");
    std::fs::create_dir(&pid_dir).unwrap();
    let runtimes: Runtimes = Arc::default();
    let (managers, workers) = cluster_with(root.path(), 3, 2, |name| {
        let runtime = ProcessRuntime::with_config(ProcessRuntimeConfig {
            hostname: Some(name.to_owned()),
            ..ProcessRuntimeConfig::default()
        })
        .expect("a process runtime");
        runtimes
            .lock()
            .unwrap()
            .insert(name.to_owned(), runtime.clone());
        Arc::new(runtime)
    })
    .await;
    let nodes: Vec<&Node> = managers.iter().chain(&workers).collect();
    let runtime_of = |node: &NodeId| -> ProcessRuntime {
        let index = nodes
            .iter()
            .position(|n| n.id() == node)
            .expect("a node of the cluster");
        // Nodes are m1.. then w1..; the runtimes were made in that order under those names.
        let name = if index < managers.len() {
            format!("m{}", index + 1)
        } else {
            format!("w{}", index + 1 - managers.len())
        };
        runtimes.lock().unwrap()[&name].clone()
    };
    let manager_refs: Vec<&Node> = managers.iter().collect();
    let control = leader_control(&manager_refs).await;

    // run-nerd-dinner.ps1, as control calls, with shell commands for images.
    control
        .create_network(&NetworkSpec::new("nd-swarm"))
        .await
        .unwrap();
    control
        .create_secret(&SecretSpec::new(
            "nerd-dinner-api-secrets",
            SECRET_VALUE.to_vec(),
        ))
        .await
        .unwrap();
    control
        .create_service(&service(
            "message-queue",
            "dockeronwindows/ch05-nats:2e",
            1,
            &pid_dir,
            "",
        ))
        .await
        .unwrap();
    let mut elasticsearch = service(
        "elasticsearch",
        "sixeyed/elasticsearch:5.6.11",
        1,
        &pid_dir,
        // The task's working directory is its own: the env value lands in a file there.
        "echo \"$ES_JAVA_OPTS\" > es-java-opts;",
    );
    elasticsearch
        .task_template
        .container
        .env
        .push("ES_JAVA_OPTS=-Xms512m -Xmx512m".into());
    control.create_service(&elasticsearch).await.unwrap();
    let mut api = service(
        "nerd-dinner-api",
        "dockeronwindows/ch05-nerd-dinner-api:2e",
        2,
        &pid_dir,
        "",
    );
    api.task_template.container.secrets = vec![SecretReference {
        secret_id: "".into(),
        secret_name: "nerd-dinner-api-secrets".into(),
        target: FileTarget::new(SECRET_TARGET),
    }];
    control.create_service(&api).await.unwrap();
    control
        .create_service(&service(
            "nerd-dinner-homepage",
            "dockeronwindows/ch03-nerd-dinner-homepage:2e",
            1,
            &pid_dir,
            "",
        ))
        .await
        .unwrap();
    let mut proxy = service("reverse-proxy", "sixeyed/traefik:v1.7.8", 1, &pid_dir, "");
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
    let mut kibana = service("kibana", "sixeyed/kibana:5.6.11", 1, &pid_dir, "");
    kibana.labels = [
        ("traefik.frontend.rule", "Host:kibana.nerddinner.swarm"),
        ("traefik.port", "5601"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    control.create_service(&kibana).await.unwrap();

    // Every task runs, as a process, attached to the network under its service's name.
    for name in ["message-queue", "nerd-dinner-homepage", "kibana"] {
        let tasks = converged(&control, name, 1).await;
        let attachment = &tasks[0].networks[0];
        assert_eq!(attachment.network_name, "nd-swarm");
        assert!(attachment.aliases.contains(&name.to_owned()));
    }
    let es = converged(&control, "elasticsearch", 1).await;
    let es_runtime = runtime_of(es[0].node_id.as_ref().unwrap());
    let es_opts = es_runtime
        .task_dir(&es[0].id)
        .join("work")
        .join("es-java-opts");
    let seen = eventually(CONVERGE, "elasticsearch's env written", || async {
        std::fs::read_to_string(&es_opts)
            .ok()
            .filter(|s| s.ends_with('\n'))
    })
    .await;
    assert_eq!(seen, "-Xms512m -Xmx512m\n");
    let stored_kibana = control.service("kibana").await.unwrap();
    assert_eq!(stored_kibana.spec.labels["traefik.port"], "5601");

    // The reverse proxy runs on a manager, with its ports published.
    let proxy_tasks = converged(&control, "reverse-proxy", 1).await;
    let proxy_node = control
        .node(proxy_tasks[0].node_id.as_ref().unwrap().as_str())
        .await
        .unwrap();
    assert_eq!(proxy_node.spec.role, NodeRole::Manager);
    let published: BTreeSet<u32> = control
        .service("reverse-proxy")
        .await
        .unwrap()
        .endpoint
        .expect("an allocated endpoint")
        .ports
        .iter()
        .map(|p| p.published_port)
        .collect();
    assert_eq!(published, BTreeSet::from([80, 8080]));
    assert_eq!(
        control
            .resolve("nd-swarm", "message-queue")
            .await
            .unwrap()
            .len(),
        1
    );

    // Scaled to 4, the homepage spreads over four of the five nodes.
    control
        .scale_service("nerd-dinner-homepage", 4)
        .await
        .unwrap();
    let homepage = converged(&control, "nerd-dinner-homepage", 4).await;
    let spread = per_node(&homepage);
    assert_eq!(spread.len(), 4, "on four nodes: {spread:?}");

    // The API's secret is on exactly the two nodes running its tasks, as a file holding its
    // value in each task's secrets directory; the other three nodes hold nothing of it.
    let api_tasks = converged(&control, "nerd-dinner-api", 2).await;
    let api_nodes: BTreeSet<NodeId> = per_node(&api_tasks).into_keys().collect();
    assert_eq!(api_nodes.len(), 2, "spread over two nodes");
    let secret_id = control.secret("nerd-dinner-api-secrets").await.unwrap().id;
    eventually(CONVERGE, "the secret on the API's nodes only", || async {
        nodes
            .iter()
            .all(|n| {
                let held = n.agent_snapshot().held_secrets;
                if api_nodes.contains(n.id()) {
                    held == [secret_id.clone()]
                } else {
                    held.is_empty()
                }
            })
            .then_some(())
    })
    .await;
    for task in &api_tasks {
        let runtime = runtime_of(task.node_id.as_ref().unwrap());
        let path = secret_file(&runtime, task);
        assert_eq!(std::fs::read(&path).unwrap(), SECRET_VALUE, "{path:?}");
    }
    // No other task of any node has the file.
    let all = control.tasks(&TaskFilter::default()).await.unwrap();
    for task in all
        .iter()
        .filter(|t| t.service_id != api_tasks[0].service_id)
    {
        if let Some(node) = &task.node_id {
            assert!(
                !secret_file(&runtime_of(node), task).exists(),
                "{}",
                task.id
            );
        }
    }
    let without: Vec<&&Node> = nodes
        .iter()
        .filter(|n| !api_nodes.contains(n.id()))
        .collect();
    assert_eq!(without.len(), 3);

    // The API removed: the secret leaves both agents and the files go with the tasks.
    control.remove_service("nerd-dinner-api").await.unwrap();
    eventually(CONVERGE, "the secret dropped everywhere", || async {
        nodes
            .iter()
            .all(|n| n.agent_snapshot().held_secrets.is_empty())
            .then_some(())
    })
    .await;
    eventually(CONVERGE, "the API's secret files deleted", || async {
        api_tasks
            .iter()
            .all(|t| !secret_file(&runtime_of(t.node_id.as_ref().unwrap()), t).exists())
            .then_some(())
    })
    .await;
    control
        .remove_secret("nerd-dinner-api-secrets")
        .await
        .unwrap();

    // A job of 3 completions, at most 2 at once: `sh -c "exit 0"` completes its total.
    let mut job = ServiceSpec::new("migrate", "dockeronwindows/ch06-nerd-dinner-db:2e");
    job.mode = ServiceMode::ReplicatedJob {
        max_concurrent: 2,
        total_completions: 3,
    };
    job.task_template.container.command = sh("exit 0");
    control.create_service(&job).await.unwrap();
    eventually(CONVERGE, "the job completes 3 tasks", || async {
        let filter = TaskFilter {
            services: vec!["migrate".into()],
            ..TaskFilter::default()
        };
        let tasks = control.tasks(&filter).await.ok()?;
        let complete = tasks
            .iter()
            .filter(|t| t.status.state == TaskState::Complete && t.status.exit_code == Some(0))
            .count();
        (complete == 3).then_some(())
    })
    .await;

    // Shut down: no task process is left, and every runtime released its tasks.
    let pids: Vec<i32> = std::fs::read_dir(&pid_dir)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    // message-queue, elasticsearch, 2 API, 4 homepage, proxy, kibana.
    assert_eq!(pids.len(), 10, "{pids:?}");
    // The API's two were stopped with their service; the other eight still run.
    let running = pids
        .iter()
        .filter(|&&pid| !running_in_group(pid).is_empty())
        .count();
    assert_eq!(running, 8, "{pids:?}");
    drop(nodes);
    for node in workers.into_iter().chain(managers) {
        node.shutdown().await;
    }
    eventually(CONVERGE, "no task process left", || async {
        pids.iter()
            .all(|&pid| running_in_group(pid).is_empty())
            .then_some(())
    })
    .await;
    eventually(CONVERGE, "every runtime released its tasks", || async {
        let runtimes = runtimes.lock().unwrap();
        runtimes
            .values()
            .all(|r| r.live_tasks().is_empty())
            .then_some(())
    })
    .await;
}
