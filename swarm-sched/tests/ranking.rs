//! Behaviour tests of ranking: spread (with and without preferences), binpack, recent failures,
//! determinism.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;
use swarm_sched::*;

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
        // Failures count per spec version: these are of version 1, the version placed below.
        e.apply(Delta::TaskPlaced(
            PlacedTask::new(id.as_str(), "s", "n0", 0, 0).with_spec_version(1),
        ))
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

/// SwarmKit counts every task of the service on every node of a branch, whether or not the
/// node passes the filters: rack a already holds 10 tasks (on a paused node), so all 10 new
/// tasks go to rack b (total 20, 10 per rack), none to rack a's active node.
#[test]
fn spread_preference_counts_tasks_on_nodes_that_fail_the_filters() {
    let nodes = vec![
        node(0).with_label("rack", "a"),
        node(1).with_label("rack", "a"),
        node(2).with_label("rack", "b"),
    ];
    let mut e = engine(nodes);
    for k in 0..10 {
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            format!("old.{k}"),
            "s",
            "n0",
            0,
            0,
        )))
        .unwrap();
    }
    e.apply(Delta::NodeUpdated(
        node(0)
            .with_label("rack", "a")
            .with_availability(Availability::Pause),
    ))
    .unwrap();
    let spec = TaskSpec::default().with_preference(SpreadPreference::node_label("rack"));
    let out = e.schedule(group("s", 10, spec.clone())).unwrap();
    let m = per_node(&out);
    assert_eq!(m.get("n1"), None, "rack a already holds 10 tasks");
    assert_eq!(m["n2"], 10);
    // A constraint that excludes rack a entirely changes nothing either: rack b still gets
    // what the division gives it.
    let spec = spec.with_constraint(c("node.labels.rack==b"));
    let out = e.schedule(group("t", 4, spec)).unwrap();
    assert_eq!(per_node(&out)["n2"], 4);
}

/// SwarmKit keys recent failures by service and spec version: an update (a new spec
/// version) is not kept off a node where the old version failed, the old version still is.
#[test]
fn failure_penalty_is_per_service_and_spec_version() {
    let mut e = engine([node(0)]);
    e.set_now_ms(1_000);
    let out = e.schedule(group("s", 5, TaskSpec::default())).unwrap();
    for a in &out.assignments {
        e.apply(Delta::TaskFinished {
            task: a.task.clone(),
            failed_at_ms: Some(1_000),
        })
        .unwrap();
    }
    // n1 runs a task of another service: with no penalty n0 (0 tasks) ranks first.
    e.apply(Delta::NodeAdded(node(1))).unwrap();
    e.apply(Delta::TaskPlaced(PlacedTask::new("x", "other", "n1", 0, 0)))
        .unwrap();
    let v2 = e
        .schedule(TaskGroup {
            spec_version: 2,
            tasks: vec!["s.v2".into()],
            ..group("s", 0, TaskSpec::default())
        })
        .unwrap();
    assert_eq!(
        v2.assignments[0].node.as_str(),
        "n0",
        "version 2 never failed"
    );
    e.apply(Delta::TaskRemoved("s.v2".into())).unwrap();
    let v1 = e
        .schedule(TaskGroup {
            spec_version: 1,
            tasks: vec!["s.v1".into()],
            ..group("s", 0, TaskSpec::default())
        })
        .unwrap();
    assert_eq!(
        v1.assignments[0].node.as_str(),
        "n1",
        "version 1 failed 5 times on n0"
    );
}
