//! Property tests of the placement engine's invariants.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use swarm_sched::Strategy as Rank;
use swarm_sched::{
    Availability, Constraint, Delta, Engine, EngineConfig, GenericResource, GroupOutcome, HostPort,
    NodeId, NodeSpec, PlacedTask, Readiness, Role, ServiceId, SpreadPreference, TaskGroup, TaskId,
    TaskSpec,
};

const MIB: u64 = 1 << 20;

#[derive(Debug, Clone)]
struct NodeIn {
    cpu_halves: u64,
    mem_quarters: u64,
    avail: u8,
    zone: Option<u8>,
    ssd: bool,
    manager: bool,
    gpus: u8,
    fpgas: u8,
    port80_taken: bool,
}

#[derive(Debug, Clone)]
struct GroupIn {
    service: u8,
    tasks: usize,
    cpu_tenths: u64,
    mem_64mib: u64,
    constraint: Option<usize>,
    spread: bool,
    max_per_node: u64,
    port80: bool,
    gpus: u64,
    fpgas: u64,
}

const CONSTRAINTS: [&str; 6] = [
    "node.labels.zone==a",
    "node.labels.zone!=b",
    "node.labels.ssd==true",
    "node.role==manager",
    "node.hostname!=host0",
    "node.labels.zone==",
];

fn node_in() -> impl Strategy<Value = NodeIn> {
    (
        0u64..9,
        0u64..9,
        0u8..10,
        proptest::option::of(0u8..3),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        0u8..3,
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(cpu_halves, mem_quarters, avail, zone, ssd, manager, gpus, fpgas, port80_taken)| {
                NodeIn {
                    cpu_halves,
                    mem_quarters,
                    avail,
                    zone,
                    ssd,
                    manager,
                    gpus,
                    fpgas,
                    port80_taken,
                }
            },
        )
}

fn group_in() -> impl Strategy<Value = GroupIn> {
    (
        0u8..3,
        0usize..40,
        0u64..12,
        0u64..10,
        proptest::option::of(0usize..5),
        any::<bool>(),
        prop_oneof![Just(0u64), 1u64..4],
        proptest::bool::weighted(0.2),
        prop_oneof![4 => Just(0u64), 1 => 1u64..3],
        prop_oneof![4 => Just(0u64), 1 => 1u64..3],
    )
        .prop_map(
            |(
                service,
                tasks,
                cpu_tenths,
                mem_64mib,
                constraint,
                spread,
                max_per_node,
                port80,
                gpus,
                fpgas,
            )| GroupIn {
                service,
                tasks,
                cpu_tenths,
                mem_64mib,
                constraint,
                spread,
                max_per_node,
                port80,
                gpus,
                fpgas,
            },
        )
}

fn zone_name(z: u8) -> &'static str {
    ["a", "b", "c"][z as usize]
}

fn build_node(i: usize, n: &NodeIn) -> NodeSpec {
    let mut s = NodeSpec::new(format!("n{i}"), format!("host{i}"))
        .with_capacity(n.cpu_halves as f64 * 0.5, n.mem_quarters * 256 * MIB)
        .with_label("ssd", if n.ssd { "true" } else { "false" })
        .with_role(if n.manager {
            Role::Manager
        } else {
            Role::Worker
        });
    if let Some(z) = n.zone {
        s = s.with_label("zone", zone_name(z));
    }
    s.availability = match n.avail {
        0 => Availability::Drain,
        1 => Availability::Pause,
        _ => Availability::Active,
    };
    if n.avail == 2 {
        s.readiness = Readiness::Down;
    }
    for g in 0..n.gpus {
        s = s.with_generic(GenericResource::Named {
            kind: "gpu".into(),
            value: format!("GPU-{i}-{g}"),
        });
    }
    if n.fpgas > 0 {
        s = s.with_generic(GenericResource::Discrete {
            kind: "fpga".into(),
            count: u64::from(n.fpgas),
        });
    }
    if n.port80_taken {
        s.host_ports_in_use.push(HostPort::tcp(80));
    }
    s
}

