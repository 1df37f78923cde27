//! Behaviour tests of deltas: reservations charged and released, node updates and removals,
//! service removal, typed errors.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;
use swarm_sched::*;

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
fn engine_and_outcomes_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    send_sync::<GroupOutcome>();
    send_sync::<Delta>();
    send_sync::<SchedError>();
}
