//! Behaviour tests of the engine: deltas, every filter, ranking, reasons, explain, rebalance.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use swarm_sched::*;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn node(i: usize) -> NodeSpec {
    NodeSpec::new(format!("n{i}"), format!("host{i}")).with_capacity(4.0, 8 * GIB)
}

fn engine(nodes: impl IntoIterator<Item = NodeSpec>) -> Engine {
    let mut e = Engine::default();
    e.apply_all(nodes.into_iter().map(Delta::NodeAdded))
        .unwrap();
    e
}

fn group(service: &str, n: usize, spec: TaskSpec) -> TaskGroup {
    TaskGroup {
        service: service.into(),
        spec_version: 1,
        spec: Arc::new(spec),
        tasks: (0..n).map(|i| format!("{service}.{i}").into()).collect(),
    }
}

fn per_node(out: &GroupOutcome) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in &out.assignments {
        *m.entry(a.node.to_string()).or_insert(0) += 1;
    }
    m
}

fn c(s: &str) -> Constraint {
    Constraint::parse(s).unwrap()
}

#[test]
fn spread_is_even_and_prefers_fewer_tasks_of_the_service_then_fewer_in_total() {
    let mut e = engine((0..3).map(node));
    // n0 runs 2 tasks of another service: it is chosen last among nodes with 0 tasks of "web".
    for k in 0..2 {
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            format!("other.{k}"),
            "other",
            "n0",
            0,
            0,
        )))
        .unwrap();
    }
    let out = e.schedule(group("web", 2, TaskSpec::default())).unwrap();
    let mut nodes: Vec<_> = out.assignments.iter().map(|a| a.node.to_string()).collect();
    nodes.sort();
    assert_eq!(nodes, ["n1", "n2"]);
    let out = e.schedule(group("web2", 7, TaskSpec::default())).unwrap();
    let counts = per_node(&out);
    assert_eq!(counts.values().copied().max(), Some(3));
    assert_eq!(counts.values().copied().min(), Some(2));
    // The node with the most tasks in total (n0: 2 other) got the fewest of web2.
    assert_eq!(counts["n0"], 2);
}

#[test]
fn resources_are_charged_and_released() {
    let mut e = engine([node(0)]);
    let spec = TaskSpec::default().with_reservation(1.5, 3 * GIB);
    let out = e.schedule(group("db", 3, spec.clone())).unwrap();
    assert_eq!(out.assignments.len(), 2);
    assert_eq!(out.unplaced, vec![TaskId::new("db.2")]);
    let n0 = NodeId::new("n0");
    assert_eq!(e.free_resources(&n0), Some((1_000_000_000, 2 * GIB as i64)));
    assert_eq!(
        out.reason.as_ref().unwrap().to_string(),
        "no suitable node (1 node lacks 1.5 CPU)"
    );
    e.apply(Delta::TaskFinished {
        task: "db.0".into(),
        failed_at_ms: None,
    })
    .unwrap();
    // Idempotent.
    e.apply(Delta::TaskFinished {
        task: "db.0".into(),
        failed_at_ms: None,
    })
    .unwrap();
    e.apply(Delta::TaskRemoved("db.0".into())).unwrap();
    assert_eq!(e.free_resources(&n0), Some((2_500_000_000, 5 * GIB as i64)));
    assert_eq!(e.task_counts(&n0, &"db".into()), Some((1, 1)));
    let again = e
        .schedule(TaskGroup {
            tasks: vec!["db.2".into()],
            ..group("db", 0, spec)
        })
        .unwrap();
    assert_eq!(again.assignments.len(), 1);
    assert_eq!(e.task_count(), 2);
}

#[test]
fn node_update_keeps_reservations_and_can_overcommit_capacity() {
    let mut e = engine([node(0)]);
    e.schedule(group(
        "a",
        2,
        TaskSpec::default().with_reservation(1.0, GIB),
    ))
    .unwrap();
    let smaller = node(0).with_capacity(1.0, GIB);
    e.apply(Delta::NodeUpdated(smaller)).unwrap();
    assert_eq!(
        e.free_resources(&"n0".into()),
        Some((-1_000_000_000, -(GIB as i64)))
    );
    let out = e
        .schedule(group(
            "b",
            1,
            TaskSpec::default().with_reservation(0.1, MIB),
        ))
        .unwrap();
    assert_eq!(out.unplaced.len(), 1);
    assert_eq!(
        out.reason.unwrap().to_string(),
        "no suitable node (1 node lacks 0.1 CPU)"
    );
    // A task with no reservation still fits.
    assert_eq!(
        e.schedule(group("c", 1, TaskSpec::default()))
            .unwrap()
            .assignments
            .len(),
        1
    );
}

