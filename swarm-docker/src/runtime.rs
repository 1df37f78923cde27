//! [`DockerRuntime`]: the [`Runtime`] over a Docker engine's API on a unix socket.

use crate::config::DockerConfig;
use crate::container_config::container_create_body;
use crate::controller::{DockerController, Registry, RuntimeShared, to_runtime_error};
use crate::error::DockerError;
use crate::labels::{LABEL_MANAGED, LABEL_NAMESPACE, LABEL_TASK_ID, container_name, dir_name};
use crate::local_networks::remove_unused_networks;
use crate::network_lock::NetworkLock;
use crate::task_files::{
    WrittenFile, check_distinct_targets, container_path, prepare_secrets_root, remove_orphan_dirs,
    task_dir,
};
use crate::task_network::task_networks;
use async_trait::async_trait;
use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::model::{NANO_CPUS_PER_CPU, NodeDescription, Platform, Resources, Task, TaskId};
use swarm_core::runtime::host::go_arch;
use swarm_core::runtime::{Controller, LifecycleStep, Runtime, RuntimeError, TaskFiles};

/// Most containers one orphan clean-up removes.
const MAX_ORPHANS_PER_SWEEP: usize = 10_000;

/// What [`DockerRuntime::cleanup_orphans`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrphanReport {
    /// Names of the containers this sweep removed.
    pub containers: Vec<String>,
    /// Number of task directories (secret and config files) removed.
    pub task_dirs: usize,
    /// Names of the local networks removed: those this runtime's namespace created that no
    /// container uses any more.
    pub networks: Vec<String>,
}

/// Runs tasks as containers of a local Docker engine.
///
/// One `DockerRuntime` serves one node; share it as `Arc<dyn Runtime>`. Its containers carry
/// the labels `com.swarm.managed=true`, `com.swarm.namespace`, `com.swarm.task.id`,
/// `com.swarm.service.id` (and the slot and node when known) and have no restart policy:
/// restarting is the orchestrator's job.
///
/// ```no_run
/// use swarm_docker::{DockerConfig, DockerRuntime};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), swarm_docker::DockerError> {
/// let runtime = DockerRuntime::connect(DockerConfig::default()).await?;
/// // On agent start: remove what an earlier run left behind for tasks that are gone.
/// let report = runtime.cleanup_orphans(&Default::default()).await?;
/// println!("removed {} orphaned containers", report.containers.len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DockerRuntime {
    docker: Docker,
    config: Arc<DockerConfig>,
    registry: Registry,
    network_lock: NetworkLock,
}

