//! Health status of a running task, as decided by its health check.

use std::fmt;

/// The health of a task that has a health check (Docker's three states).
///
/// A controller publishes it through a `tokio::sync::watch` channel returned by
/// [`Controller::health`](crate::runtime::Controller::health).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    /// Not yet decided: the task started and no check has passed yet, or failures are still
    /// within the start period.
    Starting,
    /// The last check passed.
    Healthy,
    /// `retries` consecutive checks failed (after the start period).
    Unhealthy,
}

impl HealthStatus {
    /// Lower-case name, as Docker prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