fn build_spec(g: &GroupIn) -> TaskSpec {
    let mut spec = TaskSpec {
        nano_cpus: g.cpu_tenths * 100_000_000,
        memory_bytes: g.mem_64mib * 64 * MIB,
        max_replicas_per_node: g.max_per_node,
        ..TaskSpec::default()
    };
    if let Some(c) = g.constraint {
        spec.constraints
            .push(Constraint::parse(CONSTRAINTS[c]).unwrap());
    }
    if g.spread {
        spec.preferences.push(SpreadPreference::node_label("zone"));
    }
    if g.port80 {
        spec.host_ports.push(HostPort::tcp(80));
    }
    if g.gpus > 0 {
        spec = spec.with_generic("gpu", g.gpus);
    }
    if g.fpgas > 0 {
        spec = spec.with_generic("fpga", g.fpgas);
    }
    spec
}

/// Reference evaluation of the test constraints, written independently of the engine.
fn constraint_holds(c: usize, i: usize, n: &NodeIn) -> bool {
    let zone = n.zone.map(zone_name).unwrap_or("");
    match CONSTRAINTS[c] {
        "node.labels.zone==a" => zone == "a",
        "node.labels.zone!=b" => zone != "b",
        "node.labels.ssd==true" => n.ssd,
        "node.role==manager" => n.manager,
        "node.hostname!=host0" => i != 0,
        other => panic!("no reference for {other}"),
    }
}

fn run(nodes: &[NodeIn], groups: &[GroupIn], strategy: Rank) -> (Engine, Vec<GroupOutcome>) {
    let mut e = Engine::new(EngineConfig {
        strategy,
        ..EngineConfig::default()
    });
    for (i, n) in nodes.iter().enumerate() {
        e.apply(Delta::NodeAdded(build_node(i, n))).unwrap();
    }
    let outs = groups
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let group = TaskGroup {
                service: format!("svc{}", g.service).into(),
                spec_version: k as u64,
                spec: Arc::new(build_spec(g)),
                tasks: (0..g.tasks).map(|t| format!("g{k}.t{t}").into()).collect(),
            };
            e.schedule(group).unwrap()
        })
        .collect();
    (e, outs)
}

