//! The services figures: how fast a large service is placed and started, and how fast tasks
//! move off a dead or drained worker.
//!
//! Every node runs in this process on the in-process network (`NodeNetwork::InProc`), with
//! disk storage in a temporary directory and the mock runtime, whose every image runs until
//! stopped. The managers join drained, so tasks go to the workers only. Progress is read
//! from the leader's view of the orchestration state (`Node::testkit_read_state`, in place,
//! under its read lock), which holds only committed writes.
//!
//! - `create_<replicas>_on_<workers>_workers` (`create_100k_on_1k_workers` at the default
//!   setup): 3 managers and `--workers` workers (1,000); one replicated service of
//!   `--replicas` (100,000) created with `Control::create_service`. `assigned_ms`: from the
//!   call until every task is assigned (state >= `Assigned`); `running_ms`: until every one
//!   reports `Running`; `created_ms`: until the orchestrator's tasks all exist (any state).
//!   Progress read every [`CREATE_POLL`]. At most 3 trials (each builds a new cluster).
//! - `worker_death_tasks_elsewhere_ms`: 3 managers and 5 workers, a service of 10 replicas
//!   (2 per worker); the worker with the most of them is shut down; time until all 10 run on
//!   the other workers (detection by missed heartbeats included).
//! - `drain_10_tasks_ms`: 3 managers and 3 workers, a service of 30 replicas (10 per
//!   worker); one worker is drained (`Control::set_availability`); time until all 30 run on
//!   the other two.

use super::{Result, load1, median, report, settings_of};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::manager::cluster_state::ClusterState;
use swarm_core::model::{
    ClusterSpec, NodeAvailability, NodeId, NodeRole, NodeState, ServiceId, ServiceMode,
    ServiceSpec, TaskState,
};
use swarm_core::node::{Control, InProcNodes, Node, NodeConfig, NodeNetwork};
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;
use tokio::time::Instant;

/// Workers of the large create unless `--workers N`.
pub(crate) const DEFAULT_WORKERS: usize = 1_000;
/// Replicas of the large create unless `--replicas M`.
pub(crate) const DEFAULT_REPLICAS: u64 = 100_000;
/// Managers of every services figure unless `--managers K`.
pub(crate) const DEFAULT_MANAGERS: usize = 3;
/// Trials of the large create at most (each builds a cluster of `--workers` nodes).
const MAX_CREATE_TRIALS: usize = 3;
/// Poll period of the large create: one pass over 100,000 tasks under the view's read lock
/// takes a few milliseconds (measured: about 4 % of the process's CPU at 50 ms), so this
/// keeps the reading to a few percent of one core.
const CREATE_POLL: Duration = Duration::from_millis(100);
/// Poll period of the small figures.
const POLL: Duration = Duration::from_millis(10);
/// The longest the large create may take to run everything.
const CREATE_LIMIT: Duration = Duration::from_secs(3_600);
/// The longest the cluster's formation or a small figure may take.
const STEP_LIMIT: Duration = Duration::from_secs(600);
/// How often the large create reports its progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// Workers joining at once while a cluster forms.
const JOINS_IN_FLIGHT: usize = 16;
/// The service's name in every figure.
const SERVICE: &str = "bench";

/// The setup of the services figures (`--managers`, `--workers`, `--replicas`,
/// `--heartbeat-ms`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    /// Managers of every figure.
    pub(crate) managers: usize,
    /// Workers of the large create.
    pub(crate) workers: usize,
    /// Replicas of the large create.
    pub(crate) replicas: u64,
    /// The agents' heartbeat period in the large create, instead of the cluster default.
    pub(crate) heartbeat_period: Option<Duration>,
}

/// `100000` → `100k`, `1000` → `1k`, `1500` → `1500`.
fn short(n: u64) -> String {
    if n >= 1_000 && n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// The large create's figure name at `setup`.
pub(crate) fn create_name(setup: Setup) -> String {
    format!(
        "create_{}_on_{}_workers",
        short(setup.replicas),
        short(setup.workers as u64)
    )
}

fn node_config(root: &Path, name: &str, nodes: &InProcNodes, manager: bool) -> NodeConfig {
    let runtime = MockRuntime::new().with_default_script(MockScript::new().run_until_stopped());
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut c = NodeConfig::new(root.join(name), listen, Arc::new(runtime));
    c.hostname = Some(name.to_owned());
    c.network = NodeNetwork::InProc(nodes.clone());
    c.advertise_addr = Some(format!("{name}:2377"));
    c.rng_seed = Some(name.bytes().map(u64::from).sum());
    if manager {
        c.availability = NodeAvailability::Drain;
    }
    c
}

/// Calls `check` every `period` until it gives `Some`, for at most `limit`.
async fn poll_until<T>(
    what: &str,
    period: Duration,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {limit:?} waiting for {what}").into());
        }
        tokio::time::sleep(period).await;
    }
}

