//! The worker's decisions: start, stop, remove, reject, lost tasks, and items to drop.

use super::*;
use crate::model::{FileTarget, SecretReference, TaskSpec, Version};
use std::time::Duration;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(100)
}

fn task(id: &str, state: TaskState, desired: TaskState, secrets: &[&str]) -> Task {
    let mut spec = TaskSpec::default();
    spec.container.secrets = secrets
        .iter()
        .map(|s| SecretReference {
            secret_id: (*s).into(),
            secret_name: (*s).into(),
            target: FileTarget::new(*s),
        })
        .collect();
    let mut t = Task::new(id.into(), "svc".into(), spec, SystemTime::UNIX_EPOCH);
    t.status.state = state;
    t.desired_state = desired;
    t
}

fn secret(id: &str) -> ItemId {
    ItemId::Secret(id.into())
}

fn none() -> (BTreeSet<ItemId>, BTreeMap<ItemId, String>) {
    (BTreeSet::new(), BTreeMap::new())
}

fn started(actions: &[WorkerAction]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            WorkerAction::Start { task } => Some(task.id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn new_assigned_tasks_start_once_their_secrets_are_held() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    let set = [
        task("t1", TaskState::Assigned, TaskState::Running, &[]),
        task("t2", TaskState::Assigned, TaskState::Complete, &["s1"]),
        task("t3", TaskState::Assigned, TaskState::Ready, &[]),
    ];
    let actions = w.assign(&set, &held, &unavailable, now());
    // t2 waits for s1.
    assert_eq!(started(&actions), ["t1", "t3"]);
    assert_eq!(actions.len(), 2);
    let held = BTreeSet::from([secret("s1")]);
    let actions = w.assign(&set, &held, &unavailable, now());
    assert_eq!(started(&actions), ["t2"]);
    assert!(w.assign(&set, &held, &unavailable, now()).is_empty());
}

#[test]
fn a_task_whose_secret_cannot_be_delivered_is_rejected_with_the_reason() {
    let mut w = Worker::new();
    let held = BTreeSet::new();
    let unavailable = BTreeMap::from([(secret("s1"), "secret s1 does not exist".to_owned())]);
    let set = [task("t1", TaskState::Assigned, TaskState::Running, &["s1"])];
    let actions = w.assign(&set, &held, &unavailable, now());
    let [WorkerAction::Report { task, status }] = &actions[..] else {
        panic!("{actions:?}")
    };
    assert_eq!(task.as_str(), "t1");
    assert_eq!(status.state, TaskState::Rejected);
    assert_eq!(status.err.as_deref(), Some("secret s1 does not exist"));
    // Reported once.
    assert!(w.assign(&set, &held, &unavailable, now()).is_empty());
}

#[test]
fn a_desired_shutdown_stops_a_started_task_and_reports_one_never_started() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    let running = task("t1", TaskState::Assigned, TaskState::Running, &[]);
    w.assign(std::slice::from_ref(&running), &held, &unavailable, now());
    w.observe(&"t1".into(), TaskState::Running);
    assert_eq!(w.running(), [TaskId::new("t1")]);

    let mut stop = running.clone();
    stop.desired_state = TaskState::Shutdown;
    stop.status.state = TaskState::Running;
    let never = task("t2", TaskState::Assigned, TaskState::Shutdown, &[]);
    let actions = w.assign(&[stop.clone(), never.clone()], &held, &unavailable, now());
    assert_eq!(
        actions[0],
        WorkerAction::SetDesired {
            task: "t1".into(),
            desired: TaskState::Shutdown
        }
    );
    let WorkerAction::Report { task, status } = &actions[1] else {
        panic!("{actions:?}")
    };
    assert_eq!(task.as_str(), "t2");
    assert_eq!(status.state, TaskState::Shutdown);
    assert_eq!(actions.len(), 2);
    // Nothing twice; the desired state never moves back.
    assert!(
        w.assign(&[stop.clone(), never], &held, &unavailable, now())
            .is_empty()
    );
    assert!(w.assign(&[running], &held, &unavailable, now()).is_empty());
}

#[test]
fn a_ready_task_is_told_to_run_when_its_desired_state_moves() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    let mut t = task("t1", TaskState::Assigned, TaskState::Ready, &[]);
    assert_eq!(
        started(&w.assign(&[t.clone()], &held, &unavailable, now())),
        ["t1"]
    );
    t.desired_state = TaskState::Running;
    assert_eq!(
        w.assign(&[t], &held, &unavailable, now()),
        [WorkerAction::SetDesired {
            task: "t1".into(),
            desired: TaskState::Running
        }]
    );
}

#[test]
fn tasks_leaving_the_set_are_removed_once() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    let t1 = task("t1", TaskState::Assigned, TaskState::Running, &[]);
    let t2 = task("t2", TaskState::Assigned, TaskState::Shutdown, &[]);
    w.assign(&[t1, t2], &held, &unavailable, now());
    assert_eq!(w.tracked(), 2);
    let actions = w.assign(&[], &held, &unavailable, now());
    // t1 had a controller: removed; t2 only had a report: forgotten.
    assert_eq!(actions, [WorkerAction::Remove { task: "t1".into() }]);
    assert_eq!(w.tracked(), 1);
    assert!(w.assign(&[], &held, &unavailable, now()).is_empty());
    w.removed(&"t1".into());
    assert_eq!(w.tracked(), 0);
}

#[test]
fn ended_tasks_are_left_alone_and_lost_ones_reported_failed() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    let set = [
        task("done", TaskState::Complete, TaskState::Running, &[]),
        task("lost", TaskState::Running, TaskState::Running, &[]),
    ];
    let actions = w.assign(&set, &held, &unavailable, now());
    let [WorkerAction::Report { task, status }] = &actions[..] else {
        panic!("{actions:?}")
    };
    assert_eq!(task.as_str(), "lost");
    assert_eq!(status.state, TaskState::Failed);
    assert_eq!(status.err.as_deref(), Some(MESSAGE_TASK_LOST));
    assert!(TaskState::Running.can_transition_to(status.state));
}

#[test]
fn observations_only_move_forward() {
    let mut w = Worker::new();
    let (held, unavailable) = none();
    w.assign(
        &[task("t1", TaskState::Assigned, TaskState::Running, &[])],
        &held,
        &unavailable,
        now(),
    );
    w.observe(&"t1".into(), TaskState::Running);
    w.observe(&"t1".into(), TaskState::Starting);
    assert_eq!(w.running(), [TaskId::new("t1")]);
    w.observe(&"t1".into(), TaskState::Complete);
    assert!(w.running().is_empty());
}

#[test]
fn items_not_kept_at_their_version_are_dropped() {
    let held = BTreeMap::from([
        (secret("s1"), Version(3)),
        (secret("s2"), Version(1)),
        (ItemId::Config("c1".into()), Version(4)),
    ]);
    let keep = [
        HeldItem {
            item: secret("s1"),
            version: Version(3),
        },
        HeldItem {
            item: secret("s2"),
            version: Version(2),
        },
    ];
    assert_eq!(
        items_to_drop(&held, &keep),
        [secret("s2"), ItemId::Config("c1".into())]
    );
}
