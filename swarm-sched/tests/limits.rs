//! Behaviour tests of the input limits: spec limits, amounts past their bound refused with the
//! field, exact accounting at the bounds.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;
use swarm_sched::*;

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