/// Managers and workers on one in-process network, all ready.
struct InProcCluster {
    managers: Vec<Node>,
    workers: Vec<Node>,
    /// Removed after the nodes are shut down.
    root: tempfile::TempDir,
}

impl InProcCluster {
    async fn start(
        managers: usize,
        workers: usize,
        spec: ClusterSpec,
        seed: u64,
    ) -> Result<InProcCluster> {
        let root = tempfile::tempdir()?;
        let net = InProcNodes::new(InProcNetwork::new(seed));
        let m1 = Node::init(node_config(root.path(), "m1", &net, true), spec).await?;
        let control = m1.control()?;
        let manager_token = control.join_token(NodeRole::Manager).await?;
        let worker_token = control.join_token(NodeRole::Worker).await?.to_string();
        let mut cluster = InProcCluster {
            managers: vec![m1],
            workers: Vec::new(),
            root,
        };
        for i in 2..=managers {
            let config = node_config(cluster.root.path(), &format!("m{i}"), &net, true);
            cluster
                .managers
                .push(Node::join(config, "m1:2377", &manager_token).await?);
            let first = &cluster.managers[0];
            poll_until("the new manager to vote", POLL, STEP_LIMIT, || {
                let s = first.store_status()?;
                (s.voters().len() == i && s.is_settled()).then_some(())
            })
            .await?;
        }
        let mut joins = tokio::task::JoinSet::new();
        for i in 1..=workers {
            if joins.len() >= JOINS_IN_FLIGHT
                && let Some(joined) = joins.join_next().await
            {
                cluster.workers.push(joined??);
            }
            let config = node_config(cluster.root.path(), &format!("w{i}"), &net, false);
            let token = worker_token.clone();
            joins.spawn(async move { Node::join(config, "m1:2377", &token).await });
        }
        while let Some(joined) = joins.join_next().await {
            cluster.workers.push(joined??);
        }
        let total = managers + workers;
        poll_until("every node ready", POLL, STEP_LIMIT, || {
            cluster
                .read(|s| {
                    let ready = s.nodes().values();
                    ready.filter(|n| n.status.state == NodeState::Ready).count() == total
                })?
                .then_some(())
        })
        .await?;
        Ok(cluster)
    }

    /// The manager that leads now.
    fn leader(&self) -> Option<&Node> {
        self.managers.iter().find(|m| m.is_leader())
    }

    /// `read` on the leader's view of the state; `None` while no manager leads.
    fn read<R>(&self, read: impl FnOnce(&ClusterState) -> R) -> Option<R> {
        self.leader()?.testkit_read_state(read)
    }

    async fn control(&self) -> Result<Control> {
        let leader = poll_until("a leader", POLL, STEP_LIMIT, || self.leader()).await?;
        Ok(leader.control()?)
    }

    /// Creates the service and waits until its `replicas` tasks all run.
    async fn run_service(&self, replicas: u64) -> Result<ServiceId> {
        let control = self.control().await?;
        let id = control.create_service(&service(replicas)).await?;
        poll_until("the service to run", POLL, STEP_LIMIT, || {
            let progress = self.read(|s| Progress::of(s, &id, replicas, None))?;
            (progress.running == replicas).then_some(())
        })
        .await?;
        Ok(id)
    }

    async fn shutdown(self) {
        for node in self.workers.into_iter().chain(self.managers) {
            node.shutdown().await;
        }
    }
}

fn service(replicas: u64) -> ServiceSpec {
    let mut spec = ServiceSpec::new(SERVICE, "mock/bench");
    spec.mode = ServiceMode::Replicated { replicas };
    spec
}

/// A service's replica slots, by how far their task meant to run got. Counted by slot, not
/// by task: a slot holding two tasks meant to run (a replacement committed while the shut
/// down of the task it replaces was refused) counts once, and the second is `extra`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Progress {
    /// Slots with a task desired running.
    created: u64,
    /// Of those, slots with such a task assigned to a node (state >= `Assigned`).
    assigned: u64,
    /// Of those, slots with such a task reported `Running`.
    running: u64,
    /// Tasks desired running beyond one per slot.
    extra: u64,
}

