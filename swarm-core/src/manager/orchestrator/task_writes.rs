//! The task writes the orchestrators make: a new desired state, a create, a delete.

use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{Task, TaskState};
use std::time::SystemTime;

/// `task` with desired state `desired`, as an update at the version read; `None` when the
/// desired state would not move forward (already there or past it).
pub(crate) fn set_desired(
    task: &Task,
    desired: TaskState,
    now: SystemTime,
) -> Option<ManagerWrite> {
    if task.desired_state >= desired {
        return None;
    }
    let mut changed = task.clone();
    changed.set_desired_state(desired).ok()?;
    changed.meta.updated_at = now;
    Some(update(changed, task))
}

/// A running task asked to stop so that it moves (rebalancing): desired state `shutdown`,
/// `message` as its status message (the state is unchanged: the agent reports the stop).
/// `None` if it is already asked to stop.
pub fn set_desired_for_move(task: &Task, now: SystemTime, message: &str) -> Option<ManagerWrite> {
    if task.desired_state >= TaskState::Shutdown {
        return None;
    }
    let mut changed = task.clone();
    changed.set_desired_state(TaskState::Shutdown).ok()?;
    changed.status.message = message.to_owned();
    changed.meta.updated_at = now;
    Some(update(changed, task))
}

/// `changed` (a changed copy of `read`) as an update at the version `read` was read.
pub(crate) fn update(changed: Task, read: &Task) -> ManagerWrite {
    ManagerWrite::Task(ObjectWrite::Update {
        object: changed,
        expected_version: read.meta.version,
    })
}

/// Creates `task`.
pub(crate) fn create(task: Task) -> ManagerWrite {
    ManagerWrite::Task(ObjectWrite::Create(task))
}

/// Deletes `task` at the version read.
pub(crate) fn delete(task: &Task) -> ManagerWrite {
    ManagerWrite::Task(ObjectWrite::Delete {
        id: task.id.as_str().to_owned(),
        expected_version: task.meta.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskSpec, Version};

    #[test]
    fn desired_state_only_moves_forward_and_keeps_the_version_read() {
        let t0 = SystemTime::UNIX_EPOCH;
        let mut task = Task::new("t".into(), "s".into(), TaskSpec::default(), t0);
        task.meta.version = Version(4);
        let now = t0 + std::time::Duration::from_secs(3);
        match set_desired(&task, TaskState::Shutdown, now) {
            Some(ManagerWrite::Task(ObjectWrite::Update {
                object,
                expected_version,
            })) => {
                assert_eq!(object.desired_state, TaskState::Shutdown);
                assert_eq!(object.meta.updated_at, now);
                assert_eq!(expected_version, Version(4));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(set_desired(&task, TaskState::Running, now), None);
        task.desired_state = TaskState::Remove;
        assert_eq!(set_desired(&task, TaskState::Shutdown, now), None);
    }
}