#[test]
fn delta_errors_are_typed() {
    let mut e = engine([node(0)]);
    let err = e.apply(Delta::NodeAdded(node(0))).unwrap_err();
    assert_eq!(err, SchedError::DuplicateNode("n0".into()));
    assert!(!err.is_retryable());
    let err = e.apply(Delta::NodeUpdated(node(9))).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "node n9 is not known to the scheduler");
    let err = e
        .apply(Delta::TaskPlaced(PlacedTask::new("t", "s", "n7", 0, 0)))
        .unwrap_err();
    assert_eq!(err, SchedError::UnknownNode("n7".into()));
    e.apply(Delta::TaskPlaced(PlacedTask::new("t", "s", "n0", 0, 0)))
        .unwrap();
    assert_eq!(
        e.apply(Delta::TaskPlaced(PlacedTask::new("t", "s", "n0", 0, 0)))
            .unwrap_err(),
        SchedError::DuplicateTask("t".into())
    );
    let mut many = node(1);
    for k in 0..=MAX_LABELS_PER_NODE {
        many.labels.insert(format!("k{k}"), "v".into());
    }
    let err = e.apply(Delta::NodeAdded(many)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "node n1: labels: {} exceeds the limit of {MAX_LABELS_PER_NODE}",
            MAX_LABELS_PER_NODE + 1
        )
    );
}

#[test]
fn removed_node_forgets_its_tasks_and_slot_is_reused() {
    let mut e = engine((0..2).map(node));
    e.schedule(group(
        "s",
        4,
        TaskSpec::default().with_reservation(1.0, GIB),
    ))
    .unwrap();
    assert_eq!(e.task_count(), 4);
    e.apply(Delta::NodeRemoved("n0".into())).unwrap();
    assert_eq!(e.task_count(), 2);
    assert_eq!(e.node_count(), 1);
    e.apply(Delta::NodeAdded(node(5))).unwrap();
    assert_eq!(
        e.free_resources(&"n5".into()),
        Some((4_000_000_000, 8 * GIB as i64))
    );
    assert_eq!(e.task_counts(&"n5".into(), &"s".into()), Some((0, 0)));
    let ids: Vec<_> = e.node_ids().map(|n| n.to_string()).collect();
    assert_eq!(ids, ["n5", "n1"]);
}

#[test]
fn availability_filter_and_message() {
    let nodes = vec![
        node(0).with_availability(Availability::Drain),
        node(1).with_availability(Availability::Pause),
        node(2).with_readiness(Readiness::Down),
        node(3),
    ];
    let mut e = engine(nodes);
    let out = e
        .schedule(group(
            "s",
            5,
            TaskSpec::default().with_max_replicas_per_node(1),
        ))
        .unwrap();
    assert_eq!(per_node(&out).keys().collect::<Vec<_>>(), ["n3"]);
    let r = out.reason.unwrap();
    assert_eq!(r.excluded_by(Filter::Availability), 3);
    assert_eq!(
        r.to_string(),
        "no suitable node (3 nodes not available for new tasks; 1 node already runs the maximum of 1 tasks of this service)"
    );
}

#[test]
fn platform_filter_with_aliases() {
    let nodes = vec![
        node(0).with_platform(Platform::new("linux", "x86_64")),
        node(1).with_platform(Platform::new("Linux", "aarch64")),
        node(2).with_platform(Platform::new("windows", "amd64")),
    ];
    let e = engine(nodes);
    let spec = TaskSpec::default()
        .with_platform(Platform::new("linux", "amd64"))
        .with_platform(Platform::new("linux", "arm64"));
    let v = e.explain(&"s".into(), &spec).unwrap();
    assert_eq!(
        v.iter().map(|v| v.rejection).collect::<Vec<_>>(),
        [None, None, Some(Rejection::Platform)]
    );
    assert_eq!(
        v[2].to_string(),
        "n2: does not support platform linux/amd64 or linux/arm64"
    );
    let any_os = TaskSpec::default().with_platform(Platform::new("", "x86-64"));
    let v = e.explain(&"s".into(), &any_os).unwrap();
    assert_eq!(v.iter().filter(|v| v.rejection.is_none()).count(), 2);
    let arch = TaskSpec::default().with_constraint(c("node.platform.arch==amd64"));
    assert_eq!(
        e.explain(&"s".into(), &arch)
            .unwrap()
            .iter()
            .filter(|v| v.rejection.is_none())
            .count(),
        2
    );
    let os = TaskSpec::default().with_constraint(c("node.platform.os!=LINUX"));
    let ok: Vec<_> = e
        .explain(&"s".into(), &os)
        .unwrap()
        .into_iter()
        .filter(|v| v.rejection.is_none())
        .map(|v| v.node)
        .collect();
    assert_eq!(ok, [NodeId::new("n2")]);
}