impl Progress {
    /// Counts the slots 1..=`replicas` of `service` whose task desired running is not on
    /// `except`.
    fn of(
        state: &ClusterState,
        service: &ServiceId,
        replicas: u64,
        except: Option<&NodeId>,
    ) -> Progress {
        const CREATED: u8 = 1;
        const ASSIGNED: u8 = 2;
        const RUNNING: u8 = 4;
        let mut slots = vec![0u8; usize::try_from(replicas).unwrap_or(0) + 1];
        let mut tasks = 0u64;
        // One pass over every task is cheaper than the per-service index's lookups.
        for t in state.tasks().values() {
            if &t.service_id != service
                || t.desired_state != TaskState::Running
                || (except.is_some() && t.node_id.as_ref() == except)
            {
                continue;
            }
            tasks += 1;
            let Some(flags) = t
                .slot
                .and_then(|s| usize::try_from(s).ok())
                .and_then(|s| slots.get_mut(s))
            else {
                continue;
            };
            *flags |= CREATED;
            if t.status.state >= TaskState::Assigned {
                *flags |= ASSIGNED;
            }
            if t.status.state == TaskState::Running {
                *flags |= RUNNING;
            }
        }
        let count = |flag: u8| slots.iter().filter(|f| *f & flag != 0).count() as u64;
        let created = count(CREATED);
        Progress {
            created,
            assigned: count(ASSIGNED),
            running: count(RUNNING),
            extra: tasks.saturating_sub(created),
        }
    }
}

/// What the progress lines say besides the counts: what can slow or spoil a large create.
#[derive(Default)]
struct Health {
    /// Nodes whose record does not say `Ready` (live workers marked down when the process
    /// is short of CPU).
    not_ready: usize,
    /// The leader's name.
    leader: String,
    /// The first few slots holding more than one task desired running.
    shared_slots: Vec<String>,
}

impl Health {
    fn of(state: &ClusterState, service: &ServiceId) -> Health {
        let not_ready = state.nodes().values();
        let not_ready = not_ready.filter(|n| n.status.state != NodeState::Ready);
        let mut by_slot: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
        for t in state.tasks_of_service(service) {
            if t.desired_state == TaskState::Running {
                let node = t.node_id.as_ref().map_or("-", |n| n.as_str());
                let what = format!("{}@{node}:{:?}", t.id, t.status.state);
                by_slot.entry(t.slot.unwrap_or(0)).or_default().push(what);
            }
        }
        let shared = by_slot.into_iter().filter(|(_, tasks)| tasks.len() > 1);
        Health {
            not_ready: not_ready.count(),
            leader: String::new(),
            shared_slots: shared
                .take(2)
                .map(|(slot, tasks)| format!("slot{slot}={}", tasks.join("+")))
                .collect(),
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not_ready_nodes={} leader={} {}",
            self.not_ready,
            self.leader,
            self.shared_slots.join(" ")
        )
    }
}

/// What one large create measured, in milliseconds from the create call.
struct CreateTrial {
    created_ms: f64,
    assigned_ms: f64,
    running_ms: f64,
    call_ms: f64,
    setup_s: f64,
    /// Tasks desired running beyond one per slot, at the end (0 unless something went wrong).
    extra_tasks: f64,
    /// Nodes not `Ready` at the end (0 unless live workers were marked down).
    not_ready_nodes: f64,
}

