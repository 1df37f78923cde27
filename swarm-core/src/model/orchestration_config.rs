//! How orchestrators keep task history and, optionally, rebalance tasks.

use crate::model::task::DEFAULT_TASK_HISTORY_RETENTION_LIMIT;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The default interval between two rebalancing passes, when rebalancing is on.
pub const DEFAULT_REBALANCE_INTERVAL: Duration = Duration::from_secs(10);

/// How orchestrators keep task history, and whether they move tasks to restore the spread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrchestrationConfig {
    /// Ended tasks kept per slot (or per node for global services); older ones are deleted.
    pub task_history_retention_limit: u64,
    /// Rebalancing (SwarmKit has none): at most this many tasks of replicated services are
    /// moved per [`rebalance_interval`](Self::rebalance_interval) to even out the spread, e.g.
    /// after a node joins or recovers. 0 (the default) turns it off, as in SwarmKit, where
    /// tasks stay where they are until they end.
    pub rebalance_max_moves: u64,
    /// Time between two rebalancing passes.
    pub rebalance_interval: Duration,
}

impl Default for OrchestrationConfig {
    fn default() -> Self {
        OrchestrationConfig {
            task_history_retention_limit: DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
            rebalance_max_moves: 0,
            rebalance_interval: DEFAULT_REBALANCE_INTERVAL,
        }
    }
}