#[test]
fn constraints_on_every_key() {
    let nodes = vec![
        node(0)
            .with_role(Role::Manager)
            .with_ip("10.0.1.5".parse().unwrap())
            .with_label("zone", "EU")
            .with_engine_label("disk", "ssd"),
        node(1)
            .with_ip("10.0.2.7".parse().unwrap())
            .with_label("zone", "us"),
        node(2).with_ip("192.168.0.1".parse().unwrap()),
    ];
    let e = engine(nodes);
    let fits = |cs: &[&str]| -> Vec<String> {
        let spec = TaskSpec {
            constraints: Constraint::parse_all(cs).unwrap(),
            ..TaskSpec::default()
        };
        e.explain(&"s".into(), &spec)
            .unwrap()
            .into_iter()
            .filter(|v| v.rejection.is_none())
            .map(|v| v.node.to_string())
            .collect()
    };
    assert_eq!(fits(&["node.id==N1"]), ["n1"]);
    assert_eq!(fits(&["node.hostname!=host1"]), ["n0", "n2"]);
    assert_eq!(fits(&["node.role==manager"]), ["n0"]);
    assert_eq!(fits(&["node.role==worker"]), ["n1", "n2"]);
    assert_eq!(fits(&["node.ip==10.0.0.0/16"]), ["n0", "n1"]);
    assert_eq!(fits(&["node.ip!=10.0.0.0/16"]), ["n2"]);
    assert_eq!(fits(&["node.ip==192.168.0.1"]), ["n2"]);
    assert_eq!(fits(&["node.labels.zone==eu"]), ["n0"]);
    // A missing label equals "".
    assert_eq!(fits(&["node.labels.zone!=eu"]), ["n1", "n2"]);
    assert_eq!(fits(&["node.labels.nothere!=x"]), ["n0", "n1", "n2"]);
    assert_eq!(fits(&["node.labels.nothere==x"]), Vec::<String>::new());
    assert_eq!(fits(&["engine.labels.disk==SSD"]), ["n0"]);
    // AND.
    assert_eq!(
        fits(&["node.ip==10.0.0.0/8", "node.labels.zone!=us"]),
        ["n0"]
    );
    // The first failing constraint is reported.
    let spec = TaskSpec {
        constraints: Constraint::parse_all(["node.ip==10.0.0.0/8", "node.labels.zone==us"])
            .unwrap(),
        ..TaskSpec::default()
    };
    let r = e.summarize(&"s".into(), &spec).unwrap();
    assert_eq!(r.nodes_total, 3);
    assert_eq!(r.nodes_passing, 1);
    assert_eq!(
        r.to_string(),
        "no suitable node (1 node fails constraint node.ip==10.0.0.0/8; 1 node fails constraint node.labels.zone==us; 1 node would fit)"
    );
}

#[test]
fn unschedulable_message_lists_every_filter_and_adds_up() {
    let mut nodes: Vec<NodeSpec> = Vec::new();
    for i in 0..2 {
        nodes.push(
            node(i)
                .with_availability(Availability::Drain)
                .with_label("zone", "eu"),
        );
    }
    for i in 2..5 {
        nodes.push(
            node(i)
                .with_capacity(4.0, 256 * MIB)
                .with_label("zone", "eu"),
        );
    }
    for i in 5..10 {
        nodes.push(node(i).with_label("zone", "us"));
    }
    let mut e = engine(nodes);
    let spec = TaskSpec::default()
        .with_reservation(0.5, 512 * MIB)
        .with_constraint(c("node.labels.zone==eu"));
    let out = e.schedule(group("s", 1, spec)).unwrap();
    let r = out.reason.unwrap();
    assert_eq!(
        r.to_string(),
        "no suitable node (2 nodes not available for new tasks; 5 nodes fail constraint node.labels.zone==eu; 3 nodes lack 512 MiB memory)"
    );
    assert_eq!(
        r.rejections.iter().map(|x| x.nodes).sum::<usize>(),
        r.nodes_total
    );
    assert_eq!(r.nodes_total, 10);
    assert_eq!(r.excluded_by(Filter::Resources), 3);
    let empty = Engine::default()
        .summarize(&"s".into(), &TaskSpec::default())
        .unwrap();
    assert_eq!(
        empty.to_string(),
        "no suitable node (the cluster has no nodes)"
    );
}

