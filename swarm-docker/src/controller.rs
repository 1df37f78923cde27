//! [`DockerController`]: one task as one container.

use crate::config::DockerConfig;
use crate::container_config::{container_create_body, is_disabled};
use crate::error::DockerError;
use crate::image::pull_image;
use crate::labels::{LABEL_NAMESPACE, LABEL_TASK_ID};
use crate::local_networks::{connect_missing, ensure_networks, missing_network, remove_if_unused};
use crate::network_lock::NetworkLock;
use crate::task_files::{remove_task_dir, write_task_files};
use crate::task_network::TaskNetwork;
use async_trait::async_trait;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use swarm_core::model::{Task, TaskId};
use swarm_core::runtime::{
    Controller, ErrorKind, ExitStatus, HealthStatus, LifecyclePhase as Phase, LifecycleStep,
    LogBuffer, LogOptions, LogStream, LogStreamKind, PhaseCheck, ResolvedFile, RuntimeError,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Attempts the exit watcher makes (with [`WAIT_RETRY_BACKOFF`] between them) when the engine
/// cannot be asked, before `wait` reports a temporary error.
const MAX_WAIT_ATTEMPTS: u32 = 5;
/// Pause between two attempts of the exit watcher.
const WAIT_RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// How long `terminate`, `shutdown` and `remove` wait for a container to exit after SIGKILL.
const KILL_EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `remove` lets the log reader drain the output of an exited container.
const LOG_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Consecutive failed health reads after which the health poller gives up.
const MAX_HEALTH_POLL_FAILURES: u32 = 20;
/// Container creations `prepare` tries when a network of the task vanishes between its
/// creation and the container's (another adapter of the engine removed it as unused): at worst
/// this many rounds of network creation and container creation, then a temporary error.
const MAX_NETWORK_ATTEMPTS: u32 = 3;

/// The live controllers of a runtime: container name → task id.
pub(crate) type Registry = Arc<Mutex<HashMap<String, TaskId>>>;

/// What every controller of a runtime shares with it.
pub(crate) struct RuntimeShared {
    pub(crate) docker: Docker,
    pub(crate) config: Arc<DockerConfig>,
    pub(crate) registry: Registry,
    pub(crate) network_lock: NetworkLock,
}

/// The signal Docker sends when a spec names none.
const DEFAULT_STOP_SIGNAL: &str = "SIGTERM";

/// What the exit watcher knows.
#[derive(Clone, Debug)]
enum ExitState {
    NotStarted,
    Running,
    Exited(ExitStatus),
    WatchFailed { message: String, retryable: bool },
}

pub(crate) struct Inner {
    pub(crate) docker: Docker,
    pub(crate) config: Arc<DockerConfig>,
    pub(crate) task: Task,
    pub(crate) container: String,
    pub(crate) task_dir: PathBuf,
    /// Live controllers of the runtime, by container name; this controller's entry leaves it
    /// on remove or drop.
    pub(crate) registry: Registry,
    /// The task's cluster networks, checked; the first is the container's network mode.
    networks: Vec<TaskNetwork>,
    /// The runtime's lock on network creation, joining and removal.
    network_lock: NetworkLock,
    /// The plaintext files, until `prepare` has written them.
    files: Mutex<Vec<ResolvedFile>>,
    phase: tokio::sync::Mutex<Phase>,
    /// Whether the container was found already created (by an earlier agent) at `prepare`.
    adopted: Mutex<bool>,
    exit: watch::Sender<ExitState>,
    health: Mutex<Option<watch::Sender<HealthStatus>>>,
    logs: LogBuffer,
    /// Set once the log reader has copied all of the container's output.
    logs_done: watch::Sender<bool>,
    background: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here only swaps plain values: a panic inside one cannot leave the
    // data half-updated, so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn to_runtime_error(step: LifecycleStep, err: DockerError) -> RuntimeError {
    match err {
        DockerError::InvalidSpec { field, reason } => RuntimeError::invalid_spec(field, reason),
        other => {
            let kind = if other.is_retryable() {
                ErrorKind::Temporary
            } else {
                ErrorKind::Permanent
            };
            RuntimeError::with_source(kind, step, other.to_string(), other)
        }
    }
}

/// Drives one task as one container. Created by
/// [`DockerRuntime::controller`](swarm_core::runtime::Runtime::controller).
///
/// - `prepare` writes the task's secret and config files into a private directory on tmpfs,
///   creates the local networks of the task's cluster networks if absent, and creates the
///   container (pulling the image only if the adapter is configured to) on them, with its
///   allocated addresses and aliases;
/// - `start` starts it and begins watching its exit, its output (into a [`LogBuffer`] capped
///   at [`DockerConfig::log_max_bytes`]) and, if it has a health check, its health;
/// - `shutdown` sends the spec's stop signal, waits up to its grace period, then kills;
/// - `remove` kills if needed, removes the container with its anonymous volumes, deletes the
///   task's directory and removes the task's local networks that no container uses any more.
///   Dropping the controller without `remove` does the same in the background.
pub struct DockerController {
    inner: Arc<Inner>,
    task_id: TaskId,
}

impl std::fmt::Debug for DockerController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerController")
            .field("task_id", &self.task_id)
            .field("container", &self.inner.container)
            .finish_non_exhaustive()
    }
}

