//! How orchestrators keep task history.

use crate::model::task::DEFAULT_TASK_HISTORY_RETENTION_LIMIT;
use serde::{Deserialize, Serialize};

/// How orchestrators keep task history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrchestrationConfig {
    /// Ended tasks kept per slot (or per node for global services); older ones are deleted.
    pub task_history_retention_limit: u64,
}

impl Default for OrchestrationConfig {
    fn default() -> Self {
        OrchestrationConfig {
            task_history_retention_limit: DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
        }
    }
}
