//! When and how often a service's failed or exited tasks are replaced.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// SwarmKit's default delay between a task ending and its replacement starting: 5 seconds.
pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_secs(5);

/// Which task exits cause a replacement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartCondition {
    /// Never replace an ended task.
    None,
    /// Replace a task only when it failed (non-zero exit, or rejected).
    #[serde(alias = "on-failure")]
    OnFailure,
    /// Replace a task whenever it ends (SwarmKit's default).
    #[default]
    Any,
}

impl fmt::Display for RestartCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestartCondition::None => "none",
            RestartCondition::OnFailure => "on-failure",
            RestartCondition::Any => "any",
        })
    }
}

/// The restart policy of a task template.
///
/// ```
/// use std::time::Duration;
/// use swarm_core::model::{RestartCondition, RestartPolicy};
///
/// let p = RestartPolicy::default();
/// assert_eq!(p.condition, RestartCondition::Any);
/// assert_eq!(p.delay, Duration::from_secs(5));
/// assert_eq!(p.max_attempts, 0); // unlimited
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestartPolicy {
    /// Which exits cause a replacement.
    pub condition: RestartCondition,
    /// Wait between a task ending and its replacement starting.
    pub delay: Duration,
    /// Replacements allowed within `window` (or in total when `window` is zero); 0 means unlimited.
    pub max_attempts: u64,
    /// The sliding window `max_attempts` is counted in; zero means the task's whole history.
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            condition: RestartCondition::Any,
            delay: DEFAULT_RESTART_DELAY,
            max_attempts: 0,
            window: Duration::ZERO,
        }
    }
}