#[test]
fn named_generic_resources_are_claimed_by_one_task_each() {
    let gpu = |v: &str| GenericResource::Named {
        kind: "gpu".into(),
        value: v.into(),
    };
    let nodes = vec![
        node(0)
            .with_generic(gpu("GPU-b"))
            .with_generic(gpu("GPU-a")),
        node(1)
            .with_generic(gpu("GPU-c"))
            .with_generic(GenericResource::Discrete {
                kind: "fpga".into(),
                count: 2,
            }),
    ];
    let mut e = engine(nodes);
    let out = e
        .schedule(group("ml", 4, TaskSpec::default().with_generic("gpu", 1)))
        .unwrap();
    assert_eq!(out.assignments.len(), 3);
    let mut items: Vec<_> = out
        .claims
        .iter()
        .map(|c| (c.task.to_string(), c.item.clone()))
        .collect();
    items.sort();
    let claimed: Vec<_> = items.iter().map(|x| x.1.as_str()).collect();
    let mut sorted = claimed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted,
        ["GPU-a", "GPU-b", "GPU-c"],
        "each item claimed once"
    );
    assert_eq!(
        out.reason.unwrap().to_string(),
        "no suitable node (2 nodes lack 1 gpu)"
    );
    assert_eq!(e.generic_free(&"n0".into(), "gpu"), Some(0));
    // Finishing the task that holds GPU-a frees exactly that item.
    let holder = out
        .claims
        .iter()
        .find(|c| c.item == "GPU-a")
        .unwrap()
        .task
        .clone();
    e.apply(Delta::TaskFinished {
        task: holder,
        failed_at_ms: None,
    })
    .unwrap();
    let again = e
        .schedule(TaskGroup {
            tasks: vec!["ml.9".into()],
            ..group("ml", 0, TaskSpec::default().with_generic("gpu", 1))
        })
        .unwrap();
    assert_eq!(again.claims.len(), 1);
    assert_eq!(again.claims[0].item, "GPU-a");
    // Discrete counts.
    let f = e
        .schedule(group("fp", 3, TaskSpec::default().with_generic("fpga", 1)))
        .unwrap();
    assert_eq!(f.assignments.len(), 2);
    assert!(f.claims.is_empty());
    assert_eq!(e.generic_free(&"n1".into(), "fpga"), Some(0));
}

#[test]
fn host_ports_allow_one_task_per_node() {
    let mut e = engine(
        (0..3)
            .map(node)
            .chain([node(3).with_capacity(4.0, 8 * GIB)])
            .map(|n| {
                if n.id.as_str() == "n3" {
                    NodeSpec {
                        host_ports_in_use: vec![HostPort::tcp(80)],
                        ..n
                    }
                } else {
                    n
                }
            }),
    );
    let spec = TaskSpec::default().with_host_port(HostPort::tcp(80));
    let out = e.schedule(group("web", 5, spec.clone())).unwrap();
    assert_eq!(per_node(&out).len(), 3);
    assert!(per_node(&out).values().all(|&n| n == 1));
    assert_eq!(
        out.reason.unwrap().to_string(),
        "no suitable node (4 nodes have host port 80/tcp in use)"
    );
    // UDP 80 is another port.
    let udp = TaskSpec::default().with_host_port(HostPort {
        protocol: Protocol::Udp,
        port: 80,
    });
    assert_eq!(
        e.schedule(group("dns", 4, udp)).unwrap().assignments.len(),
        4
    );
    e.apply(Delta::TaskRemoved("web.0".into())).unwrap();
    assert_eq!(
        e.schedule(TaskGroup {
            tasks: vec!["web.7".into()],
            ..group("web", 0, spec)
        })
        .unwrap()
        .assignments
        .len(),
        1
    );
}

#[test]
fn spread_over_preferences_is_hierarchical_and_missing_label_is_a_group() {
    // zone a: 1 node, zone b: 3 nodes, no zone: 2 nodes.
    let nodes = vec![
        node(0).with_label("zone", "a"),
        node(1).with_label("zone", "b"),
        node(2).with_label("zone", "b"),
        node(3).with_label("zone", "b"),
        node(4),
        node(5),
    ];
    let mut e = engine(nodes);
    let spec = TaskSpec::default().with_preference(SpreadPreference::node_label("zone"));
    let out = e.schedule(group("s", 9, spec)).unwrap();
    let m = per_node(&out);
    // 3 per group: a gets 3 on its single node, b 1 each, the unlabelled group 2+1.
    assert_eq!(m["n0"], 3);
    assert_eq!((m["n1"], m["n2"], m["n3"]), (1, 1, 1));
    assert_eq!(m["n4"] + m["n5"], 3);
}

#[test]
fn spread_counts_existing_tasks_and_fills_other_groups_when_one_is_full() {
    let nodes = vec![
        node(0).with_label("zone", "a").with_capacity(1.0, GIB),
        node(1).with_label("zone", "b"),
        node(2).with_label("zone", "c"),
    ];
    let mut e = engine(nodes);
    let spec = TaskSpec::default()
        .with_reservation(0.5, MIB)
        .with_preference(SpreadPreference::node_label("zone"));
    e.apply(Delta::TaskPlaced(PlacedTask::new("old", "s", "n2", 0, 0)))
        .unwrap();
    let out = e.schedule(group("s", 8, spec)).unwrap();
    let m = per_node(&out);
    // Zone a holds only 2 (1 CPU); the other 6 split so that b and c end within one task
    // of each other, counting the task c already had: b = 4, c = 1 + 2.
    assert_eq!(m["n0"], 2);
    assert_eq!(m["n1"], 4);
    assert_eq!(m["n2"], 2);
}

