//! The placement scenarios S1–S4 and S7, exactly as defined in the project's
//! `benches/scenarios/README.md`; shared by the criterion bench and the `sched_scenarios` example.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use swarm_sched::{
    Constraint, Delta, Engine, GroupOutcome, NodeSpec, Platform, SpreadPreference, TaskGroup,
    TaskSpec,
};

pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    S1,
    S2,
    S3,
    S4,
}

pub const ALL: [Scenario; 4] = [Scenario::S1, Scenario::S2, Scenario::S3, Scenario::S4];

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::S1 => "S1",
            Scenario::S2 => "S2",
            Scenario::S3 => "S3",
            Scenario::S4 => "S4",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|sc| sc.name().eq_ignore_ascii_case(s))
    }

    pub fn node_count(self) -> usize {
        match self {
            Scenario::S1 => 1_000,
            Scenario::S2 | Scenario::S3 => 10_000,
            Scenario::S4 => 5_000,
        }
    }

    pub fn task_count(self) -> usize {
        match self {
            Scenario::S1 => 10_000,
            Scenario::S2 | Scenario::S3 => 100_000,
            Scenario::S4 => 50_000,
        }
    }

    /// Common node template (plus the S3 labels).
    pub fn nodes(self) -> Vec<NodeSpec> {
        (0..self.node_count())
            .map(|i| {
                let name = format!("node{i:06}");
                let mut n = NodeSpec::new(name.as_str(), name.as_str())
                    .with_capacity(8.0, 32 * GIB)
                    .with_platform(Platform::new("linux", "x86_64"));
                if self == Scenario::S3 {
                    let zone = &"abcdefghij"[i % 10..i % 10 + 1];
                    let ssd = if (i / 10) % 5 == 0 { "true" } else { "false" };
                    n = n.with_label("zone", zone).with_label("ssd", ssd);
                }
                n
            })
            .collect()
    }

    /// The pending task groups (one per service).
    pub fn groups(self) -> Vec<TaskGroup> {
        let (services, per_service) = match self {
            Scenario::S1 => (1, 10_000),
            Scenario::S2 | Scenario::S3 => (1, 100_000),
            Scenario::S4 => (1_000, 50),
        };
        (0..services)
            .map(|k| {
                let spec = match self {
                    Scenario::S1 | Scenario::S2 => {
                        TaskSpec::default().with_reservation(0.1, 128 * MIB)
                    }
                    Scenario::S3 => TaskSpec::default()
                        .with_reservation(0.1, 128 * MIB)
                        .with_constraint(
                            Constraint::parse("node.labels.ssd==true").expect("valid constraint"),
                        )
                        .with_preference(
                            SpreadPreference::parse("node.labels.zone").expect("valid preference"),
                        ),
                    Scenario::S4 => {
                        let cpu = [0.1, 0.25, 0.5, 1.0][k % 4];
                        let mem = [128 * MIB, 256 * MIB, 512 * MIB, GIB][(k / 4) % 4];
                        TaskSpec::default().with_reservation(cpu, mem)
                    }
                };
                TaskGroup {
                    service: format!("svc{k:05}").into(),
                    spec_version: 1,
                    spec: Arc::new(spec),
                    tasks: (0..per_service)
                        .map(|r| format!("task{k:05}.{r:05}").into())
                        .collect(),
                }
            })
            .collect()
    }

    /// Nodes the tasks may go to (for the spread figures).
    pub fn eligible(self, n: &NodeSpec) -> bool {
        self != Scenario::S3 || n.labels.get("ssd").is_some_and(|v| v == "true")
    }
}

pub fn engine_with(nodes: Vec<NodeSpec>) -> Engine {
    let mut e = Engine::default();
    e.apply_all(nodes.into_iter().map(Delta::NodeAdded))
        .expect("scenario nodes are valid and distinct");
    e
}

pub fn place(engine: &mut Engine, groups: Vec<TaskGroup>) -> Vec<GroupOutcome> {
    engine
        .schedule_all(groups)
        .expect("scenario groups are within limits")
}

#[derive(Debug, Default)]
pub struct Quality {
    pub placed: usize,
    pub unplaced: usize,
    pub min_per_node: u32,
    pub max_per_node: u32,
    pub min_per_zone: u64,
    pub max_per_zone: u64,
}

