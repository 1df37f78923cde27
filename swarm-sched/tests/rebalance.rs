//! Behaviour tests of the rebalance planner.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;
use swarm_sched::*;

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

/// Two levels (datacenter, then rack) with racks of different sizes: a move between
/// datacenters goes from the most loaded rack to the least loaded one, so no move has to be
/// corrected at the rack level afterwards. Every task moves at most once, no node both gives
/// and receives, and the plan has exactly the minimum number of moves.
#[test]
fn rebalance_moves_are_level_aware_with_no_wasted_moves() {
    // dc1: r1 = n0 n1, r2 = n2 n3; dc2: r3 = n4 n5 n6, r4 = n7.
    let racks = ["r1", "r1", "r2", "r2", "r3", "r3", "r3", "r4"];
    let nodes = (0..8).map(|i| {
        node(i)
            .with_label("dc", if i < 4 { "dc1" } else { "dc2" })
            .with_label("rack", racks[i])
    });
    let mut e = engine(nodes);
    for k in 0..24 {
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            format!("t{k:02}"),
            "s",
            if k % 2 == 0 { "n0" } else { "n1" },
            0,
            0,
        )))
        .unwrap();
    }
    let spec = TaskSpec::default()
        .with_preference(SpreadPreference::node_label("dc"))
        .with_preference(SpreadPreference::node_label("rack"));
    let moves = e.plan_rebalance(&"s".into(), &spec, 100).unwrap();
    // Target: 12 per dc, 6 per rack, even inside a rack: n0 and n1 keep 3 each.
    assert_eq!(moves.len(), 18, "{moves:?}");
    let tasks: std::collections::BTreeSet<_> = moves.iter().map(|m| &m.task).collect();
    assert_eq!(tasks.len(), moves.len(), "a task moved twice");
    for m in &moves {
        assert!(
            moves.iter().all(|o| o.to != m.from),
            "{} both gives and receives",
            m.from
        );
    }
    for m in &moves {
        e.apply(Delta::TaskRemoved(m.task.clone())).unwrap();
        e.apply(Delta::TaskPlaced(PlacedTask::new(
            m.task.clone(),
            "s",
            m.to.clone(),
            0,
            0,
        )))
        .unwrap();
    }
    let count = |i: usize| {
        e.task_counts(&format!("n{i}").into(), &"s".into())
            .unwrap()
            .1
    };
    let per_rack = |r: &str| (0..8).filter(|&i| racks[i] == r).map(count).sum::<u32>();
    assert_eq!(
        ["r1", "r2", "r3", "r4"].map(per_rack),
        [6, 6, 6, 6],
        "per rack"
    );
    assert_eq!(
        (0..8).map(count).collect::<Vec<_>>(),
        [3, 3, 3, 3, 2, 2, 2, 6]
    );
    assert!(
        e.plan_rebalance(&"s".into(), &spec, 100)
            .unwrap()
            .is_empty()
    );
}