impl DockerController {
    pub(crate) fn new(
        shared: RuntimeShared,
        task: Task,
        container: String,
        task_dir: PathBuf,
        files: Vec<ResolvedFile>,
        networks: Vec<TaskNetwork>,
    ) -> Self {
        let RuntimeShared {
            docker,
            config,
            registry,
            network_lock,
        } = shared;
        let health = task
            .spec
            .container
            .healthcheck
            .as_ref()
            .filter(|h| !is_disabled(h))
            .map(|_| watch::Sender::new(HealthStatus::Starting));
        let logs = LogBuffer::new(config.log_max_bytes);
        let task_id = task.id.clone();
        DockerController {
            inner: Arc::new(Inner {
                docker,
                config,
                task,
                container,
                task_dir,
                registry,
                networks,
                network_lock,
                files: Mutex::new(files),
                phase: tokio::sync::Mutex::new(Phase::Created),
                adopted: Mutex::new(false),
                exit: watch::Sender::new(ExitState::NotStarted),
                health: Mutex::new(health),
                logs,
                logs_done: watch::Sender::new(false),
                background: Mutex::new(Vec::new()),
            }),
            task_id,
        }
    }

    /// The container's name on the engine.
    pub fn container_name(&self) -> &str {
        &self.inner.container
    }

    /// The host directory (on tmpfs) holding the task's secret and config files.
    pub fn files_dir(&self) -> &std::path::Path {
        &self.inner.task_dir
    }

