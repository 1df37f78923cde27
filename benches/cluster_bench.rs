//! Cluster behaviour benchmark: how fast a cluster notices failures, and what an idle node
//! costs in memory. One line per figure, each the median, min and max of several trials.
//!
//! - `worker_down_detect_ms`: 1 manager + 2 workers in this process; one worker is shut down;
//!   time until the manager's record of it says `Down` (polled every 10 ms).
//! - `leader_failover_ms`: 3 managers in this process; the leader is shut down; time until a
//!   write (a node label) is accepted by a surviving manager (each survivor polled every
//!   10 ms). The time counts the leader's shutdown itself.
//! - `manager_rss_idle_mib`, `agent_rss_idle_mib`: one manager and one worker, each alone in a
//!   child process (this binary run again with `--node-process`); once both are ready and
//!   have idled for 5 s, `VmRSS` of each from `/proc/<pid>/status`. Measured with the child on
//!   a current-thread tokio runtime and on a 2-thread one.
//!
//! - `false_downs_under_load`: 1 manager + 3 workers in this process while
//!   [`CPU_HOGS_PER_CORE`] spinning threads per core compete for the CPU (as a `cargo build`
//!   does) for [`LOAD_PERIOD`]; how many times a live node was marked `Down` (the manager's
//!   events stream), summed over the trials. The target is 0.
//! - `rolling_update_20`: 1 manager + 2 workers in this process with the process runtime (each
//!   task a real `sh -c 'exec sleep 600'`); a 20-replica service is updated to a new image with
//!   `parallelism=5`, `delay=0` (stop-first); `ms` from the update call until every slot runs
//!   a task of the new spec and no old task runs (polled every 10 ms).
//!
//! Every node over real TCP with mutual TLS on 127.0.0.1, disk storage in a temporary
//! directory, default settings (`NodeConfig::new`, `ClusterSpec::default()`), mock runtime
//! (but `rolling_update_20`).
//!
//! The services figures (`create_100k_on_1k_workers`, `worker_death_tasks_elsewhere_ms`,
//! `drain_10_tasks_ms`) run on the in-process network instead; see the `services` module.
//!
//! Run: `cargo run --release -p benches --bin cluster_bench`. Options: `--trials N` (default
//! 5; the large create runs at most 3), `--only PREFIX` (the figures whose name starts with
//! it, e.g. `leader_failover`), `--election-timeout-ms MIN-MAX` (instead of the default
//! 400-700), `--managers K` (3), `--workers N` (1,000) and `--replicas M` (100,000) for the
//! services figures (workers and replicas: the large create only), `--heartbeat-ms P` (the
//! large create's agent heartbeat period instead of the cluster default; its line names it).

#[path = "cluster_bench/services.rs"]
mod services;

use std::error::Error;
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use swarm_core::manager::control::{NodeFilter, TaskFilter};
use swarm_core::model::{
    ClusterSpec, NodeRole, NodeState, ServiceMode, ServiceSpec, Task, TaskState, UpdateConfig,
};
use swarm_core::node::{Node, NodeConfig};
use swarm_core::runtime::mock::MockRuntime;
use swarm_core::runtime::process::ProcessRuntime;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Trials per figure unless `--trials N`.
const DEFAULT_TRIALS: usize = 5;
/// Poll period of the timing figures.
const POLL: Duration = Duration::from_millis(10);
/// How long a node idles, once the cluster is settled, before its memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// How long the managers' logs must stay unchanged to count as settled.
const SETTLE: Duration = Duration::from_millis(200);
/// The longest any step may take (cluster formation, detection, a child's answer).
const STEP_LIMIT: Duration = Duration::from_secs(30);
/// The longest one write may take while the leader is being replaced; then it is retried.
const WRITE_LIMIT: Duration = Duration::from_secs(1);
/// How long the cluster runs under CPU load in one `false_downs_under_load` trial.
const LOAD_PERIOD: Duration = Duration::from_secs(20);
/// Spinning threads per core during that period.
const CPU_HOGS_PER_CORE: usize = 2;
/// Replicas of the service `rolling_update_20` updates.
const ROLLING_REPLICAS: u64 = 20;
/// Tasks `rolling_update_20` replaces at once.
const ROLLING_PARALLELISM: u64 = 5;

/// Election timeouts other than the defaults (`--election-timeout-ms MIN-MAX`), for every node
/// of the run, child processes included.
static ELECTION_TIMEOUT: OnceLock<(Duration, Duration)> = OnceLock::new();

