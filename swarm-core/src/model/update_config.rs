//! How a service's tasks are replaced when its spec changes, or rolled back.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// SwarmKit's default time a new task is watched for failure after an update: 5 seconds.
pub const DEFAULT_UPDATE_MONITOR: Duration = Duration::from_secs(5);

/// What an update does when too many new tasks fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureAction {
    /// Stop updating and wait for the operator (SwarmKit's default).
    #[default]
    Pause,
    /// Keep updating.
    Continue,
    /// Roll back to the previous spec (not allowed in a rollback config).
    Rollback,
}

impl fmt::Display for FailureAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureAction::Pause => "pause",
            FailureAction::Continue => "continue",
            FailureAction::Rollback => "rollback",
        })
    }
}

/// Whether a replaced task stops before or after its replacement starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateOrder {
    /// Stop the old task, then start the new one (SwarmKit's default).
    #[default]
    #[serde(alias = "stop-first")]
    StopFirst,
    /// Start the new task, then stop the old one: capacity never drops.
    #[serde(alias = "start-first")]
    StartFirst,
}

impl fmt::Display for UpdateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpdateOrder::StopFirst => "stop-first",
            UpdateOrder::StartFirst => "start-first",
        })
    }
}

/// A rolling update (or rollback) policy.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::model::{FailureAction, UpdateConfig, UpdateOrder};
///
/// let u = UpdateConfig::default();
/// assert_eq!((u.parallelism, u.delay), (1, Duration::ZERO));
/// assert_eq!(u.failure_action, FailureAction::Pause);
/// assert_eq!(u.monitor, Duration::from_secs(5));
/// assert_eq!(u.max_failure_ratio, 0.0);
/// assert_eq!(u.order, UpdateOrder::StopFirst);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateConfig {
    /// Tasks replaced at once; 0 replaces all at once.
    pub parallelism: u64,
    /// Wait between two batches.
    pub delay: Duration,
    /// What to do when the failure ratio is exceeded.
    pub failure_action: FailureAction,
    /// How long a new task is watched for failure after it starts.
    pub monitor: Duration,
    /// Fraction of new tasks (0 to 1) that may fail before `failure_action` applies.
    pub max_failure_ratio: f64,
    /// Stop-first or start-first.
    pub order: UpdateOrder,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            parallelism: 1,
            delay: Duration::ZERO,
            failure_action: FailureAction::Pause,
            monitor: DEFAULT_UPDATE_MONITOR,
            max_failure_ratio: 0.0,
            order: UpdateOrder::StopFirst,
        }
    }
}
