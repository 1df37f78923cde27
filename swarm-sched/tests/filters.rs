//! Behaviour tests of every filter (availability, platform, constraints, generic resources,
//! host ports) and of the per-filter reasons of an unschedulable group.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;
use swarm_sched::*;

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
        "no suitable node (5 nodes fail constraint node.labels.zone==eu; 3 nodes lack 512 MiB memory; 2 nodes not available for new tasks)"
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

/// SwarmKit's resource filter is on as soon as a task reserves anything (CPU, memory or a
/// generic resource), and then refuses a node whose free CPU or memory is below the
/// reservation, zero included: an over-committed node (free < 0) takes no task that
/// reserves something. A task that reserves nothing skips the filter.
#[test]
fn resource_filter_refuses_over_committed_nodes_for_any_reserving_task() {
    let mut e = engine([node(0), node(1).with_capacity(4.0, GIB)]);
    e.apply(Delta::TaskPlaced(PlacedTask::new(
        "big",
        "x",
        "n0",
        2_000_000_000,
        GIB,
    )))
    .unwrap();
    e.apply(Delta::TaskPlaced(PlacedTask::new(
        "fill", "x", "n1", 0, GIB,
    )))
    .unwrap();
    // n0's CPU and n1's memory shrink below what is reserved there.
    e.apply(Delta::NodeUpdated(node(0).with_capacity(1.0, 8 * GIB)))
        .unwrap();
    e.apply(Delta::NodeUpdated(node(1).with_capacity(4.0, GIB / 2)))
        .unwrap();
    assert_eq!(e.free_resources(&"n0".into()).unwrap().0, -1_000_000_000);
    assert_eq!(
        e.free_resources(&"n1".into()).unwrap().1,
        -((GIB / 2) as i64)
    );
    let memory_only = TaskSpec::default().with_reservation(0.0, MIB);
    let out = e.schedule(group("m", 1, memory_only.clone())).unwrap();
    assert!(
        out.assignments.is_empty(),
        "placed on an over-committed node"
    );
    let v = e.explain(&"m".into(), &memory_only).unwrap();
    assert_eq!(v[0].rejection, Some(Rejection::Cpu));
    assert_eq!(v[0].to_string(), "n0: has CPU over-committed");
    let cpu_only = TaskSpec::default().with_reservation(0.5, 0);
    let v = e.explain(&"c".into(), &cpu_only).unwrap();
    assert_eq!(v[0].to_string(), "n0: lacks 0.5 CPU");
    assert_eq!(v[1].rejection, Some(Rejection::Memory));
    assert_eq!(v[1].to_string(), "n1: has memory over-committed");
    // A generic request of 0 units still turns the filter on, and needs one free unit of
    // the kind (SwarmKit drops a used-up kind from the node's free list).
    let zero_gpu = TaskSpec::default().with_generic("gpu", 0);
    let v = e.explain(&"g".into(), &zero_gpu).unwrap();
    assert_eq!(v[0].rejection, Some(Rejection::Cpu));
    let gpu = GenericResource::Named {
        kind: "gpu".into(),
        value: "GPU-0".into(),
    };
    let other = engine([node(0), node(1).with_generic(gpu)]);
    let v = other.explain(&"g".into(), &zero_gpu).unwrap();
    assert_eq!(v[0].to_string(), "n0: has no free gpu");
    assert_eq!(v[1].rejection, None);
    // Nothing reserved: the filter is off, as in SwarmKit.
    let out = e.schedule(group("free", 2, TaskSpec::default())).unwrap();
    assert_eq!(out.assignments.len(), 2);
}

/// Users scan an explanation for its first reason, so reasons come most frequent first,
/// ties in filter order (SwarmKit sorts by failure count too).
#[test]
fn explanations_list_the_most_frequent_reason_first() {
    let mut nodes = vec![node(0).with_availability(Availability::Drain)];
    for i in 1..4 {
        nodes.push(node(i).with_capacity(0.5, GIB));
    }
    for i in 4..6 {
        nodes.push(node(i).with_label("zone", "us"));
    }
    nodes.push(node(6).with_availability(Availability::Pause));
    let mut e = engine(nodes);
    let spec = TaskSpec::default()
        .with_reservation(1.0, MIB)
        .with_constraint(c("node.labels.zone!=us"));
    let out = e.schedule(group("s", 1, spec)).unwrap();
    let r = out.reason.unwrap();
    assert_eq!(
        r.rejections.iter().map(|x| x.rejection).collect::<Vec<_>>(),
        [
            Rejection::Cpu,
            Rejection::NotAvailable,
            Rejection::Constraint(0)
        ]
    );
    assert_eq!(
        r.to_string(),
        "no suitable node (3 nodes lack 1 CPU; 2 nodes not available for new tasks; 2 nodes fail constraint node.labels.zone!=us)"
    );
}