fn config(root: &Path, name: &str) -> NodeConfig {
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut c = NodeConfig::new(root.join(name), listen, Arc::new(MockRuntime::new()));
    c.hostname = Some(name.to_owned());
    if let Some((min, max)) = ELECTION_TIMEOUT.get() {
        c.raft.election_timeout_min = *min;
        c.raft.election_timeout_max = *max;
    }
    c
}

/// Reads `--election-timeout-ms MIN-MAX`, if given.
fn set_election_timeout(args: &[String]) -> Result<()> {
    let Some(range) = arg(args, "--election-timeout-ms") else {
        return Ok(());
    };
    let (min, max) = range
        .split_once('-')
        .ok_or("--election-timeout-ms MIN-MAX")?;
    let ms = |v: &str| -> Result<Duration> { Ok(Duration::from_millis(v.parse()?)) };
    let _ = ELECTION_TIMEOUT.set((ms(min)?, ms(max)?));
    Ok(())
}

/// The 1-minute load average.
fn load1() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The settings every line names.
fn settings() -> String {
    settings_of(&ClusterSpec::default())
}

/// The settings of a cluster of `spec` and default nodes.
fn settings_of(spec: &ClusterSpec) -> String {
    let node = config(Path::new("."), "settings");
    format!(
        "agent_heartbeat_ms={} down_after_ms={} raft_heartbeat_ms={} election_timeout_ms={}-{}",
        spec.dispatcher.heartbeat_period.as_millis(),
        spec.dispatcher.heartbeat_grace_period().as_millis(),
        node.raft.heartbeat_period.as_millis(),
        node.raft.election_timeout_min.as_millis(),
        node.raft.election_timeout_max.as_millis(),
    )
}

/// The median of `values` (sorted in place); 0 when empty.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn report(name: &str, mut values: Vec<f64>, extra: &str, load: &str) {
    let median = median(&mut values);
    let n = values.len();
    if n == 0 {
        println!("{name} trials=0 {extra} load1_at_start={load}");
        return;
    }
    let digits = usize::from(name.ends_with("_mib"));
    println!(
        "{name} median={median:.digits$} min={:.digits$} max={:.digits$} trials={n} {extra} {} load1_at_start={load}",
        values[0],
        values[n - 1],
        settings(),
    );
}

/// Calls `check` every [`POLL`] until it gives `Some`, for at most [`STEP_LIMIT`].
async fn poll<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `managers` managers and `workers` workers in this process, all ready.
async fn cluster(root: &Path, managers: usize, workers: usize) -> Result<(Vec<Node>, Vec<Node>)> {
    cluster_with(root, managers, workers, |root, name| Ok(config(root, name))).await
}

/// A node's settings with the process runtime: its tasks are real OS processes.
fn process_config(root: &Path, name: &str) -> Result<NodeConfig> {
    let mut c = config(root, name);
    c.runtime = Arc::new(ProcessRuntime::new()?);
    Ok(c)
}

/// [`cluster`] with each node's settings from `config`.
async fn cluster_with(
    root: &Path,
    managers: usize,
    workers: usize,
    config: impl Fn(&Path, &str) -> Result<NodeConfig>,
) -> Result<(Vec<Node>, Vec<Node>)> {
    let first = Node::init(config(root, "m1")?, ClusterSpec::default()).await?;
    let control = first.control()?;
    let manager_token = control.join_token(NodeRole::Manager).await?;
    let worker_token = control.join_token(NodeRole::Worker).await?;
    let addr = first.advertise_addr();
    let mut ms = vec![first];
    for i in 2..=managers {
        ms.push(Node::join(config(root, &format!("m{i}"))?, &addr, &manager_token).await?);
        poll("the new manager to vote", || async {
            (ms[0].store_status()?.voters().len() == i).then_some(())
        })
        .await?;
        settled(&ms).await?;
    }
    let mut ws = Vec::new();
    for i in 1..=workers {
        ws.push(Node::join(config(root, &format!("w{i}"))?, &addr, &worker_token).await?);
    }
    let total = managers + workers;
    poll("every node ready", || async {
        let nodes = control.nodes(&NodeFilter::default()).await.ok()?;
        let ready = nodes.iter().filter(|n| n.status.state == NodeState::Ready);
        (ready.count() == total).then_some(())
    })
    .await?;
    Ok((ms, ws))
}

