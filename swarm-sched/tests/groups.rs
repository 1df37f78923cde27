//! Behaviour tests of task groups: batching pending tasks, tasks already placed.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use support::*;
use swarm_sched::*;

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
