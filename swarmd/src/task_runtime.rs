//! The runtime the node's tasks run on: swarm-core's process runtime, or swarm-docker's adapter
//! on a local Docker engine (`--runtime docker`), with its orphan sweeps.
//!
//! Several swarmd processes may share one engine. Each labels its containers with its own
//! namespace (`swarmd-<hostname>`, see [`docker_namespace`]), and a sweep only ever removes
//! containers, task files and local networks of its own namespace, so one node never removes
//! another's containers.

use std::collections::HashSet;
use std::sync::Arc;
use swarm_core::model::TaskId;
use swarm_core::runtime::Runtime;
use swarm_core::runtime::process::{ProcessRuntime, ProcessRuntimeConfig};
use swarm_docker::{DockerConfig, DockerRuntime};

/// The task runtime a daemon was started with.
#[derive(Clone)]
pub(crate) enum TaskRuntime {
    /// Tasks are OS processes.
    Process(Arc<ProcessRuntime>),
    /// Tasks are containers of a local Docker engine.
    Docker(DockerRuntime),
}

/// Why the runtime could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TaskRuntimeError {
    /// The process runtime refused its configuration.
    #[error("the process runtime: {0}")]
    Process(#[from] swarm_core::runtime::RuntimeError),
    /// No engine answered, or the secrets directory is unsafe.
    #[error("the docker runtime (engine at {socket}): {source}")]
    Docker {
        /// The engine's socket.
        socket: String,
        /// What failed.
        source: swarm_docker::DockerError,
    },
}

/// The namespace a daemon's containers are labelled with: one per node on a shared engine.
pub(crate) fn docker_namespace(hostname: Option<&str>) -> String {
    match hostname {
        Some(h) if !h.is_empty() => format!("swarmd-{h}"),
        _ => "swarmd".to_owned(),
    }
}

/// The engine's default network, which dockerd gives the containers of swarm tasks that have no
/// cluster network (`bridge` on an engine with its default bridge).
pub(crate) const ENGINE_DEFAULT_NETWORK: &str = "default";

/// The adapter's settings for the engine at `socket` (a `unix://` prefix is accepted) and the
/// node `hostname`: containers named `swarmd-…` in the node's namespace; tasks without a cluster
/// network on the engine's default network, as dockerd's swarm tasks (the adapter's own default,
/// `none`, gives each container a network of its own, which the engine starts about twice as
/// slowly).
pub(crate) fn docker_config(socket: &str, hostname: Option<&str>) -> DockerConfig {
    DockerConfig {
        socket_path: socket.strip_prefix("unix://").unwrap_or(socket).to_owned(),
        namespace: docker_namespace(hostname),
        container_name_prefix: "swarmd".to_owned(),
        network_mode: ENGINE_DEFAULT_NETWORK.to_owned(),
        ..DockerConfig::default()
    }
}

impl TaskRuntime {
    /// The process runtime, reporting `hostname` if given.
    pub(crate) fn process(hostname: Option<String>) -> Result<TaskRuntime, TaskRuntimeError> {
        let rt = ProcessRuntime::with_config(ProcessRuntimeConfig {
            hostname,
            ..ProcessRuntimeConfig::default()
        })?;
        Ok(TaskRuntime::Process(Arc::new(rt)))
    }

    /// The Docker adapter on the engine at `socket` (a `unix://` prefix is accepted), in the
    /// namespace of `hostname` (see [`docker_config`]).
    pub(crate) async fn docker(
        socket: &str,
        hostname: Option<&str>,
    ) -> Result<TaskRuntime, TaskRuntimeError> {
        let config = docker_config(socket, hostname);
        let socket = config.socket_path.clone();
        let rt = DockerRuntime::connect(config)
            .await
            .map_err(|source| TaskRuntimeError::Docker { socket, source })?;
        Ok(TaskRuntime::Docker(rt))
    }

    /// Whether a sweep can remove anything (the process runtime holds nothing across runs).
    pub(crate) fn keeps_leftovers(&self) -> bool {
        matches!(self, TaskRuntime::Docker(_))
    }

    /// The runtime as swarm-core takes it.
    pub(crate) fn runtime(&self) -> Arc<dyn Runtime> {
        match self {
            TaskRuntime::Process(p) => p.clone(),
            TaskRuntime::Docker(d) => Arc::new(d.clone()),
        }
    }

    /// Removes what this node's namespace holds for tasks not in `live` (containers, task
    /// files, unused local networks). The process runtime holds nothing across runs. A failed
    /// sweep is logged: it leaves containers behind, it does not stop the node.
    pub(crate) async fn sweep(&self, live: &HashSet<TaskId>) {
        let TaskRuntime::Docker(d) = self else {
            return;
        };
        match d.cleanup_orphans(live).await {
            Ok(report) => {
                if !report.containers.is_empty() || !report.networks.is_empty() {
                    tracing::info!(
                        containers = ?report.containers,
                        networks = ?report.networks,
                        task_dirs = report.task_dirs,
                        "removed what earlier runs of this node left on the engine"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "orphan sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_without_a_cluster_network_use_the_engines_default_network_as_dockerd() {
        let config = docker_config("unix:///var/run/docker.sock", Some("node-1"));
        assert_eq!(config.network_mode, "default");
        assert_eq!(config.socket_path, "/var/run/docker.sock");
        assert_eq!(config.namespace, "swarmd-node-1");
        assert_eq!(config.container_name_prefix, "swarmd");
    }
}
