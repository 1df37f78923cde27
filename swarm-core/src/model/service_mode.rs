//! How many tasks a service runs and whether they are expected to finish.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The mode of a service.
///
/// Serialized externally tagged in snake case: `{"replicated":{"replicas":3}}`, `"global"`,
/// `{"replicated_job":{"max_concurrent":2,"total_completions":10}}`, `"global_job"`.
///
/// ```
/// use swarm_core::model::ServiceMode;
///
/// let mode: ServiceMode = serde_json::from_str(r#"{"replicated":{"replicas":3}}"#).unwrap();
/// assert_eq!(mode, ServiceMode::Replicated { replicas: 3 });
/// assert!(!mode.is_job());
/// assert_eq!(ServiceMode::default(), ServiceMode::Replicated { replicas: 1 });
/// let job: ServiceMode = serde_json::from_str(r#"{"replicated_job":{}}"#).unwrap();
/// assert_eq!(job, ServiceMode::ReplicatedJob { max_concurrent: 1, total_completions: 1 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// A fixed number of long-running tasks, one per slot.
    Replicated {
        /// Number of tasks to keep running (1 when omitted).
        #[serde(default = "one")]
        replicas: u64,
    },
    /// One long-running task on every eligible node.
    Global,
    /// Tasks that run to completion, until `total_completions` succeeded.
    #[serde(alias = "replicated-job")]
    ReplicatedJob {
        /// At most this many tasks run at once (1 when omitted).
        #[serde(default = "one")]
        max_concurrent: u64,
        /// Successful completions needed for the job to be done (1 when omitted).
        #[serde(default = "one")]
        total_completions: u64,
    },
    /// One task on every eligible node, run to completion.
    #[serde(alias = "global-job")]
    GlobalJob,
}

fn one() -> u64 {
    1
}

impl ServiceMode {
    /// Whether tasks run to completion (replicated-job or global-job) rather than forever.
    pub fn is_job(&self) -> bool {
        matches!(
            self,
            ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob
        )
    }

    /// Whether there is one task per eligible node (global or global-job).
    pub fn is_global(&self) -> bool {
        matches!(self, ServiceMode::Global | ServiceMode::GlobalJob)
    }
}

impl Default for ServiceMode {
    /// One replica, as `docker service create` without `--replicas`.
    fn default() -> Self {
        ServiceMode::Replicated { replicas: 1 }
    }
}

impl fmt::Display for ServiceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceMode::Replicated { replicas } => write!(f, "replicated ({replicas})"),
            ServiceMode::Global => f.write_str("global"),
            ServiceMode::ReplicatedJob {
                max_concurrent,
                total_completions,
            } => write!(
                f,
                "replicated-job ({max_concurrent} at once, {total_completions} completions)"
            ),
            ServiceMode::GlobalJob => f.write_str("global-job"),
        }
    }
}
