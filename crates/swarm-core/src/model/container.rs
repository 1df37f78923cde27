//! The runtime part of a task template: what to run and which files it sees.
//!
//! SwarmKit calls this the `ContainerSpec`; here it is runtime-neutral. A
//! [`Runtime`](crate::runtime::Runtime) adapter decides what "image" and "command" mean to it.

use crate::model::ids::{ConfigId, SecretId};
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
    /// Environment, as `KEY=value` strings.
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

/// The kind of a [`Mount`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host path bound into the task.
    #[default]
    Bind,
    /// A named volume managed by the runtime.
    Volume,
    /// A memory-backed filesystem.
    Tmpfs,
}

/// A filesystem mounted into the task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Bind, volume or tmpfs.
    #[serde(rename = "type")]
    pub kind: MountType,
    /// Host path (bind) or volume name (volume); empty for tmpfs.
    #[serde(default)]
    pub source: String,
    /// Absolute path inside the task.
    pub target: String,
    /// Mounted read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// Where and how a secret or config appears as a file inside the task.
///
/// Missing `uid`, `gid` and `mode` take Docker's defaults (`"0"`, `"0"`, `0o444`) when
/// deserialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileTarget {
    /// File name or absolute path. A bare name is placed under the runtime's secrets (or configs)
    /// directory, `/run/secrets/<name>` for secrets as in Docker.
    pub name: String,
    /// Owner user id, as a string as in SwarmKit (`"0"` by default).
    pub uid: String,
    /// Owner group id (`"0"` by default).
    pub gid: String,
    /// Permission bits; SwarmKit's default is `0o444`.
    pub mode: u32,
}

impl FileTarget {
    /// A read-only file owned by root with mode `0o444`, as Docker creates by default.
    pub fn new(name: impl Into<String>) -> Self {
        FileTarget {
            name: name.into(),
            uid: "0".to_owned(),
            gid: "0".to_owned(),
            mode: 0o444,
        }
    }
}

impl Default for FileTarget {
    /// An unnamed target with Docker's default owner and mode.
    fn default() -> Self {
        FileTarget::new("")
    }
}

/// A task's reference to a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretReference {
    /// The secret's id.
    pub secret_id: SecretId,
    /// The secret's name, as the user wrote it.
    pub secret_name: String,
    /// Where the secret appears inside the task.
    pub target: FileTarget,
}

/// A task's reference to a config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigReference {
    /// The config's id.
    pub config_id: ConfigId,
    /// The config's name, as the user wrote it.
    pub config_name: String,
    /// Where the config appears inside the task.
    pub target: FileTarget,
}

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