#[test]
fn binpack_fills_the_most_allocated_node_first() {
    let mut e = Engine::new(EngineConfig {
        strategy: Strategy::Binpack,
        ..EngineConfig::default()
    });
    e.apply_all((0..3).map(|i| Delta::NodeAdded(node(i))))
        .unwrap();
    e.apply(Delta::TaskPlaced(PlacedTask::new(
        "x",
        "other",
        "n2",
        1_000_000_000,
        GIB,
    )))
    .unwrap();
    let out = e
        .schedule(group(
            "s",
            5,
            TaskSpec::default().with_reservation(1.0, GIB),
        ))
        .unwrap();
    let m = per_node(&out);
    assert_eq!(m["n2"], 3, "the partly used node is filled first");
    assert_eq!(m["n0"], 2);
    assert!(!m.contains_key("n1"));
    e.set_strategy(Strategy::Spread);
    let out = e
        .schedule(group(
            "t",
            1,
            TaskSpec::default().with_reservation(1.0, GIB),
        ))
        .unwrap();
    assert_eq!(out.assignments[0].node.as_str(), "n1");
}

#[test]
fn nodes_with_recent_failures_go_last_until_the_window_passes() {
    let mut e = engine((0..2).map(node));
    e.set_now_ms(1_000);
    for k in 0..5 {
        let id = format!("bad.{k}");
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            id.as_str(),
            "s",
            "n0",
            0,
            0,
        )))
        .unwrap();
        e.apply(Delta::TaskFinished {
            task: id.into(),
            failed_at_ms: Some(1_000),
        })
        .unwrap();
    }
    assert_eq!(e.recent_failures(&"n0".into(), &"s".into()), 5);
    let out = e.schedule(group("s", 3, TaskSpec::default())).unwrap();
    assert_eq!(per_node(&out)["n1"], 3);
    // Other services are not affected.
    assert_eq!(
        e.schedule(group("t", 1, TaskSpec::default()))
            .unwrap()
            .assignments[0]
            .node
            .as_str(),
        "n0"
    );
    e.set_now_ms(1_000 + EngineConfig::default().failure_window_ms);
    assert_eq!(e.recent_failures(&"n0".into(), &"s".into()), 0);
    let out = e
        .schedule(TaskGroup {
            tasks: (10..13).map(|i| format!("s.{i}").into()).collect(),
            ..group("s", 0, TaskSpec::default())
        })
        .unwrap();
    assert_eq!(per_node(&out)["n0"], 3);
}

#[test]
fn failures_of_another_service_do_not_duplicate_a_node_in_the_ranking() {
    let mut e = engine((0..3).map(|i| node(i).with_capacity(1.0, GIB)));
    e.set_now_ms(10);
    for k in 0..2 {
        let id = format!("other.{k}");
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            id.as_str(),
            "other",
            "n1",
            0,
            0,
        )))
        .unwrap();
        e.apply(Delta::TaskFinished {
            task: id.into(),
            failed_at_ms: Some(5),
        })
        .unwrap();
    }
    // n1 also runs a task of another service, so it ranks after the idle nodes.
    e.apply(Delta::TaskPlaced(PlacedTask::new(
        "busy", "other", "n1", 0, 0,
    )))
    .unwrap();
    let out = e
        .schedule(group(
            "s",
            10,
            TaskSpec::default().with_reservation(0.5, MIB),
        ))
        .unwrap();
    assert_eq!(out.assignments.len(), 6);
    for id in e.node_ids().cloned().collect::<Vec<_>>() {
        assert_eq!(
            e.free_resources(&id).unwrap().0,
            0,
            "node {id} over- or under-committed"
        );
    }
}

#[test]
fn already_placed_tasks_are_skipped() {
    let mut e = engine((0..2).map(node));
    e.schedule(group("s", 2, TaskSpec::default())).unwrap();
    let mut g = group("s", 3, TaskSpec::default());
    g.tasks.push("s.2".into());
    let out = e.schedule(g).unwrap();
    assert_eq!(
        out.already_placed,
        vec![TaskId::new("s.0"), TaskId::new("s.1"), TaskId::new("s.2")]
    );
    assert_eq!(out.assignments.len(), 1);
    assert!(out.unplaced.is_empty());
    assert_eq!(e.task_count(), 3);
}

