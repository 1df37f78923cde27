//! How a node's Docker adapter is set up.

use std::path::PathBuf;
use std::time::Duration;

/// The engine's default socket.
const DEFAULT_SOCKET_PATH: &str = "/var/run/docker.sock";

/// Where per-task secret and config files are written by default: a memory filesystem on every
/// Linux host with glibc (`/dev/shm`), never the node's disk.
const DEFAULT_SECRETS_ROOT: &str = "/dev/shm/swarm-docker";

/// The network mode containers of tasks without cluster networks get by default: no network
/// at all.
const DEFAULT_NETWORK_MODE: &str = "none";

/// The namespace containers are labelled with by default.
const DEFAULT_NAMESPACE: &str = "default";

/// Default bound on the bytes of log output returned by one logs call.
const DEFAULT_LOG_MAX_BYTES: usize = 64 * 1024;

/// Default timeout of one API request (until the engine's answer starts; streams such as
/// `wait` are not cut by it once they have started).
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Default period at which a running task's health status is read from the engine.
const DEFAULT_HEALTH_POLL_PERIOD: Duration = Duration::from_millis(500);

/// Setup of a [`DockerRuntime`](crate::DockerRuntime).
///
/// ```
/// use swarm_docker::DockerConfig;
/// let config = DockerConfig {
///     namespace: "edge-node-1".into(),
///     pull_missing_images: true,
///     ..DockerConfig::default()
/// };
/// assert_eq!(config.network_mode, "none");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerConfig {
    /// Path of the engine's unix socket (a `unix://` prefix is accepted). Default:
    /// `/var/run/docker.sock`.
    pub socket_path: String,
    /// Labels every container with `com.swarm.namespace=<namespace>`. Orphan clean-up only ever
    /// touches containers and files of its own namespace, so several adapters (or test runs) can
    /// share one engine. Default: `"default"`.
    pub namespace: String,
    /// Prefix of container names: a task's container is `<prefix>-<namespace>-<task id>`.
    /// Default: `"swarm"`.
    pub container_name_prefix: String,
    /// Network mode of the containers of tasks without cluster networks (`"none"`, `"default"`,
    /// `"bridge"`, `"host"` or a network name). Default: `"none"`, no network at all (a network
    /// namespace of its own per container, which the engine starts more slowly); `"default"`
    /// (what dockerd gives its swarm tasks), `"bridge"` or `"host"` give such tasks the engine's
    /// own. A task with cluster networks
    /// (`Task::networks`) joins their local bridge networks instead (see
    /// [`local_network_name`](crate::local_network_name)); overlay networks between hosts and
    /// published ports are not part of this adapter.
    pub network_mode: String,
    /// Pull an image that is not on the node. When `false` (the default) a missing image is a
    /// permanent error naming the image.
    pub pull_missing_images: bool,
    /// Directory under which each task gets a private directory for its secret and config files.
    /// It must be on tmpfs (checked with `statfs`) unless
    /// [`allow_secrets_on_disk`](Self::allow_secrets_on_disk) is set. Default:
    /// `/dev/shm/swarm-docker`, a memory filesystem on every Linux host with glibc.
    pub secrets_root: PathBuf,
    /// Accept a [`secrets_root`](Self::secrets_root) that is not on tmpfs, with a loud warning.
    /// Only for hosts without any memory filesystem: secrets then reach the disk.
    pub allow_secrets_on_disk: bool,
    /// Timeout of one API request: bounds the engine's answer to each call (rounded up to
    /// whole seconds, at least one). Long-lived streams (`wait`, followed logs) are not cut off
    /// by it once the engine has answered. Default: 120 s.
    pub request_timeout: Duration,
    /// Bound on the bytes one logs call returns (the newest output is kept). Default: 64 KiB.
    pub log_max_bytes: usize,
    /// Run an init process (`docker run --init`) as PID 1 of every container, so that signals
    /// reach programs that do not handle them and zombies are reaped.
    pub init: bool,
    /// How often a running task's health status is read from the engine (the health check
    /// itself runs inside the engine at the spec's interval). Default: 500 ms.
    pub health_poll_period: Duration,
}

impl Default for DockerConfig {
    fn default() -> Self {
        DockerConfig {
            socket_path: DEFAULT_SOCKET_PATH.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            container_name_prefix: "swarm".to_owned(),
            network_mode: DEFAULT_NETWORK_MODE.to_owned(),
            pull_missing_images: false,
            secrets_root: PathBuf::from(DEFAULT_SECRETS_ROOT),
            allow_secrets_on_disk: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            log_max_bytes: DEFAULT_LOG_MAX_BYTES,
            init: false,
            health_poll_period: DEFAULT_HEALTH_POLL_PERIOD,
        }
    }
}
