//! The runtime part of a task template: what to run and which files it sees.
//!
//! SwarmKit calls this the `ContainerSpec`; here it is runtime-neutral. A
//! [`Runtime`](crate::runtime::Runtime) adapter decides what "image" and "command" mean to it.

use crate::model::config_reference::ConfigReference;
use crate::model::health_check::HealthCheck;
use crate::model::mount::Mount;
use crate::model::secret_reference::SecretReference;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// SwarmKit's default stop grace period: 10 seconds between the stop signal and a forced kill.
pub const DEFAULT_STOP_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// What a task runs.
///
/// Missing fields take their defaults when deserialized; the stop grace period defaults to
/// [`DEFAULT_STOP_GRACE_PERIOD`] both there and in [`ContainerSpec::default`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerSpec {
    /// The image reference (for a container runtime) or program (for a process runtime).
    pub image: String,
    /// Labels attached to the runtime object.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Overrides the image's entrypoint (the program to run).
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments passed to the command.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment, as `KEY=value` strings; a bare `KEY` unsets the variable (as Docker).
    #[serde(default)]
    pub env: Vec<String>,
    /// Working directory; `None` keeps the runtime's default.
    pub workdir: Option<String>,
    /// User to run as (`name`, `uid` or `uid:gid`); `None` keeps the runtime's default.
    pub user: Option<String>,
    /// Hostname inside the task, if the runtime supports it.
    pub hostname: Option<String>,
    /// Mounts of host paths, volumes or tmpfs.
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// Secrets the task sees as files.
    #[serde(default)]
    pub secrets: Vec<SecretReference>,
    /// Configs the task sees as files.
    #[serde(default)]
    pub configs: Vec<ConfigReference>,
    /// Health check run inside the task; `None` keeps the image's own.
    pub healthcheck: Option<HealthCheck>,
    /// Signal sent to stop the task gracefully (e.g. `"SIGTERM"`); `None` means SIGTERM.
    pub stop_signal: Option<String>,
    /// Time between the stop signal and a forced kill.
    #[serde(default = "default_stop_grace_period")]
    pub stop_grace_period: Duration,
}

fn default_stop_grace_period() -> Duration {
    DEFAULT_STOP_GRACE_PERIOD
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            image: String::new(),
            labels: std::collections::BTreeMap::new(),
            command: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            workdir: None,
            user: None,
            hostname: None,
            mounts: Vec::new(),
            secrets: Vec::new(),
            configs: Vec::new(),
            healthcheck: None,
            stop_signal: None,
            stop_grace_period: DEFAULT_STOP_GRACE_PERIOD,
        }
    }
}