async fn create_trial(setup: Setup, seed: u64) -> Result<CreateTrial> {
    let started = Instant::now();
    let cluster =
        InProcCluster::start(setup.managers, setup.workers, create_spec(setup), seed).await?;
    let setup_s = started.elapsed().as_secs_f64();
    eprintln!(
        "cluster of {}m+{}w ready in {setup_s:.1} s",
        setup.managers, setup.workers
    );
    let control = cluster.control().await?;
    let cpu_at_start = process_cpu_s();
    let t0 = Instant::now();
    let id = control.create_service(&service(setup.replicas)).await?;
    let call_ms = ms_since(t0);
    let (mut created_ms, mut assigned_ms) = (None, None);
    let mut last_report = Instant::now();
    let deadline = t0 + CREATE_LIMIT;
    let running_ms = loop {
        let progress = cluster.read(|s| Progress::of(s, &id, setup.replicas, None));
        if let Some(p) = progress {
            let now = ms_since(t0);
            if p.created == setup.replicas {
                created_ms.get_or_insert(now);
            }
            if p.assigned == setup.replicas {
                assigned_ms.get_or_insert(now);
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                let mut health = cluster.read(|s| Health::of(s, &id)).unwrap_or_default();
                let leader = cluster.managers.iter().position(Node::is_leader);
                health.leader = leader.map_or("none".into(), |i| format!("m{}", i + 1));
                eprintln!(
                    "{:.0} s: created={} assigned={} running={} extra={} {health} load1={}",
                    now / 1000.0,
                    p.created,
                    p.assigned,
                    p.running,
                    p.extra,
                    load1()
                );
                last_report = Instant::now();
            }
            if p.running == setup.replicas {
                break now;
            }
        }
        if Instant::now() > deadline {
            return Err(format!("the create did not run everything in {CREATE_LIMIT:?}").into());
        }
        tokio::time::sleep(CREATE_POLL).await;
    };
    let cpu_s = process_cpu_s()
        .zip(cpu_at_start)
        .map(|(end, start)| end - start);
    eprintln!(
        "created_ms={:.0} assigned_ms={:.0} running_ms={running_ms:.0} process_cpu_s={} load1={}",
        created_ms.unwrap_or(running_ms),
        assigned_ms.unwrap_or(running_ms),
        cpu_s.map_or("?".into(), |s| format!("{s:.1}")),
        load1()
    );
    // What each task write carries: the stored document of one task (JSON, as the store
    // keeps it), running and assigned.
    let task_doc_bytes = cluster
        .read(|s| {
            let task = s.tasks().values().next()?;
            serde_json::to_vec(task).ok().map(|doc| doc.len())
        })
        .flatten();
    eprintln!(
        "task_doc_bytes={}",
        task_doc_bytes.map_or("?".into(), |n| n.to_string())
    );
    let extra = cluster.read(|s| Progress::of(s, &id, setup.replicas, None).extra);
    let health = cluster.read(|s| Health::of(s, &id)).unwrap_or_default();
    cluster.shutdown().await;
    Ok(CreateTrial {
        created_ms: created_ms.unwrap_or(running_ms),
        assigned_ms: assigned_ms.unwrap_or(running_ms),
        running_ms,
        call_ms,
        setup_s,
        extra_tasks: extra.unwrap_or(0) as f64,
        not_ready_nodes: health.not_ready as f64,
    })
}

/// The cluster spec of the large create: the default, with `--heartbeat-ms` if given.
fn create_spec(setup: Setup) -> ClusterSpec {
    let mut spec = ClusterSpec::default();
    if let Some(period) = setup.heartbeat_period {
        spec.dispatcher.heartbeat_period = period;
    }
    spec
}

/// User and system CPU seconds this process used so far (`/proc/self/stat`, at the usual
/// 100 ticks per second), to compare the work of runs on a machine whose load varies.
fn process_cpu_s() -> Option<f64> {
    /// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
    const TICKS_PER_S: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which ends at the last ')': state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / TICKS_PER_S)
}

fn ms_since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// The large create: `assigned_ms` and `running_ms` medians on one line.
pub(crate) async fn create(trials: usize, setup: Setup) -> Result<()> {
    let load = load1();
    let trials = trials.clamp(1, MAX_CREATE_TRIALS);
    let mut done = Vec::new();
    for trial in 0..trials {
        done.push(create_trial(setup, 100 + trial as u64).await?);
    }
    let of = |f: fn(&CreateTrial) -> f64| -> f64 {
        let mut values: Vec<f64> = done.iter().map(f).collect();
        median(&mut values)
    };
    let (assigned, running) = (of(|t| t.assigned_ms), of(|t| t.running_ms));
    let (created, call, setup_s) = (of(|t| t.created_ms), of(|t| t.call_ms), of(|t| t.setup_s));
    let min_max = |f: fn(&CreateTrial) -> f64| {
        let values = done.iter().map(f);
        let min = values.clone().fold(f64::INFINITY, f64::min);
        let max = values.fold(0.0, f64::max);
        format!("{min:.0}-{max:.0}")
    };
    let worst = |f: fn(&CreateTrial) -> f64| done.iter().map(f).fold(0.0, f64::max);
    let figures = format!(
        "assigned_ms={assigned:.0} running_ms={running:.0} trials={trials} assigned_ms_range={} running_ms_range={} created_ms={created:.0} create_call_ms={call:.0}",
        min_max(|t| t.assigned_ms),
        min_max(|t| t.running_ms),
    );
    let anomalies = format!(
        "extra_tasks_max={:.0} not_ready_nodes_max={:.0}",
        worst(|t| t.extra_tasks),
        worst(|t| t.not_ready_nodes),
    );
    let setting = format!(
        "managers={} workers={} replicas={} setup_s={setup_s:.0} in_process=inproc poll_ms={} storage=disk",
        setup.managers,
        setup.workers,
        setup.replicas,
        CREATE_POLL.as_millis(),
    );
    println!(
        "{} {figures} {anomalies} {setting} {} load1_at_start={load}",
        create_name(setup),
        settings_of(&create_spec(setup)),
    );
    Ok(())
}