    /// Runs a watcher in the background, aborted on remove/drop. Finished watchers are pruned
    /// first, so the list stays bounded by the watchers alive at once (exit, logs, health)
    /// however often `wait` restarts a failed exit watcher.
    fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut background = lock(&self.inner.background);
        background.retain(|h| !h.is_finished());
        background.push(tokio::spawn(fut));
    }

    fn invalid_state(&self, step: LifecycleStep, reason: &str) -> RuntimeError {
        RuntimeError::invalid_state(&self.task_id, step, reason)
    }

    /// Waits until the exit watcher has recorded an exit (or failed), at most `limit`.
    async fn exited_within(&self, limit: Duration) -> Result<bool, DockerError> {
        let mut rx = self.inner.exit.subscribe();
        let waited = tokio::time::timeout(limit, async {
            loop {
                let state = rx.borrow_and_update().clone();
                match state {
                    ExitState::Exited(_) => return Ok(()),
                    ExitState::WatchFailed { message, .. } => {
                        return Err(DockerError::Transport {
                            operation: format!("wait container {}", self.inner.container),
                            message,
                        });
                    }
                    ExitState::NotStarted | ExitState::Running => {}
                }
                if rx.changed().await.is_err() {
                    // The sender lives in `inner`, which `self` keeps alive.
                    return Ok(());
                }
            }
        })
        .await;
        match waited {
            Ok(Ok(())) => Ok(true),
            Ok(Err(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    fn has_exited(&self) -> bool {
        matches!(*self.inner.exit.borrow(), ExitState::Exited(_))
    }

    /// Sends `signal`; a container that is not running (409) or gone (404) is fine.
    async fn kill(&self, signal: &str) -> Result<(), DockerError> {
        let opts = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        match self
            .inner
            .docker
            .kill_container(&self.inner.container, Some(opts))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let e =
                    DockerError::from_bollard(format!("kill {} {signal}", self.inner.container), e);
                match e.status() {
                    Some(404 | 409) => Ok(()),
                    _ => Err(e),
                }
            }
        }
    }

    /// SIGKILL, then wait for the exit to be recorded.
    async fn kill_and_wait(&self, step: LifecycleStep) -> Result<(), RuntimeError> {
        if self.has_exited() {
            return Ok(());
        }
        self.kill("SIGKILL")
            .await
            .map_err(|e| to_runtime_error(step, e))?;
        match self.exited_within(KILL_EXIT_TIMEOUT).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(RuntimeError::temporary(
                step,
                format!(
                    "container {} did not exit within {KILL_EXIT_TIMEOUT:?} of SIGKILL",
                    self.inner.container
                ),
            )),
            Err(e) => Err(to_runtime_error(step, e)),
        }
    }

    async fn phase(&self) -> Phase {
        *self.inner.phase.lock().await
    }

    /// The runtime's network lock, shared with the other tasks creating or starting their
    /// containers, for a task that has networks.
    async fn share_networks(&self) -> Option<tokio::sync::RwLockReadGuard<'_, ()>> {
        if self.inner.networks.is_empty() {
            None
        } else {
            Some(self.inner.network_lock.share().await)
        }
    }

    /// The runtime's network lock alone (no task creating or starting meanwhile), to remove
    /// the task's networks, for a task that has networks.
    async fn exclusive_networks(&self) -> Option<tokio::sync::RwLockWriteGuard<'_, ()>> {
        if self.inner.networks.is_empty() {
            None
        } else {
            Some(self.inner.network_lock.exclusive().await)
        }
    }

    /// Creates the task's local networks that are absent (they may have gone with the last
    /// task of another adapter since `prepare`), one creation at a time within the runtime.
    /// The caller shares the network lock.
    async fn ensure_networks(&self) -> Result<(), DockerError> {
        let inner = &self.inner;
        if inner.networks.is_empty() {
            return Ok(());
        }
        let _creating = inner.network_lock.creating().await;
        ensure_networks(&inner.docker, &inner.networks, &inner.config.namespace).await
    }

    /// Creates the container, pulling the image if allowed, adopting an existing container of
    /// the same task.
    async fn create_container(&self) -> Result<(), DockerError> {
        let inner = &self.inner;
        let files = lock(&inner.files).clone();
        let dir = inner.task_dir.clone();
        let allow_disk = inner.config.allow_secrets_on_disk;
        let written =
            tokio::task::spawn_blocking(move || write_task_files(&dir, allow_disk, &files))
                .await
                .map_err(|e| DockerError::Transport {
                    operation: "writing task files".to_owned(),
                    message: e.to_string(),
                })??;
        let body = container_create_body(&inner.task, &written, &inner.config)?;
        let image = inner.task.spec.container.image.clone();
        let mut pulled = false;
        let mut network_attempts = 0u32;
        loop {
            let opts = CreateContainerOptionsBuilder::default()
                .name(&inner.container)
                .build();
            // Shared from the networks' creation to the container's joining them, so no
            // removal of this runtime takes a network in between; released for a pull.
            let networks_guard = self.share_networks().await;
            self.ensure_networks().await?;
            let err = match inner
                .docker
                .create_container(Some(opts), body.clone())
                .await
            {
                Ok(resp) => {
                    for w in resp.warnings {
                        tracing::warn!(container = %inner.container, warning = %w, "engine warning");
                    }
                    return connect_missing(&inner.docker, &inner.container, &inner.networks).await;
                }
                Err(e) => {
                    DockerError::from_bollard(format!("create container {}", inner.container), e)
                }
            };
            match err.status() {
                Some(409) => {
                    self.adopt_existing().await?;
                    return connect_missing(&inner.docker, &inner.container, &inner.networks).await;
                }
                // "network not found": another adapter removed it after our creation.
                Some(404) => {
                    if let Some(net) = missing_network(&inner.docker, &inner.networks).await? {
                        network_attempts += 1;
                        if network_attempts < MAX_NETWORK_ATTEMPTS {
                            continue;
                        }
                        return Err(DockerError::NetworkRemoved {
                            network: net.local_name.clone(),
                        });
                    }
                }
                _ => {}
            }
            drop(networks_guard);
            match err.status() {
                Some(404) if !pulled && inner.config.pull_missing_images => {
                    pull_image(&inner.docker, &image).await?;
                    pulled = true;
                }
                // Pulling is disabled. (After a pull the engine's own 404 is returned as is:
                // `ImageNotFound` would wrongly say that pulling is disabled.)
                Some(404) if !inner.config.pull_missing_images => {
                    return Err(DockerError::ImageNotFound { image });
                }
                _ => return Err(err),
            }
        }
    }

    /// A container with our name exists: take it over if it is this task's.
    async fn adopt_existing(&self) -> Result<(), DockerError> {
        let inner = &self.inner;
        let info = inner
            .docker
            .inspect_container(&inner.container, None)
            .await
            .map_err(|e| DockerError::from_bollard(format!("inspect {}", inner.container), e))?;
        let labels = info
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        let ours = labels.get(LABEL_TASK_ID).map(String::as_str) == Some(self.task_id.as_str())
            && labels.get(LABEL_NAMESPACE) == Some(&inner.config.namespace);
        if !ours {
            return Err(DockerError::ContainerNameTaken {
                task_id: self.task_id.to_string(),
                container: inner.container.clone(),
            });
        }
        tracing::info!(container = %inner.container, "adopting the task's existing container");
        *lock(&inner.adopted) = true;
        Ok(())
    }

    /// After create: a task without a health check in its spec may have one from its image.
    async fn detect_image_healthcheck(&self) -> Result<(), DockerError> {
        let inner = &self.inner;
        if inner.task.spec.container.healthcheck.is_some() {
            return Ok(());
        }
        let info = inner
            .docker
            .inspect_container(&inner.container, None)
            .await
            .map_err(|e| DockerError::from_bollard(format!("inspect {}", inner.container), e))?;
        let has_check = info
            .config
            .and_then(|c| c.healthcheck)
            .and_then(|h| h.test)
            .is_some_and(|t| !t.is_empty() && t[0] != "NONE");
        if has_check {
            lock(&inner.health).get_or_insert_with(|| watch::Sender::new(HealthStatus::Starting));
        }
        Ok(())
    }

    fn spawn_watchers(&self) {
        self.inner.exit.send_replace(ExitState::Running);
        self.spawn(watch_exit(self.inner.clone()));
        self.spawn(follow_logs(self.inner.clone()));
        if lock(&self.inner.health).is_some() {
            self.spawn(poll_health(self.inner.clone()));
        }
    }

    fn abort_background(&self) {
        for h in lock(&self.inner.background).drain(..) {
            h.abort();
        }
    }
}