#[test]
fn already_placed_tasks_after_the_cluster_is_full_are_not_reported_unplaced() {
    let mut e = engine([node(0).with_capacity(1.0, GIB)]);
    let spec = TaskSpec::default().with_reservation(1.0, MIB);
    e.schedule(group("s", 1, spec.clone())).unwrap();
    let g = TaskGroup {
        tasks: vec!["s.9".into(), "s.0".into()],
        ..group("s", 0, spec)
    };
    let out = e.schedule(g).unwrap();
    assert_eq!(out.unplaced, vec![TaskId::new("s.9")]);
    assert_eq!(out.already_placed, vec![TaskId::new("s.0")]);
    assert_eq!(
        out.reason.unwrap().to_string(),
        "no suitable node (1 node lacks 1 CPU)"
    );
}

#[test]
fn group_pending_batches_by_service_and_version() {
    let spec = Arc::new(TaskSpec::default());
    let t = |id: &str, s: &str, v| PendingTask {
        id: id.into(),
        service: s.into(),
        spec_version: v,
        spec: spec.clone(),
    };
    let groups = group_pending(vec![
        t("a1", "a", 1),
        t("b1", "b", 1),
        t("a2", "a", 1),
        t("a3", "a", 2),
    ]);
    let shape: Vec<_> = groups
        .iter()
        .map(|g| (g.service.to_string(), g.spec_version, g.tasks.len()))
        .collect();
    assert_eq!(
        shape,
        [
            ("a".to_string(), 1, 2),
            ("b".to_string(), 1, 1),
            ("a".to_string(), 2, 1)
        ]
    );
}

#[test]
fn rebalance_after_a_node_joins_respects_filters_and_bound() {
    let mut e = engine((0..4).map(node));
    let spec = TaskSpec::default()
        .with_reservation(0.25, 64 * MIB)
        .with_constraint(c("node.labels.tier!=db"));
    e.schedule(group("web", 12, spec.clone())).unwrap();
    e.apply(Delta::NodeAdded(node(4))).unwrap();
    e.apply(Delta::NodeAdded(node(5).with_label("tier", "db")))
        .unwrap();
    e.apply(Delta::NodeAdded(
        node(6).with_availability(Availability::Drain),
    ))
    .unwrap();
    let moves = e.plan_rebalance(&"web".into(), &spec, 100).unwrap();
    // 12 over 5 eligible nodes: 3,3,2,2,2 → two moves, both to n4.
    assert_eq!(moves.len(), 2);
    assert!(moves.iter().all(|m| m.to.as_str() == "n4"));
    let mut froms: Vec<_> = moves.iter().map(|m| m.from.to_string()).collect();
    froms.dedup();
    assert_eq!(
        froms.len(),
        2,
        "each move from a different most-loaded node"
    );
    assert_eq!(e.plan_rebalance(&"web".into(), &spec, 1).unwrap().len(), 1);
    assert!(
        e.plan_rebalance(&"nope".into(), &spec, 5)
            .unwrap()
            .is_empty()
    );
    // Applying the moves leaves nothing to do.
    for m in &moves {
        e.apply(Delta::TaskRemoved(m.task.clone())).unwrap();
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            m.task.clone(),
            "web",
            m.to.clone(),
            250_000_000,
            64 * MIB,
        )))
        .unwrap();
    }
    assert!(
        e.plan_rebalance(&"web".into(), &spec, 100)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rebalance_over_preferences_moves_between_groups_first() {
    let nodes = vec![
        node(0).with_label("zone", "a"),
        node(1).with_label("zone", "a"),
        node(2).with_label("zone", "b"),
    ];
    let mut e = engine(nodes);
    for k in 0..6 {
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            format!("t{k}"),
            "s",
            if k % 2 == 0 { "n0" } else { "n1" },
            0,
            0,
        )))
        .unwrap();
    }
    let spec = TaskSpec::default().with_preference(SpreadPreference::node_label("zone"));
    let moves = e.plan_rebalance(&"s".into(), &spec, 10).unwrap();
    // Zones a=6, b=0 → 3/3: three moves into n2, taken from n0 and n1 alternately.
    assert_eq!(moves.len(), 3);
    assert!(moves.iter().all(|m| m.to.as_str() == "n2"));
    let from_n0 = moves.iter().filter(|m| m.from.as_str() == "n0").count();
    assert!(from_n0 == 1 || from_n0 == 2);
}

#[test]
fn scheduling_is_deterministic() {
    let build = || {
        let mut e = engine((0..20).map(|i| node(i).with_label("zone", ["a", "b", "c"][i % 3])));
        let spec = TaskSpec::default()
            .with_reservation(0.3, 100 * MIB)
            .with_preference(SpreadPreference::node_label("zone"));
        let a = e.schedule(group("x", 77, spec)).unwrap();
        let b = e
            .schedule(group(
                "y",
                40,
                TaskSpec::default().with_reservation(1.0, GIB),
            ))
            .unwrap();
        (a, b)
    };
    assert_eq!(build(), build());
}