/// One trial: milliseconds from a worker's shutdown until its tasks run elsewhere.
async fn worker_death_trial(managers: usize, seed: u64) -> Result<f64> {
    const WORKERS: usize = 5;
    const REPLICAS: u64 = 10;
    let mut cluster = InProcCluster::start(managers, WORKERS, ClusterSpec::default(), seed).await?;
    let id = cluster.run_service(REPLICAS).await?;
    let victim = cluster
        .read(|s| busiest_worker(s, &id))
        .flatten()
        .ok_or("no worker runs a task")?;
    let index = cluster
        .workers
        .iter()
        .position(|w| w.id() == &victim)
        .ok_or("the busiest node is not a worker")?;
    let dead = cluster.workers.remove(index);
    let t0 = Instant::now();
    dead.shutdown().await;
    poll_until(
        "the dead worker's tasks elsewhere",
        POLL,
        STEP_LIMIT,
        || {
            let p = cluster.read(|s| Progress::of(s, &id, REPLICAS, Some(&victim)))?;
            (p.running == REPLICAS).then_some(())
        },
    )
    .await?;
    let ms = ms_since(t0);
    cluster.shutdown().await;
    Ok(ms)
}

/// The worker running the most tasks of `service`.
fn busiest_worker(state: &ClusterState, service: &ServiceId) -> Option<NodeId> {
    let mut count: std::collections::BTreeMap<&NodeId, usize> = Default::default();
    for t in state.tasks_of_service(service) {
        if let (Some(node), TaskState::Running) = (&t.node_id, t.status.state) {
            *count.entry(node).or_default() += 1;
        }
    }
    let busiest = count.into_iter().max_by_key(|(_, n)| *n)?;
    Some(busiest.0.clone())
}

pub(crate) async fn worker_death(trials: usize, setup: Setup) -> Result<()> {
    let load = load1();
    let mut values = Vec::new();
    for trial in 0..trials {
        values.push(worker_death_trial(setup.managers, 200 + trial as u64).await?);
    }
    report(
        "worker_death_tasks_elsewhere_ms",
        values,
        &format!(
            "nodes={}m+5w replicas=10 in_process=inproc poll_ms={}",
            setup.managers,
            POLL.as_millis()
        ),
        &load,
    );
    Ok(())
}

/// One trial: milliseconds from a drain call until the drained worker's 10 tasks run
/// elsewhere.
async fn drain_trial(managers: usize, seed: u64) -> Result<f64> {
    const WORKERS: usize = 3;
    const REPLICAS: u64 = 30;
    let cluster = InProcCluster::start(managers, WORKERS, ClusterSpec::default(), seed).await?;
    let id = cluster.run_service(REPLICAS).await?;
    let drained = cluster
        .read(|s| busiest_worker(s, &id).filter(|n| s.tasks_on_node(n).count() == 10))
        .flatten()
        .ok_or("no worker runs exactly 10 tasks")?;
    let control = cluster.control().await?;
    let t0 = Instant::now();
    control
        .set_availability(drained.as_str(), NodeAvailability::Drain)
        .await?;
    poll_until("the drained tasks elsewhere", POLL, STEP_LIMIT, || {
        let p = cluster.read(|s| Progress::of(s, &id, REPLICAS, Some(&drained)))?;
        (p.running == REPLICAS).then_some(())
    })
    .await?;
    let ms = ms_since(t0);
    cluster.shutdown().await;
    Ok(ms)
}

pub(crate) async fn drain(trials: usize, setup: Setup) -> Result<()> {
    let load = load1();
    let mut values = Vec::new();
    for trial in 0..trials {
        values.push(drain_trial(setup.managers, 300 + trial as u64).await?);
    }
    report(
        "drain_10_tasks_ms",
        values,
        &format!(
            "nodes={}m+3w replicas=30 in_process=inproc poll_ms={}",
            setup.managers,
            POLL.as_millis()
        ),
        &load,
    );
    Ok(())
}