/// Waits for the container to stop once, and reads its exit code.
async fn wait_once(inner: &Inner) -> Result<ExitStatus, DockerError> {
    let opts = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let mut stream = inner.docker.wait_container(&inner.container, Some(opts));
    let mut code_from_wait = None;
    match stream.next().await {
        Some(Ok(resp)) => code_from_wait = Some(resp.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
            code_from_wait = Some(code)
        }
        Some(Err(e)) => {
            let e = DockerError::from_bollard(format!("wait {}", inner.container), e);
            if e.status() == Some(404) {
                return Err(DockerError::NoSuchContainer {
                    task_id: inner.task.id.to_string(),
                    container: inner.container.clone(),
                });
            }
            return Err(e);
        }
        None => {}
    }
    // The inspected state is authoritative (and tells an OOM kill).
    match inner.docker.inspect_container(&inner.container, None).await {
        Ok(info) => {
            let state = info.state.unwrap_or_default();
            if state.running == Some(true) {
                return Err(DockerError::Transport {
                    operation: format!("wait {}", inner.container),
                    message: "the engine answered the wait while the container still runs"
                        .to_owned(),
                });
            }
            if state.oom_killed == Some(true) {
                tracing::warn!(container = %inner.container, "task was killed: out of memory");
            }
            let code = state
                .exit_code
                .or(code_from_wait)
                .ok_or(DockerError::MissingField {
                    operation: format!("inspect {}", inner.container),
                    field: "State.ExitCode",
                })?;
            Ok(ExitStatus::Exited {
                code: i32::try_from(code).unwrap_or(i32::MAX),
            })
        }
        Err(e) => match code_from_wait {
            Some(code) => Ok(ExitStatus::Exited {
                code: i32::try_from(code).unwrap_or(i32::MAX),
            }),
            None => Err(DockerError::from_bollard(
                format!("inspect {}", inner.container),
                e,
            )),
        },
    }
}