/// Waits until every manager applied the leader's whole log and the log stayed unchanged
/// for [`SETTLE`]. `voters()` already counts a new manager while its promotion is a joint
/// configuration (old voters and new); losing the leader before the final configuration is
/// committed leaves the others without a quorum of the old voters, so no leader, until it
/// comes back.
async fn settled(managers: &[Node]) -> Result<()> {
    let log_end = || {
        let statuses: Option<Vec<_>> = managers.iter().map(Node::store_status).collect();
        let statuses = statuses?;
        let end = statuses.iter().map(|s| s.last_log_index).max()?;
        statuses
            .iter()
            .all(|s| s.applied_index == end)
            .then_some(end)
    };
    poll("the managers to settle", || async {
        let before = log_end()?;
        tokio::time::sleep(SETTLE).await;
        (log_end()? == before).then_some(())
    })
    .await
}

async fn shutdown_all(nodes: impl IntoIterator<Item = Node>) {
    for n in nodes {
        n.shutdown().await;
    }
}

/// One trial: milliseconds from a worker's shutdown to the manager's record saying `Down`.
async fn worker_down_trial() -> Result<f64> {
    let root = tempfile::tempdir()?;
    let (managers, mut workers) = cluster(root.path(), 1, 2).await?;
    let control = managers[0].control()?;
    let dead = workers.pop().ok_or("no worker")?;
    let id = dead.id().clone();
    let t0 = Instant::now();
    dead.shutdown().await;
    poll("the worker down", || async {
        let n = control.node(id.as_str()).await.ok()?;
        (n.status.state == NodeState::Down).then_some(())
    })
    .await?;
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    shutdown_all(workers.into_iter().chain(managers)).await;
    Ok(ms)
}

/// What one failover trial measured, in milliseconds from the start of the leader's shutdown.
struct Failover {
    /// A survivor accepted a write.
    write_ms: f64,
    /// A survivor first saw itself as the leader.
    elected_ms: f64,
    /// The old leader's `shutdown` returned.
    shutdown_ms: f64,
}

