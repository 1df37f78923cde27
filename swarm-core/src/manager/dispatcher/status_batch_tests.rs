//! A node's status reports: only its own tasks, only legal moves, one write per task.

use super::*;
use crate::model::{TaskSpec, Version};
use std::time::Duration;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn task(id: &str, node: Option<&str>, state: TaskState) -> Task {
    let mut t = Task::new(id.into(), "svc".into(), TaskSpec::default(), at(0));
    t.node_id = node.map(NodeId::new);
    t.status = TaskStatus::new(state, at(1), "assigned");
    t.meta.version = Version(5);
    t
}

fn state() -> ClusterState {
    let mut s = ClusterState::new();
    s.put_task(task("t1", Some("w1"), TaskState::Assigned));
    s.put_task(task("t2", Some("w1"), TaskState::Running));
    s.put_task(task("t3", Some("w2"), TaskState::Assigned));
    s.put_task(task("t4", None, TaskState::Pending));
    s
}

fn report(id: &str, state: TaskState, secs: u64) -> (TaskId, TaskStatus) {
    (id.into(), TaskStatus::new(state, at(secs), state.as_str()))
}

fn written(batch: &StatusBatch) -> Vec<(String, TaskState, Version)> {
    batch
        .writes
        .iter()
        .map(|w| match w {
            ManagerWrite::Task(ObjectWrite::Update {
                object,
                expected_version,
            }) => (
                object.id.to_string(),
                object.status.state,
                *expected_version,
            ),
            other => panic!("unexpected write {other:?}"),
        })
        .collect()
}

#[test]
fn reports_of_the_node_become_one_write_per_task_at_the_version_read() {
    let s = state();
    let updates = [
        report("t1", TaskState::Accepted, 2),
        report("t1", TaskState::Preparing, 3),
        report("t1", TaskState::Running, 4),
        report("t2", TaskState::Complete, 5),
    ];
    let batch = status_writes(&s, &"w1".into(), &updates, at(9));
    assert_eq!(
        written(&batch),
        [
            ("t1".to_owned(), TaskState::Running, Version(5)),
            ("t2".to_owned(), TaskState::Complete, Version(5)),
        ]
    );
    assert!(batch.refused.is_empty());
    let ManagerWrite::Task(ObjectWrite::Update { object, .. }) = &batch.writes[0] else {
        unreachable!()
    };
    assert_eq!(object.meta.updated_at, at(9));
    assert_eq!(object.status.timestamp, at(4));
    // The writes apply to the state as the store will.
    let mut applied = s.clone();
    applied.apply(&batch.writes).unwrap();
    assert_eq!(
        applied.task(&"t1".into()).unwrap().status.state,
        TaskState::Running
    );
}

#[test]
fn another_nodes_task_and_unknown_tasks_are_refused_by_name() {
    let s = state();
    let updates = [
        report("t3", TaskState::Running, 2),
        report("t4", TaskState::Running, 2),
        report("nope", TaskState::Running, 2),
        report("t1", TaskState::Running, 2),
    ];
    let batch = status_writes(&s, &"w1".into(), &updates, at(9));
    let messages: Vec<String> = batch.refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "node w1 reported task t3, which is not assigned to it",
            "node w1 reported task t4, which is not assigned to it",
            "node w1 reported task nope, which does not exist",
        ]
    );
    assert_eq!(batch.refused[0].task().as_str(), "t3");
    // The node's own report still applies.
    assert_eq!(written(&batch).len(), 1);
}

#[test]
fn illegal_transitions_are_refused_and_the_legal_ones_kept() {
    let s = state();
    let updates = [
        report("t2", TaskState::Accepted, 2), // backward from running
        report("t1", TaskState::Failed, 3),
        report("t1", TaskState::Running, 4), // after a terminal state
        report("t2", TaskState::Remove, 5),  // desired-only state
    ];
    let batch = status_writes(&s, &"w1".into(), &updates, at(9));
    let messages: Vec<String> = batch.refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "node w1 reported task t2 accepted, which cannot follow running",
            "node w1 reported task t1 running, which cannot follow failed",
            "node w1 reported task t2 remove, which cannot follow running",
        ]
    );
    assert_eq!(
        written(&batch),
        [("t1".to_owned(), TaskState::Failed, Version(5))]
    );
}

#[test]
fn a_report_sent_again_writes_nothing() {
    let mut s = state();
    let mut t1 = s.task(&"t1".into()).unwrap().clone();
    let running = TaskStatus::new(TaskState::Running, at(4), "started");
    t1.status = running.clone();
    s.put_task(t1);
    let batch = status_writes(&s, &"w1".into(), &[("t1".into(), running)], at(9));
    assert!(batch.writes.is_empty());
    assert!(batch.refused.is_empty());
    assert_eq!(batch.unchanged, 1);
    // A new message in the same state is a refresh, written.
    let refreshed = TaskStatus::new(TaskState::Running, at(5), "healthy");
    let batch = status_writes(&s, &"w1".into(), &[("t1".into(), refreshed)], at(9));
    assert_eq!(written(&batch).len(), 1);
}