/// Milliseconds since `since`, for the debug logs.
fn elapsed_ms(since: std::time::Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Records the container's exit in `inner.exit`.
async fn watch_exit(inner: Arc<Inner>) {
    let mut last = None;
    for attempt in 0..MAX_WAIT_ATTEMPTS {
        match wait_once(&inner).await {
            Ok(status) => {
                tracing::debug!(container = %inner.container, %status, "container exited");
                // Publish the exit only once the output is in the buffer, so that logs read
                // after `wait` returns are complete.
                let draining = std::time::Instant::now();
                let mut done = inner.logs_done.subscribe();
                let _ = tokio::time::timeout(LOG_DRAIN_TIMEOUT, done.wait_for(|d| *d)).await;
                tracing::debug!(container = %inner.container, drained_ms = elapsed_ms(draining), "exit published");
                inner.exit.send_replace(ExitState::Exited(status));
                return;
            }
            Err(e) if !e.is_retryable() => {
                last = Some(e);
                break;
            }
            Err(e) => {
                tracing::warn!(container = %inner.container, attempt, error = %e, "waiting for the container failed");
                last = Some(e);
                tokio::time::sleep(WAIT_RETRY_BACKOFF).await;
            }
        }
    }
    let (message, retryable) = match last {
        Some(e) => (e.to_string(), e.is_retryable()),
        None => ("no attempt was made".to_owned(), true),
    };
    inner
        .exit
        .send_replace(ExitState::WatchFailed { message, retryable });
}

/// Copies the container's output into the bounded log buffer until it ends.
async fn follow_logs(inner: Arc<Inner>) {
    let opts = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = inner.docker.logs(&inner.container, Some(opts));
    while let Some(item) = stream.next().await {
        match item {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                inner.logs.push(LogStreamKind::Stdout, &message)
            }
            Ok(LogOutput::StdErr { message }) => inner.logs.push(LogStreamKind::Stderr, &message),
            Ok(LogOutput::StdIn { .. }) => {}
            Err(e) => {
                tracing::warn!(container = %inner.container, error = %e, "reading logs failed");
                break;
            }
        }
    }
    inner.logs.close();
    inner.logs_done.send_replace(true);
}

/// Follows the engine's health status of the container while it runs.
async fn poll_health(inner: Arc<Inner>) {
    let Some(tx) = lock(&inner.health).clone() else {
        return;
    };
    let mut failures = 0u32;
    loop {
        if !matches!(*inner.exit.borrow(), ExitState::Running) {
            return;
        }
        match inner.docker.inspect_container(&inner.container, None).await {
            Ok(info) => {
                failures = 0;
                let state = info.state.unwrap_or_default();
                let status = state.health.and_then(|h| h.status).and_then(|s| match s {
                    HealthStatusEnum::STARTING => Some(HealthStatus::Starting),
                    HealthStatusEnum::HEALTHY => Some(HealthStatus::Healthy),
                    HealthStatusEnum::UNHEALTHY => Some(HealthStatus::Unhealthy),
                    HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => None,
                });
                if let Some(status) = status {
                    tx.send_if_modified(|cur| {
                        let changed = *cur != status;
                        *cur = status;
                        changed
                    });
                }
                if !matches!(
                    state.status,
                    Some(ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::CREATED)
                ) {
                    return;
                }
            }
            Err(e) => {
                failures += 1;
                if failures >= MAX_HEALTH_POLL_FAILURES {
                    tracing::warn!(container = %inner.container, error = %e, "giving up reading health");
                    return;
                }
            }
        }
        tokio::time::sleep(inner.config.health_poll_period).await;
    }
}

