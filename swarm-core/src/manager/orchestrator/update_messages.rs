//! The messages of a service's update status, as SwarmKit writes them (the docker CLI
//! prints them).

/// An update started replacing tasks.
pub const UPDATE_IN_PROGRESS_MESSAGE: &str = "update in progress";
/// Every task runs the new spec and none failed in the monitor window.
pub const UPDATE_COMPLETED_MESSAGE: &str = "update completed";
/// Every task runs the previous spec again.
pub const ROLLBACK_COMPLETED_MESSAGE: &str = "rollback completed";
/// `service rollback` was asked for.
pub const MANUAL_ROLLBACK_MESSAGE: &str = "manually requested rollback";

/// Failure action `pause` met: `update paused due to failure or early termination of task
/// <id>` (also during a rollback, as SwarmKit).
pub fn update_paused_message(task: &str) -> String {
    format!("update paused due to failure or early termination of task {task}")
}

/// Failure action `rollback` met: `update rolled back due to failure or early termination of
/// task <id>`.
pub fn update_rolled_back_message(task: &str) -> String {
    format!("update rolled back due to failure or early termination of task {task}")
}

/// Failure action `rollback` met during a rollback (a rollback is never rolled back): `rollback
/// paused due to failure or early termination of task <id>`.
pub fn rollback_paused_message(task: &str) -> String {
    format!("rollback paused due to failure or early termination of task {task}")
}

/// Failure action `rollback` met without a previous spec to go back to: the update pauses.
pub fn no_previous_spec_message(task: &str) -> String {
    format!(
        "update paused due to failure or early termination of task {task}: no previous spec to roll back to"
    )
}
