//! How an agent's session retries.

use std::time::Duration;

/// Longest wait for a manager's answer before the call counts as failed: 1 s (ours; SwarmKit
/// waits 5 s). With the default 500 ms period and 2 s grace, a hung manager is abandoned 1.5 s
/// after the last answer, leaving time to register elsewhere before the node's grace ends.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// First backoff bound after a failure: 100 ms (SwarmKit's).
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Largest backoff bound: 2 s (ours; SwarmKit's 8 s is longer than our default 2 s grace, so
/// an agent could sit out its whole grace in one wait).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Failed calls in a row before the session reports that no manager is reachable: 10, about
/// 12.6 s of backoff at most with the defaults (0.1 + 0.3 + 0.7 + 1.5 + 6 × 2 s, minus the
/// jitter) plus the calls' own time.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// How an agent's session waits and retries. Every timing is configurable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSessionConfig {
    /// Longest wait for an answer to a registration or heartbeat.
    pub request_timeout: Duration,
    /// First backoff bound after a failure.
    pub backoff_initial: Duration,
    /// Largest backoff bound.
    pub backoff_max: Duration,
    /// Failed calls in a row before reporting
    /// [`AgentSessionError::NoManagerReachable`](crate::agent::AgentSessionError); at least 1.
    pub max_attempts: u32,
}

impl Default for AgentSessionConfig {
    fn default() -> Self {
        AgentSessionConfig {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}
