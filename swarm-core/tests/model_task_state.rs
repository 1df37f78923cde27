//! The task state machine: forward only, terminal is final, `remove` is never observed.

use proptest::prelude::*;
use std::time::{Duration, SystemTime};
use swarm_core::model::{Task, TaskSpec, TaskState, TaskStatus, TransitionError};

const TERMINAL: [TaskState; 5] = [
    TaskState::Complete,
    TaskState::Shutdown,
    TaskState::Failed,
    TaskState::Rejected,
    TaskState::Orphaned,
];

#[test]
fn the_states_are_ordered_as_swarmkit() {
    let names: Vec<&str> = TaskState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "new",
            "pending",
            "assigned",
            "accepted",
            "preparing",
            "ready",
            "starting",
            "running",
            "complete",
            "shutdown",
            "failed",
            "rejected",
            "remove",
            "orphaned"
        ]
    );
    assert!(TaskState::ALL.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(TaskState::Running as u16, 512);
    assert_eq!(TaskState::Orphaned as u16, 832);
    for s in TaskState::ALL {
        assert_eq!(s.as_str().parse::<TaskState>(), Ok(s));
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }
    assert_eq!(
        "runing".parse::<TaskState>().unwrap_err().to_string(),
        r#"unknown task state "runing""#
    );
}

#[test]
fn terminal_states() {
    for s in TaskState::ALL {
        let expected = TERMINAL.contains(&s) || s == TaskState::Remove;
        assert_eq!(s.is_terminal(), expected, "{s}");
    }
    assert!(!TaskState::Remove.is_observable());
}

#[test]
fn the_transition_table() {
    // Exhaustive: legal exactly when from is live, to is later and observable.
    for from in TaskState::ALL {
        for to in TaskState::ALL {
            let legal = !TERMINAL.contains(&from)
                && from != TaskState::Remove
                && to > from
                && to != TaskState::Remove;
            assert_eq!(from.can_transition_to(to), legal, "{from} -> {to}");
        }
    }
    // Every live state may fail, be shut down or be orphaned.
    for from in &TaskState::ALL[..8] {
        for to in TERMINAL {
            assert!(from.can_transition_to(to), "{from} -> {to}");
        }
    }
}

#[test]
fn illegal_transitions_say_why() {
    assert_eq!(
        TaskState::Running.transition_to(TaskState::Pending),
        Err(TransitionError::Backward {
            from: TaskState::Running,
            to: TaskState::Pending
        })
    );
    assert_eq!(
        TaskState::Running
            .transition_to(TaskState::Running)
            .unwrap_err()
            .to_string(),
        "task state cannot move backward from running to running"
    );
    assert_eq!(
        TaskState::Failed
            .transition_to(TaskState::Orphaned)
            .unwrap_err()
            .to_string(),
        "task state failed is terminal and cannot change to orphaned"
    );
    let e = TaskState::Running
        .transition_to(TaskState::Remove)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "task state remove is a desired state only and is never observed"
    );
    assert!(!e.is_retryable());
}