impl std::fmt::Debug for DockerRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerRuntime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DockerRuntime {
    /// Connects to the engine, negotiates the API version (engines from API 1.41 on work) and
    /// checks that [`DockerConfig::secrets_root`] is on tmpfs.
    ///
    /// Errors: [`DockerError::EngineUnreachable`] when no engine answers (retryable);
    /// [`DockerError::SecretsNotOnTmpfs`] for a secrets root on disk (permanent).
    pub async fn connect(config: DockerConfig) -> Result<Self, DockerError> {
        let socket = config.socket_path.clone();
        let unreachable = |message: String| DockerError::EngineUnreachable {
            socket: socket.clone(),
            message,
        };
        let docker = Docker::connect_with_unix(
            &config.socket_path,
            request_timeout_secs(config.request_timeout),
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(|e| unreachable(e.to_string()))?
        .negotiate_version()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
        docker
            .ping()
            .await
            .map_err(|e| unreachable(e.to_string()))?;

        prepare_secrets_root(&config.secrets_root, config.allow_secrets_on_disk)?;
        Ok(DockerRuntime {
            docker,
            config: Arc::new(config),
            registry: Arc::new(Mutex::new(HashMap::new())),
            network_lock: NetworkLock::default(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// The engine client, for callers that need more of the Engine API.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// The name of the container that runs `task_id`.
    pub fn container_name(&self, task_id: &TaskId) -> String {
        container_name(
            &self.config.container_name_prefix,
            &self.config.namespace,
            task_id.as_str(),
        )
    }

    /// The host directory (on tmpfs) that holds `task_id`'s secret and config files while it
    /// exists.
    pub fn task_files_dir(&self, task_id: &TaskId) -> PathBuf {
        task_dir(
            &self.config.secrets_root,
            &self.config.namespace,
            task_id.as_str(),
        )
    }

    /// Removes the containers (with their anonymous volumes) and task directories of this
    /// runtime's namespace whose task is neither in `live_tasks` nor driven by a controller of
    /// this runtime, then the local networks this namespace created that no container uses any
    /// more. An agent calls it when it starts, with the tasks assigned to its node. A container
    /// already being removed (by a dropped controller or another sweep) is left to that removal
    /// and not reported; its local network then stays until a later sweep or the last task on
    /// it is removed.
    pub async fn cleanup_orphans(
        &self,
        live_tasks: &HashSet<TaskId>,
    ) -> Result<OrphanReport, DockerError> {
        let mut live: HashSet<String> = live_tasks.iter().map(|t| t.to_string()).collect();
        live.extend(
            self.registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .map(|t| t.to_string()),
        );
        let mut filters = HashMap::new();
        filters.insert(
            "label",
            vec![
                format!("{LABEL_MANAGED}=true"),
                format!("{LABEL_NAMESPACE}={}", self.config.namespace),
            ],
        );
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let containers = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| DockerError::from_bollard("list containers", e))?;
        let mut report = OrphanReport::default();
        for c in containers.into_iter().take(MAX_ORPHANS_PER_SWEEP) {
            let labels = c.labels.unwrap_or_default();
            // The filter already matched; check again rather than trust it blindly.
            if labels.get(LABEL_NAMESPACE) != Some(&self.config.namespace) {
                continue;
            }
            let task = labels.get(LABEL_TASK_ID).cloned().unwrap_or_default();
            if live.contains(&task) {
                continue;
            }
            let Some(id) = c.id else { continue };
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_else(|| id.clone());
            let opts = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            match self.docker.remove_container(&id, Some(opts)).await {
                Ok(()) => {
                    tracing::info!(container = %name, task, "removed orphaned container");
                    report.containers.push(name);
                }
                Err(e) => {
                    let e = DockerError::from_bollard(format!("remove {name}"), e);
                    match e.status() {
                        // Gone already, or being removed by someone else (a dropped controller,
                        // another sweep): the engine finishes that removal without us.
                        Some(404 | 409) => {
                            tracing::debug!(container = %name, task, error = %e, "orphaned container not removed by this sweep");
                        }
                        _ => return Err(e),
                    }
                }
            }
        }
        let live_dirs: HashSet<String> = live.iter().map(|t| dir_name(t)).collect();
        report.task_dirs = remove_orphan_dirs(
            &self.config.secrets_root,
            &self.config.namespace,
            &live_dirs,
        )?;
        let _networks = self.network_lock.exclusive().await;
        report.networks = remove_unused_networks(&self.docker, &self.config.namespace).await?;
        Ok(report)
    }

    async fn describe_engine(&self) -> Result<NodeDescription, DockerError> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| DockerError::from_bollard("info", e))?;
        let ncpu = info.ncpu.ok_or(DockerError::MissingField {
            operation: "info".to_owned(),
            field: "NCPU",
        })?;
        let memory = info.mem_total.ok_or(DockerError::MissingField {
            operation: "info".to_owned(),
            field: "MemTotal",
        })?;
        let mut labels = BTreeMap::new();
        for l in info.labels.unwrap_or_default() {
            match l.split_once('=') {
                Some((k, v)) => labels.insert(k.to_owned(), v.to_owned()),
                None => labels.insert(l, String::new()),
            };
        }
        let os = info.os_type.unwrap_or_else(|| "linux".to_owned());
        let arch = info
            .architecture
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        Ok(NodeDescription {
            hostname: info.name.unwrap_or_default(),
            platform: Platform::new(os, go_arch(&arch)),
            resources: Resources {
                nano_cpus: ncpu.saturating_mul(NANO_CPUS_PER_CPU),
                memory_bytes: memory,
                generic: Vec::new(),
            },
            engine: swarm_core::model::EngineDescription {
                engine_version: format!(
                    "docker/{}",
                    info.server_version.unwrap_or_else(|| "unknown".to_owned())
                ),
                labels,
            },
            seal_public_key: None,
        })
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    async fn describe(&self) -> Result<NodeDescription, RuntimeError> {
        self.describe_engine()
            .await
            .map_err(|e| to_runtime_error(LifecycleStep::Describe, e))
    }

    async fn controller(
        &self,
        task: &Task,
        files: TaskFiles,
    ) -> Result<Box<dyn Controller>, RuntimeError> {
        let step = LifecycleStep::Create;
        let resolved = files.resolve(&task.id, &task.spec.container)?;
        check_distinct_targets(&resolved).map_err(|e| to_runtime_error(step, e))?;
        // Validate the whole spec now, so an invalid one is refused before anything exists.
        let placeholder: Vec<WrittenFile> = resolved
            .iter()
            .map(|f| WrittenFile {
                host_path: PathBuf::from("/"),
                container_path: container_path(f),
            })
            .collect();
        container_create_body(task, &placeholder, &self.config)
            .map_err(|e| to_runtime_error(step, e))?;
        let networks = task_networks(task).map_err(|e| to_runtime_error(step, e))?;
        let name = self.container_name(&task.id);
        {
            let mut live = self.registry.lock().unwrap_or_else(|p| p.into_inner());
            match live.get(&name) {
                Some(owner) if owner == &task.id => {
                    return Err(RuntimeError::invalid_state(
                        &task.id,
                        step,
                        "a controller for this task exists and was not removed",
                    ));
                }
                Some(owner) => {
                    return Err(RuntimeError::invalid_spec(
                        "id",
                        format!(
                            "task id {} maps to container name {name}, already used by task {owner}",
                            task.id
                        ),
                    ));
                }
                None => {
                    live.insert(name.clone(), task.id.clone());
                }
            }
        }
        let shared = RuntimeShared {
            docker: self.docker.clone(),
            config: self.config.clone(),
            registry: self.registry.clone(),
            network_lock: self.network_lock.clone(),
        };
        Ok(Box::new(DockerController::new(
            shared,
            task.clone(),
            name,
            self.task_files_dir(&task.id),
            resolved,
            networks,
        )))
    }
}

/// The engine client counts its request timeout in whole seconds: round up (never cut a
/// request shorter than configured) and keep at least one second.
fn request_timeout_secs(timeout: Duration) -> u64 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_rounds_up_to_whole_seconds() {
        assert_eq!(request_timeout_secs(Duration::ZERO), 1);
        assert_eq!(request_timeout_secs(Duration::from_millis(300)), 1);
        assert_eq!(request_timeout_secs(Duration::from_secs(2)), 2);
        assert_eq!(request_timeout_secs(Duration::from_millis(2100)), 3);
    }
}