#[test]
fn spec_limits_are_enforced() {
    let mut e = engine([node(0)]);
    let spec = TaskSpec {
        preferences: vec![SpreadPreference::node_label("z"); MAX_PREFERENCES + 1],
        ..TaskSpec::default()
    };
    let err = e.schedule(group("s", 1, spec)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "task spec: preferences: {} exceeds the limit of {MAX_PREFERENCES}",
            MAX_PREFERENCES + 1
        )
    );
}

#[test]
fn engine_and_outcomes_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    send_sync::<GroupOutcome>();
    send_sync::<Delta>();
    send_sync::<SchedError>();
}

#[test]
fn removing_a_service_releases_its_tasks_failures_and_slot() {
    let mut e = engine((0..2).map(node));
    e.schedule(group(
        "old",
        4,
        TaskSpec::default().with_reservation(1.0, GIB),
    ))
    .unwrap();
    for k in 0..5 {
        let id = format!("f{k}");
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            id.as_str(),
            "old",
            "n0",
            0,
            0,
        )))
        .unwrap();
        e.apply(Delta::TaskFinished {
            task: id.into(),
            failed_at_ms: Some(0),
        })
        .unwrap();
    }
    assert_eq!(e.recent_failures(&"n0".into(), &"old".into()), 5);
    e.apply(Delta::ServiceRemoved("old".into())).unwrap();
    e.apply(Delta::ServiceRemoved("old".into())).unwrap();
    assert_eq!(e.task_count(), 0);
    assert_eq!(
        e.free_resources(&"n0".into()),
        Some((4_000_000_000, 8 * GIB as i64))
    );
    assert_eq!(e.recent_failures(&"n0".into(), &"old".into()), 0);
    // A new service takes the freed slot and inherits neither counts nor failures.
    let out = e.schedule(group("new", 2, TaskSpec::default())).unwrap();
    let mut nodes: Vec<_> = out.assignments.iter().map(|a| a.node.to_string()).collect();
    nodes.sort();
    assert_eq!(nodes, ["n0", "n1"]);
    assert_eq!(e.task_counts(&"n0".into(), &"new".into()), Some((1, 1)));
}

#[test]
fn nodes_beyond_the_last_count_bucket_are_still_ranked_exactly() {
    let mut e = engine((0..3).map(node));
    e.apply(Delta::NodeUpdated(
        node(2).with_availability(Availability::Drain),
    ))
    .unwrap();
    // n0 reaches the shared last bucket first with more tasks than n1.
    for (n, count) in [("n0", 5000), ("n1", 4500)] {
        for k in 0..count {
            e.apply(Delta::TaskPlaced(PlacedTask::new(
                format!("{n}.{k}"),
                "bulk",
                n,
                0,
                0,
            )))
            .unwrap();
        }
    }
    let out = e.schedule(group("s", 1, TaskSpec::default())).unwrap();
    assert_eq!(out.assignments[0].node.as_str(), "n1");
}