#[test]
fn desired_states() {
    let desirable: Vec<TaskState> = TaskState::ALL
        .into_iter()
        .filter(|s| s.is_desirable())
        .collect();
    assert_eq!(
        desirable,
        [
            TaskState::Ready,
            TaskState::Running,
            TaskState::Complete,
            TaskState::Shutdown,
            TaskState::Remove
        ]
    );
    assert_eq!(
        TaskState::Running.desired_transition_to(TaskState::Shutdown),
        Ok(TaskState::Shutdown)
    );
    assert_eq!(
        TaskState::Running.desired_transition_to(TaskState::Running),
        Ok(TaskState::Running)
    );
    assert_eq!(
        TaskState::Shutdown
            .desired_transition_to(TaskState::Running)
            .unwrap_err()
            .to_string(),
        "task state cannot move backward from shutdown to running"
    );
    assert_eq!(
        TaskState::Running
            .desired_transition_to(TaskState::Failed)
            .unwrap_err()
            .to_string(),
        "task state failed cannot be a desired state (use ready, running, complete, shutdown or remove)"
    );
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

#[test]
fn a_task_records_only_legal_status_changes() {
    let mut task = Task::new("t1".into(), "svc".into(), TaskSpec::default(), at(0));
    assert_eq!(task.status.state, TaskState::New);
    assert_eq!(task.desired_state, TaskState::Running);
    task.update_status(TaskStatus::new(TaskState::Assigned, at(1), "assigned"))
        .unwrap();
    // Same state: the message is refreshed.
    task.update_status(TaskStatus::new(
        TaskState::Assigned,
        at(2),
        "assigned to n1",
    ))
    .unwrap();
    assert_eq!(task.status.message, "assigned to n1");
    let before = task.clone();
    assert!(
        task.update_status(TaskStatus::new(TaskState::Pending, at(3), "back"))
            .is_err()
    );
    assert!(
        task.update_status(TaskStatus::new(TaskState::Remove, at(3), ""))
            .is_err()
    );
    assert_eq!(task, before, "a refused status leaves the task unchanged");
    let mut exited = TaskStatus::new(TaskState::Failed, at(4), "exited");
    exited.exit_code = Some(137);
    exited.err = Some("task: non-zero exit (137)".into());
    task.update_status(exited).unwrap();
    assert_eq!(task.status.exit_code, Some(137));
    assert!(
        task.update_status(TaskStatus::new(TaskState::Running, at(5), ""))
            .is_err()
    );
    task.set_desired_state(TaskState::Shutdown).unwrap();
    assert!(task.set_desired_state(TaskState::Running).is_err());
    task.set_desired_state(TaskState::Remove).unwrap();
    assert_eq!(task.desired_state, TaskState::Remove);
}

fn any_state() -> impl Strategy<Value = TaskState> {
    (0..TaskState::ALL.len()).prop_map(|i| TaskState::ALL[i])
}

proptest! {
    /// Apply a random sequence of attempted updates to a task: whatever is accepted, the
    /// observed state never moves backward, never leaves a terminal state and is never `remove`.
    #[test]
    fn observed_state_only_moves_forward(attempts in prop::collection::vec(any_state(), 0..64)) {
        let mut task = Task::new("t".into(), "s".into(), TaskSpec::default(), at(0));
        let mut history = vec![task.status.state];
        for (i, next) in attempts.into_iter().enumerate() {
            let current = task.status.state;
            let result = task.update_status(TaskStatus::new(next, at(i as u64 + 1), ""));
            let state = task.status.state;
            prop_assert!(state != TaskState::Remove);
            prop_assert!(state >= current);
            if current.is_terminal() {
                prop_assert_eq!(state, current);
            }
            if next != current {
                prop_assert_eq!(result.is_ok(), current.can_transition_to(next));
            }
            if result.is_err() {
                prop_assert_eq!(state, current);
            }
            history.push(state);
        }
        prop_assert!(history.windows(2).all(|w| w[0] <= w[1]));
        let terminals = history.iter().filter(|s| s.is_terminal()).collect::<std::collections::BTreeSet<_>>();
        prop_assert!(terminals.len() <= 1, "reached two terminal states: {:?}", terminals);
    }

    /// The desired state also only moves forward and only over desirable states.
    #[test]
    fn desired_state_only_moves_forward(attempts in prop::collection::vec(any_state(), 0..32)) {
        let mut task = Task::new("t".into(), "s".into(), TaskSpec::default(), at(0));
        for next in attempts {
            let before = task.desired_state;
            let accepted = task.set_desired_state(next).is_ok();
            prop_assert_eq!(accepted, next.is_desirable() && next >= before);
            prop_assert!(task.desired_state >= before);
            prop_assert!(task.desired_state.is_desirable());
        }
    }

    /// can_transition_to agrees with transition_to and with the ordering.
    #[test]
    fn legal_moves_go_strictly_forward(from in any_state(), to in any_state()) {
        prop_assert_eq!(from.can_transition_to(to), from.transition_to(to).is_ok());
        if from.can_transition_to(to) {
            prop_assert!(to > from);
            prop_assert!(!from.is_terminal());
            prop_assert!(to.is_observable());
        }
    }
}