#[async_trait]
impl Controller for DockerController {
    fn task_id(&self) -> &TaskId {
        &self.task_id
    }

    async fn prepare(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Prepare;
        let mut phase = self.inner.phase.lock().await;
        if phase.check_prepare(&self.task_id)? == PhaseCheck::AlreadyDone {
            return Ok(());
        }
        let started = std::time::Instant::now();
        if let Err(e) = self.create_container().await {
            let _ = remove_task_dir(&self.inner.task_dir);
            return Err(to_runtime_error(step, e));
        }
        let created_ms = elapsed_ms(started);
        self.detect_image_healthcheck()
            .await
            .map_err(|e| to_runtime_error(step, e))?;
        tracing::debug!(container = %self.inner.container, created_ms, prepared_ms = elapsed_ms(started), "container prepared");
        // The files are on tmpfs now; drop (and zeroize) the plaintext held in memory.
        lock(&self.inner.files).clear();
        *phase = Phase::Prepared;
        Ok(())
    }

    async fn start(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Start;
        let mut phase = self.inner.phase.lock().await;
        if phase.check_start(&self.task_id)? == PhaseCheck::AlreadyDone {
            return Ok(());
        }
        let inner = &self.inner;
        let started = std::time::Instant::now();
        let mut run = true;
        if *lock(&inner.adopted) {
            // An adopted container is started only if it never ran: a task never runs twice.
            let info = inner
                .docker
                .inspect_container(&inner.container, None)
                .await
                .map_err(|e| {
                    to_runtime_error(
                        step,
                        DockerError::from_bollard(format!("inspect {}", inner.container), e),
                    )
                })?;
            let status = info.state.and_then(|s| s.status);
            run = status == Some(ContainerStateStatusEnum::CREATED);
        }
        if run {
            let _networks = self.share_networks().await;
            self.ensure_networks()
                .await
                .map_err(|e| to_runtime_error(step, e))?;
            if let Err(e) = inner.docker.start_container(&inner.container, None).await {
                let e = DockerError::from_bollard(format!("start {}", inner.container), e);
                let e = if e.status() == Some(404) {
                    match missing_network(&inner.docker, &inner.networks).await {
                        Ok(Some(net)) => DockerError::NetworkRemoved {
                            network: net.local_name.clone(),
                        },
                        _ => DockerError::NoSuchContainer {
                            task_id: self.task_id.to_string(),
                            container: inner.container.clone(),
                        },
                    }
                } else {
                    e
                };
                return Err(to_runtime_error(step, e));
            }
        }
        *phase = Phase::Started;
        self.spawn_watchers();
        tracing::debug!(container = %inner.container, started_ms = elapsed_ms(started), "container started");
        Ok(())
    }

    async fn wait(&self) -> Result<ExitStatus, RuntimeError> {
        let step = LifecycleStep::Wait;
        let mut rx = self.inner.exit.subscribe();
        loop {
            let state = rx.borrow_and_update().clone();
            match state {
                ExitState::NotStarted => {
                    return Err(self.invalid_state(step, "not started"));
                }
                ExitState::Exited(status) => return Ok(status),
                ExitState::WatchFailed { message, retryable } => {
                    if retryable && self.phase().await == Phase::Started {
                        // Let the next call try again.
                        self.inner.exit.send_replace(ExitState::Running);
                        self.spawn(watch_exit(self.inner.clone()));
                    }
                    let kind = if retryable {
                        ErrorKind::Temporary
                    } else {
                        ErrorKind::Permanent
                    };
                    return Err(RuntimeError::with_source(
                        kind,
                        step,
                        format!("cannot observe container {}", self.inner.container),
                        message,
                    ));
                }
                ExitState::Running => {}
            }
            if rx.changed().await.is_err() {
                return Err(RuntimeError::temporary(step, "exit watcher ended"));
            }
        }
    }

