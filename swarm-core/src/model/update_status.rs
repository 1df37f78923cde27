//! Progress of a service's rolling update or rollback.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::SystemTime;

/// Where a rolling update or rollback stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// Tasks are being replaced.
    #[default]
    Updating,
    /// Stopped by the failure action `pause`; needs the operator.
    Paused,
    /// Every task runs the new spec.
    Completed,
    /// Rolling back to the previous spec.
    RollbackStarted,
    /// A rollback was paused by failures.
    RollbackPaused,
    /// Every task runs the previous spec again.
    RollbackCompleted,
}

impl fmt::Display for UpdateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpdateState::Updating => "updating",
            UpdateState::Paused => "paused",
            UpdateState::Completed => "completed",
            UpdateState::RollbackStarted => "rollback_started",
            UpdateState::RollbackPaused => "rollback_paused",
            UpdateState::RollbackCompleted => "rollback_completed",
        })
    }
}

/// The status of a service's update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateStatus {
    /// Where it stands.
    pub state: UpdateState,
    /// When it started.
    pub started_at: SystemTime,
    /// When it completed, if it did.
    #[serde(default)]
    pub completed_at: Option<SystemTime>,
    /// Why it is in this state, e.g. `"update paused due to failure or early termination of task 3k2f…"`.
    #[serde(default)]
    pub message: String,
}
