//! The command run periodically inside a task to decide whether it is healthy.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A command run periodically inside a task to decide whether it is healthy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheck {
    /// The test, as in Docker: `["CMD", prog, args…]`, `["CMD-SHELL", "script"]`, or `["NONE"]`.
    pub test: Vec<String>,
    /// Time between two checks.
    pub interval: Duration,
    /// A check that runs longer than this fails.
    pub timeout: Duration,
    /// Consecutive failures that make the task unhealthy.
    pub retries: u32,
    /// Failures during this period after start do not count.
    pub start_period: Duration,
}

impl Default for HealthCheck {
    fn default() -> Self {
        // Docker's defaults.
        HealthCheck {
            test: Vec::new(),
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            retries: 3,
            start_period: Duration::ZERO,
        }
    }
}
