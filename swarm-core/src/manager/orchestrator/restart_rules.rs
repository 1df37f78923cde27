//! The restart policy's rules for one ended task, from the state alone.

use crate::model::{RestartCondition, Task, TaskState};
use std::time::SystemTime;

/// Whether the restart policy of `task` (ended, live) allows a replacement, given `slot`, the
/// tasks of its slot oldest first (including `task`).
///
/// * Condition `none`: never. `on-failure`: unless the task completed. `any`: always, except
///   for a job task that completed (a finished job is never run again).
/// * `max_attempts` (0: unlimited): the restarts already made for the slot must be fewer.
///   They are counted from the slot's tasks with the same spec version (a changed spec
///   starts afresh, as SwarmKit clears its history): every such task created no later than
///   `task` ended, and after `task` ended minus `window` when a window is set, except the
///   slot's first such task, which was no restart.
pub(crate) fn restart_allowed(task: &Task, slot: &[&Task], job: bool) -> bool {
    let policy = &task.spec.restart_policy;
    let completed = task.status.state == TaskState::Complete;
    let condition_allows = match policy.condition {
        RestartCondition::None => false,
        RestartCondition::OnFailure => !completed,
        RestartCondition::Any => !(job && completed),
    };
    if !condition_allows {
        return false;
    }
    if policy.max_attempts == 0 {
        return true;
    }
    restarts_made(task, slot) < policy.max_attempts
}

/// The restarts counted against `task`'s `max_attempts` (see [`restart_allowed`]).
fn restarts_made(task: &Task, slot: &[&Task]) -> u64 {
    let ended = task.status.timestamp;
    let window = task.spec.restart_policy.window;
    let since = if window.is_zero() {
        None
    } else {
        ended.checked_sub(window)
    };
    let made = slot
        .iter()
        .filter(|t| t.spec_version == task.spec_version)
        .skip(1)
        .filter(|t| t.meta.created_at <= ended && since.is_none_or(|s| t.meta.created_at > s))
        .count();
    u64::try_from(made).unwrap_or(u64::MAX)
}

/// When a replacement for `task` (ended) may be created: its status time plus its restart
/// delay; `None` if that time is not representable (it never comes).
pub(crate) fn restart_at(task: &Task) -> Option<SystemTime> {
    task.status
        .timestamp
        .checked_add(task.spec.restart_policy.delay)
}

/// How many tasks of `slot` the reaper keeps: the cluster's retention `limit`, but at least
/// `max_attempts + 1` (so restart attempts can still be counted, as SwarmKit keeps them) and
/// at least one.
pub(crate) fn tasks_kept(limit: u64, slot: &[&Task]) -> u64 {
    let attempts = slot
        .iter()
        .map(|t| t.spec.restart_policy.max_attempts)
        .max()
        .unwrap_or(0);
    let for_attempts = if attempts == 0 {
        0
    } else {
        attempts.saturating_add(1)
    };
    limit.max(for_attempts).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RestartPolicy, TaskStatus};
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn task(id: &str, created: u64, policy: &RestartPolicy) -> Task {
        let mut t = Task::new(id.into(), "s".into(), Default::default(), at(created));
        t.spec.restart_policy = policy.clone();
        t.slot = Some(1);
        t
    }

    fn ended(mut t: Task, state: TaskState, secs: u64) -> Task {
        t.status = TaskStatus::new(state, at(secs), "");
        t
    }

    #[test]
    fn conditions() {
        let mut policy = RestartPolicy::default();
        let failed = ended(task("a", 0, &policy), TaskState::Failed, 5);
        let done = ended(task("a", 0, &policy), TaskState::Complete, 5);
        assert!(restart_allowed(&done, &[&done], false));
        assert!(!restart_allowed(&done, &[&done], true));
        assert!(restart_allowed(&failed, &[&failed], true));
        policy.condition = RestartCondition::OnFailure;
        let failed = ended(task("a", 0, &policy), TaskState::Failed, 5);
        let done = ended(task("a", 0, &policy), TaskState::Complete, 5);
        assert!(!restart_allowed(&done, &[&done], false));
        assert!(restart_allowed(&failed, &[&failed], false));
        policy.condition = RestartCondition::None;
        let failed = ended(task("a", 0, &policy), TaskState::Failed, 5);
        assert!(!restart_allowed(&failed, &[&failed], false));
        assert_eq!(restart_at(&failed), Some(at(5) + policy.delay));
    }

    #[test]
    fn max_attempts_count_the_slot_history_in_the_window() {
        let policy = RestartPolicy {
            max_attempts: 2,
            ..RestartPolicy::default()
        };
        let t0 = task("t0", 0, &policy);
        let t1 = task("t1", 10, &policy);
        let t2 = ended(task("t2", 20, &policy), TaskState::Failed, 30);
        // t1 and t2 were restarts: two made, none left.
        assert!(!restart_allowed(&t2, &[&t0, &t1, &t2], false));
        let t1_failed = ended(t1.clone(), TaskState::Failed, 15);
        assert!(restart_allowed(&t1_failed, &[&t0, &t1_failed], false));
        // A changed spec starts afresh.
        let mut t2_new_spec = t2.clone();
        t2_new_spec.spec_version = 2;
        assert!(restart_allowed(
            &t2_new_spec,
            &[&t0, &t1, &t2_new_spec],
            false
        ));
        // With a 15 s window only restarts created after 30 - 15 = 15 s count: t2 alone.
        let windowed = RestartPolicy {
            window: Duration::from_secs(15),
            ..policy
        };
        let mut t2_windowed = t2.clone();
        t2_windowed.spec.restart_policy = windowed;
        assert!(restart_allowed(
            &t2_windowed,
            &[&t0, &t1, &t2_windowed],
            false
        ));
    }

    #[test]
    fn kept_history_covers_the_attempts() {
        let unlimited = task("a", 0, &RestartPolicy::default());
        assert_eq!(tasks_kept(5, &[&unlimited]), 5);
        assert_eq!(tasks_kept(0, &[&unlimited]), 1);
        let limited = task(
            "b",
            0,
            &RestartPolicy {
                max_attempts: 7,
                ..RestartPolicy::default()
            },
        );
        assert_eq!(tasks_kept(5, &[&unlimited, &limited]), 8);
    }
}
