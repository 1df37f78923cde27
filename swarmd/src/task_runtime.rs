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
    /// namespace of `hostname`. Containers of tasks without a cluster network get no network
    /// (the adapter's default).
    pub(crate) async fn docker(
        socket: &str,
        hostname: Option<&str>,
    ) -> Result<TaskRuntime, TaskRuntimeError> {
        let socket = socket.strip_prefix("unix://").unwrap_or(socket).to_owned();
        let config = DockerConfig {
            socket_path: socket.clone(),
            namespace: docker_namespace(hostname),
            container_name_prefix: "swarmd".to_owned(),
            ..DockerConfig::default()
        };
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