/// Spread figures over the eligible nodes (all nodes but S3's non-ssd ones).
pub fn quality(sc: Scenario, engine: &Engine, outcomes: &[GroupOutcome]) -> Quality {
    let svc = swarm_sched::ServiceId::new("svc00000");
    let mut q = Quality {
        min_per_node: u32::MAX,
        ..Quality::default()
    };
    q.placed = outcomes.iter().map(|o| o.assignments.len()).sum();
    q.unplaced = outcomes.iter().map(|o| o.unplaced.len()).sum();
    let mut zones = std::collections::BTreeMap::<String, u64>::new();
    for id in engine.node_ids() {
        let spec = engine.node(id).expect("listed node exists");
        if !sc.eligible(spec) {
            continue;
        }
        let (total, _) = engine.task_counts(id, &svc).expect("listed node exists");
        q.min_per_node = q.min_per_node.min(total);
        q.max_per_node = q.max_per_node.max(total);
        if let Some(z) = spec.labels.get("zone") {
            *zones.entry(z.clone()).or_insert(0) += u64::from(total);
        }
    }
    q.min_per_zone = zones.values().copied().min().unwrap_or(0);
    q.max_per_zone = zones.values().copied().max().unwrap_or(0);
    q
}

/// S7, steady state (`benches/scenarios/README.md`): 10,000 nodes in 10 zones, 100,000 tasks
/// already placed (1,000 services × 100, spread over the zones), then batches that replace
/// 50 tasks of one service: its 50 oldest tasks finish (not timed), then 50 new tasks of it
/// are placed (timed), with the spread preference over `node.labels.zone`.
pub mod steady {
    use super::{GIB, MIB};
    use std::collections::VecDeque;
    use std::sync::Arc;
    use swarm_sched::{
        Delta, Engine, NodeSpec, Platform, SpreadPreference, TaskGroup, TaskId, TaskSpec,
    };

    pub const NODES: usize = 10_000;
    pub const SERVICES: usize = 1_000;
    pub const TASKS_PER_SERVICE: usize = 100;
    pub const TASKS: usize = SERVICES * TASKS_PER_SERVICE;
    pub const BATCH: usize = 50;
    /// Batches timed per run.
    pub const BATCHES: usize = 2_000;

    pub fn nodes() -> Vec<NodeSpec> {
        (0..NODES)
            .map(|i| {
                let name = format!("node{i:06}");
                NodeSpec::new(name.as_str(), name.as_str())
                    .with_capacity(8.0, 32 * GIB)
                    .with_platform(Platform::new("linux", "x86_64"))
                    .with_label("zone", &"abcdefghij"[i % 10..i % 10 + 1])
            })
            .collect()
    }

    pub fn spec() -> Arc<TaskSpec> {
        Arc::new(
            TaskSpec::default()
                .with_reservation(0.1, 128 * MIB)
                .with_preference(
                    SpreadPreference::parse("node.labels.zone").expect("valid preference"),
                ),
        )
    }

    /// The engine after setup: every node, and the 100,000 tasks placed. Returns it with
    /// each service's live tasks, oldest first, and the next task number.
    pub struct State {
        pub engine: Engine,
        pub live: Vec<VecDeque<TaskId>>,
        pub next: usize,
        pub spec: Arc<TaskSpec>,
    }

    pub fn setup(nodes: Vec<NodeSpec>) -> State {
        let mut engine = super::engine_with(nodes);
        let spec = spec();
        let mut live = Vec::with_capacity(SERVICES);
        for k in 0..SERVICES {
            let tasks: Vec<TaskId> = (0..TASKS_PER_SERVICE)
                .map(|r| format!("task{k:05}.{r:07}").into())
                .collect();
            let out = engine
                .schedule(TaskGroup {
                    service: format!("svc{k:05}").into(),
                    spec_version: 1,
                    spec: spec.clone(),
                    tasks: tasks.clone(),
                })
                .expect("setup groups are within limits");
            assert!(out.unplaced.is_empty(), "setup left tasks unplaced");
            live.push(tasks.into());
        }
        State {
            engine,
            live,
            next: TASKS_PER_SERVICE,
            spec,
        }
    }

    /// The untimed half of batch `b`: the 50 oldest tasks of its service finish. Returns
    /// the group to place (the timed half).
    pub fn prepare(state: &mut State, b: usize) -> TaskGroup {
        let k = b % SERVICES;
        for _ in 0..BATCH {
            if let Some(t) = state.live[k].pop_front() {
                state
                    .engine
                    .apply(Delta::TaskFinished {
                        task: t,
                        failed_at_ms: None,
                    })
                    .expect("finishing a task cannot fail");
            }
        }
        let first = state.next + (b / SERVICES) * BATCH;
        TaskGroup {
            service: format!("svc{k:05}").into(),
            spec_version: 1,
            spec: state.spec.clone(),
            tasks: (first..first + BATCH)
                .map(|r| format!("task{k:05}.{r:07}").into())
                .collect(),
        }
    }

    /// Records the placed tasks of a batch as its service's newest.
    pub fn record(state: &mut State, b: usize, out: &swarm_sched::GroupOutcome) {
        let k = b % SERVICES;
        state.live[k].extend(out.assignments.iter().map(|a| a.task.clone()));
    }
}
