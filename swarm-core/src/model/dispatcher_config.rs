//! How managers watch agents: the heartbeat period and grace.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// SwarmKit's default agent heartbeat period: 5 seconds.
pub const DEFAULT_HEARTBEAT_PERIOD: Duration = Duration::from_secs(5);
/// SwarmKit marks a node down after this many heartbeat periods without one.
pub const DEFAULT_HEARTBEAT_GRACE_MULTIPLIER: u32 = 3;

/// How managers watch agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatcherConfig {
    /// How often agents heartbeat.
    pub heartbeat_period: Duration,
    /// A node is marked down after `heartbeat_period × heartbeat_grace_multiplier` without a
    /// heartbeat, and its tasks are replaced elsewhere.
    pub heartbeat_grace_multiplier: u32,
}

impl DispatcherConfig {
    /// Time without a heartbeat after which a node is down.
    pub fn heartbeat_grace_period(&self) -> Duration {
        self.heartbeat_period
            .saturating_mul(self.heartbeat_grace_multiplier)
    }
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            heartbeat_period: DEFAULT_HEARTBEAT_PERIOD,
            heartbeat_grace_multiplier: DEFAULT_HEARTBEAT_GRACE_MULTIPLIER,
        }
    }
}