    async fn shutdown(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Shutdown;
        if self.phase().await != Phase::Started || self.has_exited() {
            return Ok(());
        }
        let spec = &self.inner.task.spec.container;
        let signal = spec.stop_signal.as_deref().unwrap_or(DEFAULT_STOP_SIGNAL);
        self.kill(signal)
            .await
            .map_err(|e| to_runtime_error(step, e))?;
        match self.exited_within(spec.stop_grace_period).await {
            Ok(true) => return Ok(()),
            Ok(false) => {
                tracing::info!(
                    container = %self.inner.container,
                    grace = ?spec.stop_grace_period,
                    "task did not stop within its grace period: killing it"
                );
            }
            Err(e) => return Err(to_runtime_error(step, e)),
        }
        self.kill_and_wait(step).await
    }

    async fn terminate(&self) -> Result<(), RuntimeError> {
        if self.phase().await != Phase::Started {
            return Ok(());
        }
        self.kill_and_wait(LifecycleStep::Terminate).await
    }

    async fn remove(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Remove;
        let mut phase = self.inner.phase.lock().await;
        if *phase == Phase::Removed {
            return Ok(());
        }
        let inner = &self.inner;
        if *phase == Phase::Started {
            self.kill_and_wait(step).await?;
            // Let the log reader take the last output before the container goes.
            let drained = {
                let mut handles = lock(&inner.background);
                std::mem::take(&mut *handles)
            };
            let _ = tokio::time::timeout(LOG_DRAIN_TIMEOUT, async {
                for h in drained {
                    let _ = h.await;
                }
            })
            .await;
        }
        self.abort_background();
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        if let Err(e) = inner
            .docker
            .remove_container(&inner.container, Some(opts))
            .await
        {
            let e = DockerError::from_bollard(format!("remove {}", inner.container), e);
            if e.status() != Some(404) {
                return Err(to_runtime_error(step, e));
            }
        }
        remove_task_dir(&inner.task_dir).map_err(|e| to_runtime_error(step, e))?;
        lock(&inner.files).clear();
        if let Some(_networks) = self.exclusive_networks().await {
            for net in &inner.networks {
                remove_if_unused(&inner.docker, net)
                    .await
                    .map_err(|e| to_runtime_error(step, e))?;
            }
        }
        inner.logs.close();
        *phase = Phase::Removed;
        lock(&inner.registry).remove(&inner.container);
        Ok(())
    }

    fn health(&self) -> Option<watch::Receiver<HealthStatus>> {
        lock(&self.inner.health).as_ref().map(|tx| tx.subscribe())
    }

    async fn logs(&self, options: LogOptions) -> Result<LogStream, RuntimeError> {
        Ok(self.inner.logs.stream(options))
    }
}

impl Drop for DockerController {
    fn drop(&mut self) {
        self.abort_background();
        let removed = self
            .inner
            .phase
            .try_lock()
            .map(|p| *p == Phase::Removed)
            .unwrap_or(false);
        lock(&self.inner.registry).remove(&self.inner.container);
        if removed {
            return;
        }
        // Best effort: the secret files go now; the container goes in the background.
        let _ = remove_task_dir(&self.inner.task_dir);
        lock(&self.inner.files).clear();
        self.inner.logs.close();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let docker = self.inner.docker.clone();
            let container = self.inner.container.clone();
            let networks = self.inner.networks.clone();
            let network_lock = self.inner.network_lock.clone();
            handle.spawn(async move {
                let opts = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                if let Err(e) = docker.remove_container(&container, Some(opts)).await {
                    tracing::debug!(%container, error = %e, "removing a dropped task's container");
                }
                if networks.is_empty() {
                    return;
                }
                let _networks = network_lock.exclusive().await;
                for net in &networks {
                    if let Err(e) = remove_if_unused(&docker, net).await {
                        tracing::debug!(network = %net.local_name, error = %e, "removing a dropped task's network");
                    }
                }
            });
        } else {
            tracing::warn!(
                container = %self.inner.container,
                "controller dropped outside a tokio runtime without remove: its container stays \
                 until the next orphan clean-up"
            );
        }
    }
}