fn limit_field(err: SchedError) -> String {
    match err {
        SchedError::LimitExceeded { field, .. } => field,
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

#[test]
fn u64_max_reservations_and_capacities_are_refused_with_the_field_never_a_panic() {
    let mut e = engine([node(0)]);
    // Two recorded tasks with u64::MAX CPU on one node used to overflow the node's free CPU.
    for k in 0..2 {
        let err = e
            .apply(Delta::TaskPlaced(PlacedTask::new(
                format!("huge.{k}"),
                "huge",
                "n0",
                u64::MAX,
                0,
            )))
            .unwrap_err();
        assert!(!err.is_retryable());
        assert_eq!(
            limit_field(err.clone()),
            format!("task huge.{k}: nano_cpus")
        );
        assert!(
            err.to_string().contains(&MAX_NANO_CPUS.to_string()),
            "{err}"
        );
    }
    let err = e
        .apply(Delta::TaskPlaced(PlacedTask::new(
            "m",
            "s",
            "n0",
            0,
            u64::MAX,
        )))
        .unwrap_err();
    assert_eq!(limit_field(err), "task m: memory_bytes");
    let mut g = PlacedTask::new("g", "s", "n0", 0, 0);
    g.generic.push(GenericRequest {
        kind: "gpu".into(),
        count: u64::MAX,
    });
    let err = e.apply(Delta::TaskPlaced(g)).unwrap_err();
    assert_eq!(limit_field(err), "task g: generic resource \"gpu\" count");
    // Nothing was charged by the refused deltas.
    assert_eq!(e.task_count(), 0);
    assert_eq!(
        e.free_resources(&"n0".into()),
        Some((4_000_000_000, (8 * GIB) as i64))
    );

    // Node capacities from outside: add and update.
    let mut big = NodeSpec::new("big", "big");
    big.resources.nano_cpus = u64::MAX;
    let err = e.apply(Delta::NodeAdded(big.clone())).unwrap_err();
    assert_eq!(limit_field(err), "node big: nano_cpus");
    big.resources.nano_cpus = 0;
    big.resources.memory_bytes = u64::MAX;
    assert_eq!(
        limit_field(e.apply(Delta::NodeAdded(big.clone())).unwrap_err()),
        "node big: memory_bytes"
    );
    big.resources.memory_bytes = 0;
    big = big.with_generic(GenericResource::Discrete {
        kind: "gpu".into(),
        count: u64::MAX,
    });
    assert_eq!(
        limit_field(e.apply(Delta::NodeAdded(big)).unwrap_err()),
        "node big: generic resource \"gpu\" count"
    );
    let mut n0 = node(0);
    n0.resources.nano_cpus = u64::MAX;
    assert_eq!(
        limit_field(e.apply(Delta::NodeUpdated(n0)).unwrap_err()),
        "node n0: nano_cpus"
    );
    assert_eq!(
        e.free_resources(&"n0".into()),
        Some((4_000_000_000, (8 * GIB) as i64))
    );

    // A task spec given to schedule/explain.
    let spec = TaskSpec {
        nano_cpus: u64::MAX,
        ..TaskSpec::default()
    };
    assert_eq!(
        limit_field(e.schedule(group("web", 1, spec)).unwrap_err()),
        "task spec: nano_cpus"
    );
    let spec = TaskSpec::default().with_generic("gpu", u64::MAX);
    assert_eq!(
        limit_field(e.schedule(group("web", 1, spec)).unwrap_err()),
        "task spec: generic resource \"gpu\" count"
    );
}

#[test]
fn reservations_at_the_limits_are_accounted_exactly_and_overcommit_is_bounded() {
    let mut n = NodeSpec::new("n0", "h0");
    n.resources.nano_cpus = MAX_NANO_CPUS;
    n.resources.memory_bytes = MAX_MEMORY_BYTES;
    n = n.with_generic(GenericResource::Discrete {
        kind: "gpu".into(),
        count: MAX_GENERIC_COUNT,
    });
    let mut e = engine([n.clone()]);
    let cap = (MAX_NANO_CPUS as i64, MAX_MEMORY_BYTES as i64);
    // Overcommit the node with recorded tasks at the per-task maximum until the per-node
    // bound refuses one: free goes negative but never wraps.
    let per_node_tasks = MAX_RESERVED_PER_NODE / MAX_NANO_CPUS as i64;
    let mut placed = 0i64;
    loop {
        let mut t = PlacedTask::new(
            format!("t.{placed}"),
            "s",
            "n0",
            MAX_NANO_CPUS,
            MAX_MEMORY_BYTES,
        );
        t.generic.push(GenericRequest {
            kind: "gpu".into(),
            count: MAX_GENERIC_COUNT,
        });
        match e.apply(Delta::TaskPlaced(t)) {
            Ok(()) => placed += 1,
            Err(err) => {
                assert_eq!(
                    limit_field(err),
                    format!("node n0: reserved nano_cpus with task t.{placed}")
                );
                break;
            }
        }
        assert!(placed <= per_node_tasks, "per-node bound not enforced");
    }
    assert_eq!(placed, per_node_tasks);
    let free = e.free_resources(&"n0".into()).unwrap();
    assert_eq!(free.0, cap.0 - MAX_RESERVED_PER_NODE);
    assert_eq!(free.1, cap.1 - MAX_RESERVED_PER_NODE);
    assert!(e.generic_free(&"n0".into(), "gpu").unwrap() < 0);
    // The node is full: nothing new fits, and rebalance/schedule do not overflow.
    let out = e
        .schedule(group(
            "web",
            1,
            TaskSpec::default().with_reservation(1.0, 1),
        ))
        .unwrap();
    assert!(out.assignments.is_empty());
    // Updating the node keeps the reserved amounts exactly.
    e.apply(Delta::NodeUpdated(n)).unwrap();
    assert_eq!(e.free_resources(&"n0".into()), Some(free));
    // Releasing every task restores the capacity exactly.
    for k in 0..placed {
        e.apply(Delta::TaskRemoved(format!("t.{k}").into()))
            .unwrap();
    }
    assert_eq!(e.free_resources(&"n0".into()), Some(cap));
    assert_eq!(
        e.generic_free(&"n0".into(), "gpu"),
        Some(MAX_GENERIC_COUNT as i64)
    );
}