/// One failover trial.
async fn failover_trial() -> Result<Failover> {
    let root = tempfile::tempdir()?;
    let (managers, _) = cluster(root.path(), 3, 0).await?;
    let index = poll("a leader", || async {
        managers.iter().position(Node::is_leader)
    })
    .await?;
    let mut survivors = managers;
    let leader = survivors.remove(index);
    let t0 = Instant::now();
    leader.shutdown().await;
    let shutdown_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let elected = async {
        poll("a new leader", || async {
            survivors.iter().any(Node::is_leader).then(Instant::now)
        })
        .await
    };
    // Every survivor writes a label on its own record until one is accepted.
    let (tx, mut rx) = tokio::sync::mpsc::channel(survivors.len());
    let mut pollers = Vec::new();
    for s in &survivors {
        let (control, id, tx) = (s.control()?, s.id().clone(), tx.clone());
        pollers.push(tokio::spawn(async move {
            for attempt in 0u64.. {
                let value = attempt.to_string();
                let write = control.add_label(id.as_str(), "bench-write", &value);
                if let Ok(Ok(())) = tokio::time::timeout(WRITE_LIMIT, write).await {
                    let _ = tx.send(Instant::now()).await;
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
        }));
    }
    drop(tx);
    let answered = async {
        tokio::time::timeout(STEP_LIMIT, rx.recv())
            .await?
            .ok_or_else(|| Box::<dyn Error>::from("no survivor accepted a write"))
    };
    let (elected, answered) = tokio::join!(elected, answered);
    for p in pollers {
        p.abort();
    }
    if elected.is_err() || answered.is_err() {
        // Say what the survivors see, then give up.
        for s in &survivors {
            let status = s.store_status();
            eprintln!(
                "survivor {}: leader={} store={status:?}",
                s.id(),
                s.is_leader()
            );
        }
    }
    let since = |t: Instant| (t - t0).as_secs_f64() * 1000.0;
    let trial = Failover {
        write_ms: since(answered?),
        elected_ms: since(elected?),
        shutdown_ms,
    };
    shutdown_all(survivors).await;
    Ok(trial)
}

/// A child process running one node; its stdout lines; killed when dropped.
struct NodeProcess {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl NodeProcess {
    fn spawn(args: &[&str]) -> Result<NodeProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        Ok(NodeProcess {
            child,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The next line the child prints that starts with `prefix`.
    async fn line(&mut self, prefix: &str) -> Result<String> {
        loop {
            let line = tokio::time::timeout(STEP_LIMIT, self.lines.next_line())
                .await?
                .map_err(Box::new)?
                .ok_or_else(|| format!("the child exited before printing `{prefix}`"))?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
        }
    }

    /// The child's resident memory now.
    fn memory(&self) -> Result<Memory> {
        let pid = self.child.id().ok_or("the child exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let mib = |key: &str| -> Result<f64> {
            let kib: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))?
                .parse()?;
            Ok(kib / 1024.0)
        };
        Ok(Memory {
            rss_mib: mib("VmRSS:")?,
            anon_mib: mib("RssAnon:")?,
            file_mib: mib("RssFile:")?,
        })
    }

    async fn kill(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// A process's resident memory (`/proc/<pid>/status`).
struct Memory {
    /// `VmRSS`: all of it.
    rss_mib: f64,
    /// `RssAnon`: heap and stacks.
    anon_mib: f64,
    /// `RssFile`: mapped files, mostly the program's own code.
    file_mib: f64,
}

/// The value of `key=` in a line of `key=value` words.
fn field<'a>(line: &'a str, key: &str) -> Result<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .ok_or_else(|| format!("no {key} in `{line}`").into())
}

/// One trial: the idle resident memory of a manager and of a worker, each in its own process.
async fn rss_trial(runtime: &str) -> Result<(Memory, Memory)> {
    let root = tempfile::tempdir()?;
    let dir = |name: &str| root.path().join(name).to_string_lossy().into_owned();
    let (mdir, wdir) = (dir("m1"), dir("w1"));
    let election = ELECTION_TIMEOUT
        .get()
        .map(|(min, max)| format!("{}-{}", min.as_millis(), max.as_millis()));
    let mut common = vec!["--runtime", runtime];
    if let Some(range) = &election {
        common.extend(["--election-timeout-ms", range]);
    }
    let mut manager = NodeProcess::spawn(
        &[
            &["--node-process", "manager", "--dir", &mdir, "--expect", "2"],
            &common[..],
        ]
        .concat(),
    )?;
    let ready = manager.line("ready ").await?;
    let (addr, token) = (field(&ready, "addr")?, field(&ready, "worker_token")?);
    let mut worker = NodeProcess::spawn(
        &[
            &[
                "--node-process",
                "worker",
                "--dir",
                &wdir,
                "--join",
                addr,
                "--token",
                token,
            ],
            &common[..],
        ]
        .concat(),
    )?;
    worker.line("joined ").await?;
    manager.line("settled ").await?;
    tokio::time::sleep(IDLE).await;
    let rss = (manager.memory()?, worker.memory()?);
    worker.kill().await?;
    manager.kill().await?;
    Ok(rss)
}

/// The arguments after `--name`.
fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).map(String::as_str)
}

/// A child: one node, alone in this process, until its stdin closes.
async fn node_process(args: &[String]) -> Result<()> {
    let role = arg(args, "--node-process").ok_or("--node-process manager|worker")?;
    let dir = arg(args, "--dir").ok_or("--dir")?;
    let config = config(Path::new(dir), role);
    let node = if role == "manager" {
        let node = Node::init(config, ClusterSpec::default()).await?;
        let control = node.control()?;
        let token = control.join_token(NodeRole::Worker).await?;
        println!(
            "ready addr={} worker_token={}",
            node.advertise_addr(),
            *token
        );
        let expect: usize = arg(args, "--expect").unwrap_or("1").parse()?;
        let deadline = Instant::now() + STEP_LIMIT;
        loop {
            let nodes = control.nodes(&NodeFilter::default()).await?;
            let ready = nodes.iter().filter(|n| n.status.state == NodeState::Ready);
            if ready.count() == expect {
                break;
            }
            if Instant::now() > deadline {
                return Err("the cluster did not settle".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("settled nodes={expect}");
        node
    } else {
        let addr = arg(args, "--join").ok_or("--join ADDR")?;
        let token = arg(args, "--token").ok_or("--token T")?;
        let node = Node::join(config, addr, token).await?;
        println!("joined id={}", node.id());
        node
    };
    // Idle until the parent closes stdin (or dies).
    tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
        .await??;
    node.shutdown().await;
    Ok(())
}

fn runtime(flavor: &str) -> Result<tokio::runtime::Runtime> {
    let mut builder = match flavor {
        "current-thread" => tokio::runtime::Builder::new_current_thread(),
        "multi-thread-2" => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
        other => return Err(format!("unknown runtime {other}").into()),
    };
    Ok(builder.enable_all().build()?)
}

/// Runs every figure, or only the one whose name starts with `only`.
async fn bench(trials: usize, only: Option<&str>, setup: services::Setup) -> Result<()> {
    let wanted = |name: &str| only.is_none_or(|o| name.starts_with(o));
    if wanted("worker_down") {
        worker_down(trials).await?;
    }
    if wanted("leader_failover") {
        leader_failover(trials).await?;
    }
    if wanted("manager_rss") || wanted("agent_rss") {
        idle_rss(trials).await?;
    }
    if wanted("false_downs") {
        false_downs_under_load(trials.min(3)).await?;
    }
    if wanted(&services::create_name(setup)) {
        services::create(trials, setup).await?;
    }
    if wanted("worker_death_tasks_elsewhere_ms") {
        services::worker_death(trials, setup).await?;
    }
    if wanted("drain_10_tasks_ms") {
        services::drain(trials, setup).await?;
    }
    if wanted("rolling_update") {
        rolling_update(trials).await?;
    }
    Ok(())
}

/// One trial of `rolling_update_20`: milliseconds from the update call until every one of the
/// 20 slots runs a task of the new spec (and no task of the old one runs).
async fn rolling_update_trial() -> Result<f64> {
    let root = tempfile::tempdir()?;
    let (managers, workers) = cluster_with(root.path(), 1, 2, process_config).await?;
    let control = managers[0].control()?;
    let mut spec = ServiceSpec::new("web", "bench/web:1");
    spec.mode = ServiceMode::Replicated {
        replicas: ROLLING_REPLICAS,
    };
    spec.task_template.container.command =
        vec!["/bin/sh".into(), "-c".into(), "exec sleep 600".into()];
    spec.update_config = Some(UpdateConfig {
        parallelism: ROLLING_PARALLELISM,
        delay: Duration::ZERO,
        ..UpdateConfig::default()
    });
    control.create_service(&spec).await?;
    let running_image = |image: &'static str| {
        let control = control.clone();
        async move {
            let filter = TaskFilter {
                services: vec!["web".into()],
                ..TaskFilter::default()
            };
            let tasks = control.tasks(&filter).await.ok()?;
            let running = |t: &&Task| t.status.state == TaskState::Running;
            let new = tasks
                .iter()
                .filter(running)
                .filter(|t| t.desired_state == TaskState::Running)
                .filter(|t| t.spec.container.image == image)
                .count();
            let old = tasks
                .iter()
                .filter(running)
                .filter(|t| t.spec.container.image != image)
                .count();
            (new as u64 == ROLLING_REPLICAS && old == 0).then_some(())
        }
    };
    poll("20 tasks running", || running_image("bench/web:1")).await?;
    let read = control.service("web").await?;
    let mut next = read.spec.clone();
    next.task_template.container.image = "bench/web:2".into();
    let start = Instant::now();
    control
        .update_service("web", read.meta.version, &next)
        .await?;
    poll("every slot on the new spec", || {
        running_image("bench/web:2")
    })
    .await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    control.remove_service("web").await?;
    shutdown_all(workers.into_iter().chain(managers)).await;
    Ok(ms)
}

async fn rolling_update(trials: usize) -> Result<()> {
    let load = load1();
    let mut times = Vec::new();
    for _ in 0..trials {
        times.push(rolling_update_trial().await?);
    }
    let median = median(&mut times);
    let (min, max) = (
        times.first().copied().unwrap_or(0.0),
        times.last().copied().unwrap_or(0.0),
    );
    println!(
        "rolling_update_20 parallelism={ROLLING_PARALLELISM} delay_ms=0 ms={median:.0} min={min:.0} max={max:.0} trials={} nodes=1m+2w runtime=process in_process=multi-thread-2 poll_ms=10 {} load1_at_start={load}",
        times.len(),
        settings(),
    );
    Ok(())
}

/// Live nodes marked down while spinning threads compete for the CPU.
async fn false_downs_under_load(trials: usize) -> Result<()> {
    let load = load1();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let hogs = cores * CPU_HOGS_PER_CORE;
    let mut total = 0usize;
    for _ in 0..trials {
        let root = tempfile::tempdir()?;
        let (managers, workers) = cluster(root.path(), 1, 3).await?;
        let mut events = managers[0].events();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinners: Vec<_> = (0..hogs)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        tokio::time::sleep(LOAD_PERIOD).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for spinner in spinners {
            let _ = spinner.join();
        }
        while let Ok(event) = events.try_recv() {
            if let swarm_core::node::ClusterEvent::NodeStateChanged {
                to: NodeState::Down,
                node,
                ..
            } = event
            {
                eprintln!("a live node was marked down under load: {node}");
                total += 1;
            }
        }
        shutdown_all(workers.into_iter().chain(managers)).await;
    }
    println!(
        "false_downs_under_load count={total} trials={trials} seconds_per_trial={} cpu_hogs={hogs} nodes=1m+3w in_process=multi-thread-2 {} load1_at_start={load}",
        LOAD_PERIOD.as_secs(),
        settings(),
    );
    Ok(())
}

async fn worker_down(trials: usize) -> Result<()> {
    let load = load1();
    let mut down = Vec::new();
    for _ in 0..trials {
        down.push(worker_down_trial().await?);
    }
    report(
        "worker_down_detect_ms",
        down,
        "nodes=1m+2w in_process=multi-thread-2 poll_ms=10",
        &load,
    );

    Ok(())
}

async fn leader_failover(trials: usize) -> Result<()> {
    let load = load1();
    let mut trials_done = Vec::new();
    for _ in 0..trials {
        trials_done.push(failover_trial().await?);
    }
    let mut elected: Vec<f64> = trials_done.iter().map(|t| t.elected_ms).collect();
    let shutdown_max = trials_done
        .iter()
        .map(|t| t.shutdown_ms)
        .fold(0.0, f64::max);
    report(
        "leader_failover_ms",
        trials_done.iter().map(|t| t.write_ms).collect(),
        &format!(
            "managers=3 in_process=multi-thread-2 write=node_label poll_ms=10 elected_ms_median={:.0} leader_shutdown_ms_max={shutdown_max:.1}",
            median(&mut elected)
        ),
        &load,
    );

    Ok(())
}

async fn idle_rss(trials: usize) -> Result<()> {
    for flavor in ["current-thread", "multi-thread-2"] {
        let load = load1();
        let (mut managers, mut agents) = (Vec::new(), Vec::new());
        for _ in 0..trials {
            let (m, a) = rss_trial(flavor).await?;
            managers.push(m);
            agents.push(a);
        }
        for (name, samples) in [
            ("manager_rss_idle_mib", managers),
            ("agent_rss_idle_mib", agents),
        ] {
            let mut anon: Vec<f64> = samples.iter().map(|m| m.anon_mib).collect();
            let mut file: Vec<f64> = samples.iter().map(|m| m.file_mib).collect();
            let extra = format!(
                "runtime={flavor} nodes=1m+1w idle_s={} anon_mib_median={:.1} file_mib_median={:.1}",
                IDLE.as_secs(),
                median(&mut anon),
                median(&mut file),
            );
            let rss = samples.iter().map(|m| m.rss_mib).collect();
            report(name, rss, &extra, &load);
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    // Logs on stderr only when asked for (`RUST_LOG=warn`, say): the figures run without them.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().collect();
    set_election_timeout(&args)?;
    if args.iter().any(|a| a == "--node-process") {
        let flavor = arg(&args, "--runtime").unwrap_or("current-thread");
        return runtime(flavor)?.block_on(node_process(&args));
    }
    let trials = arg(&args, "--trials").map_or(Ok(DEFAULT_TRIALS), str::parse)?;
    let only = arg(&args, "--only");
    let heartbeat_ms: Option<u64> = arg(&args, "--heartbeat-ms").map(str::parse).transpose()?;
    let setup = services::Setup {
        managers: arg(&args, "--managers").map_or(Ok(services::DEFAULT_MANAGERS), str::parse)?,
        workers: arg(&args, "--workers").map_or(Ok(services::DEFAULT_WORKERS), str::parse)?,
        replicas: arg(&args, "--replicas").map_or(Ok(services::DEFAULT_REPLICAS), str::parse)?,
        heartbeat_period: heartbeat_ms.map(Duration::from_millis),
    };
    runtime("multi-thread-2")?.block_on(bench(trials, only, setup))
}