fn strategy_of(binpack: bool) -> Rank {
    if binpack { Rank::Binpack } else { Rank::Spread }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn placements_respect_every_filter(
        nodes in proptest::collection::vec(node_in(), 0..10),
        groups in proptest::collection::vec(group_in(), 1..5),
        binpack in any::<bool>(),
    ) {
        let (e, outs) = run(&nodes, &groups, strategy_of(binpack));
        let mut cpu = vec![0u64; nodes.len()];
        let mut mem = vec![0u64; nodes.len()];
        let mut fpga = vec![0u64; nodes.len()];
        let mut port80 = vec![0u32; nodes.len()];
        let mut per_service: BTreeMap<(u8, usize), u64> = BTreeMap::new();
        let mut gpu_items = BTreeSet::new();
        for (g, out) in groups.iter().zip(&outs) {
            prop_assert_eq!(out.assignments.len() + out.unplaced.len(), g.tasks);
            prop_assert!(out.already_placed.is_empty());
            for a in &out.assignments {
                let i: usize = a.node.as_str()[1..].parse().unwrap();
                let n = &nodes[i];
                prop_assert!(n.avail >= 3, "assigned to an unavailable node");
                if let Some(c) = g.constraint {
                    prop_assert!(constraint_holds(c, i, n), "constraint {} broken on n{}", CONSTRAINTS[c], i);
                }
                cpu[i] += g.cpu_tenths * 100_000_000;
                mem[i] += g.mem_64mib * 64 * MIB;
                fpga[i] += g.fpgas;
                if g.port80 {
                    port80[i] += 1;
                }
                let c = per_service.entry((g.service, i)).or_insert(0);
                *c += 1;
                if g.max_per_node > 0 {
                    // Counts every task of the service on the node (earlier groups included).
                    prop_assert!(*c <= g.max_per_node, "max replicas {} exceeded on n{}", g.max_per_node, i);
                }
            }
            prop_assert_eq!(out.claims.len() as u64, out.assignments.len() as u64 * g.gpus);
            for cl in &out.claims {
                prop_assert!(gpu_items.insert(cl.item.clone()), "GPU {} claimed twice", cl.item);
                let owner = out.assignments.iter().find(|a| a.task == cl.task).unwrap();
                prop_assert!(cl.item.starts_with(&format!("GPU-{}-", &owner.node.as_str()[1..])), "claimed item on another node");
            }
            match &out.reason {
                None => prop_assert!(out.unplaced.is_empty()),
                Some(r) => {
                    prop_assert!(!out.unplaced.is_empty());
                    prop_assert_eq!(r.nodes_total, nodes.len());
                    prop_assert_eq!(r.nodes_passing, 0);
                    prop_assert_eq!(r.rejections.iter().map(|x| x.nodes).sum::<usize>() + r.nodes_passing, r.nodes_total);
                    prop_assert!(r.to_string().starts_with("no suitable node ("));
                }
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            prop_assert!(cpu[i] <= n.cpu_halves * 500_000_000, "cpu over-committed on n{}", i);
            prop_assert!(mem[i] <= n.mem_quarters * 256 * MIB, "memory over-committed on n{}", i);
            prop_assert!(fpga[i] <= u64::from(n.fpgas), "fpga over-committed on n{}", i);
            prop_assert!(port80[i] <= u32::from(!n.port80_taken), "port 80 bound twice on n{}", i);
            let id = NodeId::new(format!("n{i}"));
            let (free_cpu, free_mem) = e.free_resources(&id).unwrap();
            prop_assert_eq!(free_cpu, (n.cpu_halves * 500_000_000) as i64 - cpu[i] as i64);
            prop_assert_eq!(free_mem, (n.mem_quarters * 256 * MIB) as i64 - mem[i] as i64);
        }
    }

    #[test]
    fn max_replicas_per_node_holds(
        nodes in proptest::collection::vec(node_in(), 1..8),
        tasks in 0usize..60,
        max in 1u64..4,
    ) {
        let g = GroupIn { service: 0, tasks, cpu_tenths: 0, mem_64mib: 0, constraint: None, spread: false, max_per_node: max, port80: false, gpus: 0, fpgas: 0 };
        let (_, outs) = run(&nodes, &[g], Rank::Spread);
        let mut per_node: BTreeMap<String, u64> = BTreeMap::new();
        for a in &outs[0].assignments {
            *per_node.entry(a.node.to_string()).or_insert(0) += 1;
        }
        prop_assert!(per_node.values().all(|&c| c <= max));
        let active = nodes.iter().filter(|n| n.avail >= 3).count() as u64;
        prop_assert_eq!(outs[0].assignments.len() as u64, (tasks as u64).min(active * max));
    }

    #[test]
    fn scheduling_is_deterministic(
        nodes in proptest::collection::vec(node_in(), 0..10),
        groups in proptest::collection::vec(group_in(), 1..4),
        binpack in any::<bool>(),
    ) {
        let (_, a) = run(&nodes, &groups, strategy_of(binpack));
        let (_, b) = run(&nodes, &groups, strategy_of(binpack));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn spread_on_identical_nodes_is_within_one_per_node_and_per_group(
        zones in proptest::collection::vec(proptest::option::of(0u8..3), 1..24),
        tasks in 0usize..300,
        existing in proptest::collection::vec((0usize..24, 0usize..4), 0..6),
        spread in any::<bool>(),
    ) {
        let mut e = Engine::default();
        for (i, z) in zones.iter().enumerate() {
            let mut n = NodeSpec::new(format!("n{i}"), "h").with_capacity(64.0, 1 << 40);
            if let Some(z) = z {
                n = n.with_label("zone", zone_name(*z));
            }
            e.apply(Delta::NodeAdded(n)).unwrap();
        }
        let spec = TaskSpec::default().with_reservation(0.1, MIB);
        let spec = if spread { spec.with_preference(SpreadPreference::node_label("zone")) } else { spec };
        // Tasks of another service: spreading this one must not depend on them.
        for (k, (i, n)) in existing.iter().enumerate() {
            for j in 0..*n {
                let node = format!("n{}", i % zones.len());
                e.apply(Delta::TaskPlaced(PlacedTask::new(format!("x{k}.{j}"), "other", node, 0, 0))).unwrap();
            }
        }
        let out = e.schedule(TaskGroup {
            service: "s".into(),
            spec_version: 1,
            spec: Arc::new(spec),
            tasks: (0..tasks).map(|t| format!("t{t}").into()).collect(),
        }).unwrap();
        prop_assert_eq!(out.assignments.len(), tasks);
        let mut per_node = vec![0i64; zones.len()];
        for a in &out.assignments {
            per_node[a.node.as_str()[1..].parse::<usize>().unwrap()] += 1;
        }
        let mut groups: BTreeMap<Option<u8>, Vec<i64>> = BTreeMap::new();
        for (i, z) in zones.iter().enumerate() {
            groups.entry(if spread { *z } else { None }).or_default().push(per_node[i]);
        }
        let totals: Vec<i64> = groups.values().map(|v| v.iter().sum()).collect();
        prop_assert!(totals.iter().max().unwrap() - totals.iter().min().unwrap() <= 1, "group totals {:?}", totals);
        for v in groups.values() {
            prop_assert!(v.iter().max().unwrap() - v.iter().min().unwrap() <= 1, "nodes in a group {:?}", v);
        }
    }

    #[test]
    fn finishing_every_task_restores_every_node(
        nodes in proptest::collection::vec(node_in(), 1..8),
        groups in proptest::collection::vec(group_in(), 1..4),
    ) {
        let (mut e, outs) = run(&nodes, &groups, Rank::Spread);
        for out in &outs {
            for a in &out.assignments {
                e.apply(Delta::TaskFinished { task: a.task.clone(), failed_at_ms: None }).unwrap();
            }
        }
        prop_assert_eq!(e.task_count(), 0);
        for (i, n) in nodes.iter().enumerate() {
            let id = NodeId::new(format!("n{i}"));
            prop_assert_eq!(e.free_resources(&id).unwrap(), ((n.cpu_halves * 500_000_000) as i64, (n.mem_quarters * 256 * MIB) as i64));
            prop_assert_eq!(e.generic_free(&id, "gpu").unwrap_or(0), i64::from(n.gpus));
        }
        // And every filter sees the same state as on a fresh engine.
        let mut fresh = Engine::default();
        for (i, n) in nodes.iter().enumerate() {
            fresh.apply(Delta::NodeAdded(build_node(i, n))).unwrap();
        }
        for g in &groups {
            let svc = ServiceId::new(format!("svc{}", g.service));
            let spec = build_spec(g);
            prop_assert_eq!(e.explain(&svc, &spec).unwrap(), fresh.explain(&svc, &spec).unwrap());
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Schedule {
        service: u8,
        tasks: usize,
        cpu_tenths: u64,
    },
    Batch {
        service: u8,
        tasks: usize,
        cpu_tenths: u64,
    },
    Finish(usize, bool),
    Toggle(usize),
    Readd(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..3, 1usize..6, 0u64..8).prop_map(|(service, tasks, cpu_tenths)| Op::Schedule { service, tasks, cpu_tenths }),
        2 => (0u8..3, 1usize..30, 0u64..8).prop_map(|(service, tasks, cpu_tenths)| Op::Batch { service, tasks, cpu_tenths }),
        3 => (0usize..1000, any::<bool>()).prop_map(|(k, failed)| Op::Finish(k, failed)),
        1 => (0usize..8).prop_map(Op::Toggle),
        1 => (0usize..8).prop_map(Op::Readd),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Under churn (tasks finishing, nodes drained and re-activated, removed and re-added),
    /// every task placed goes to a best node by the spread order, checked against a brute
    /// force over `explain` and the engine's counts; and the accounting matches the live tasks.
    #[test]
    fn spread_choice_matches_brute_force_under_churn(ops in proptest::collection::vec(op(), 1..40)) {
        const NODES: usize = 8;
        let mut e = Engine::default();
        let mk = |i: usize| NodeSpec::new(format!("n{i}"), "h").with_capacity(2.0, 1 << 40);
        for i in 0..NODES {
            e.apply(Delta::NodeAdded(mk(i))).unwrap();
        }
        let mut drained = [false; NODES];
        let mut live: Vec<(TaskId, String, NodeId, u64)> = Vec::new();
        let mut next = 0usize;
        for op in ops {
            match op {
                Op::Schedule { service, tasks, cpu_tenths } => {
                    let svc = ServiceId::new(format!("s{service}"));
                    let spec = TaskSpec { nano_cpus: cpu_tenths * 100_000_000, ..TaskSpec::default() };
                    for _ in 0..tasks {
                        // One task at a time so every choice can be checked.
                        let best = e
                            .explain(&svc, &spec)
                            .unwrap()
                            .into_iter()
                            .filter(|v| v.rejection.is_none())
                            .map(|v| {
                                let (total, of_svc) = e.task_counts(&v.node, &svc).unwrap();
                                let f = e.recent_failures(&v.node, &svc);
                                (if f >= 5 { f.min(15) } else { 0 }, of_svc, total)
                            })
                            .min();
                        let id = TaskId::new(format!("t{next}"));
                        next += 1;
                        let out = e.schedule(TaskGroup { service: svc.clone(), spec_version: 1, spec: Arc::new(spec.clone()), tasks: vec![id.clone()] }).unwrap();
                        match (best, out.assignments.first()) {
                            (None, None) => prop_assert!(out.reason.is_some()),
                            (Some(best), Some(a)) => {
                                let (total, of_svc) = e.task_counts(&a.node, &svc).unwrap();
                                let f = e.recent_failures(&a.node, &svc);
                                let rank = if f >= 5 { f.min(15) } else { 0 };
                                prop_assert_eq!((rank, of_svc - 1, total - 1), best, "not a best node");
                                live.push((id, svc.to_string(), a.node.clone(), spec.nano_cpus));
                            }
                            (b, a) => prop_assert!(false, "brute force {:?} vs engine {:?}", b, a),
                        }
                    }
                }
                Op::Batch { service, tasks, cpu_tenths } => {
                    // A whole group at once: checked by the accounting below.
                    let svc = ServiceId::new(format!("s{service}"));
                    let spec = TaskSpec { nano_cpus: cpu_tenths * 100_000_000, ..TaskSpec::default() };
                    let ids: Vec<TaskId> = (0..tasks).map(|k| TaskId::new(format!("t{}", next + k))).collect();
                    next += tasks;
                    let out = e.schedule(TaskGroup { service: svc.clone(), spec_version: 1, spec: Arc::new(spec.clone()), tasks: ids }).unwrap();
                    for a in out.assignments {
                        live.push((a.task, svc.to_string(), a.node, spec.nano_cpus));
                    }
                }
                Op::Finish(k, failed) => {
                    if !live.is_empty() {
                        let (id, ..) = live.remove(k % live.len());
                        let failed_at_ms = failed.then_some(0);
                        e.apply(Delta::TaskFinished { task: id, failed_at_ms }).unwrap();
                    }
                }
                Op::Toggle(i) => {
                    drained[i] = !drained[i];
                    let avail = if drained[i] { Availability::Drain } else { Availability::Active };
                    e.apply(Delta::NodeUpdated(mk(i).with_availability(avail))).unwrap();
                }
                Op::Readd(i) => {
                    let id = NodeId::new(format!("n{i}"));
                    e.apply(Delta::NodeRemoved(id.clone())).unwrap();
                    live.retain(|t| t.2 != id);
                    drained[i] = false;
                    e.apply(Delta::NodeAdded(mk(i))).unwrap();
                }
            }
            prop_assert_eq!(e.task_count(), live.len());
            for i in 0..NODES {
                let id = NodeId::new(format!("n{i}"));
                let used: u64 = live.iter().filter(|t| t.2 == id).map(|t| t.3).sum();
                prop_assert!(used <= 2_000_000_000, "n{} over-committed: {}", i, used);
                prop_assert_eq!(e.free_resources(&id).unwrap().0, 2_000_000_000 - used as i64);
                let total = live.iter().filter(|t| t.2 == id).count() as u32;
                prop_assert_eq!(e.task_counts(&id, &ServiceId::new("s0")).unwrap().0, total);
            }
        }
    }
}
