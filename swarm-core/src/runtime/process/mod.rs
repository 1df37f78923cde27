//! `ProcessRuntime`: tasks as real OS processes (unix).
//!
//! # Mapping of the spec
//!
//! - **Program.** If `container.command` is set, `command[0]` is the program and
//!   `command[1..]` followed by `args` are its arguments; otherwise `container.image` is the
//!   program and `args` its arguments. A program containing `/` is a path (relative paths are
//!   relative to an explicit `workdir`); a bare name is searched in the task's `PATH`. A missing
//!   program fails `prepare` permanently.
//! - **Environment.** The task does *not* inherit the agent's environment. It gets
//!   [`ProcessRuntimeConfig::base_env`] (by default only `PATH`), `HOME` (the user's home if a
//!   user is set, else the task's work directory), `HOSTNAME` if the spec sets `hostname`, the
//!   spec's `env` (`KEY=value`; later entries win), and finally, not overridable,
//!   `SWARM_TASK_ID`, `SWARM_TASK_DIR`, `SWARM_SECRETS_DIR`, `SWARM_CONFIGS_DIR` and
//!   `SWARM_FILES_ROOT`.
//! - **Working directory.** `workdir` (absolute) or, by default, `$SWARM_TASK_DIR/work`.
//! - **User.** `user` (`name`, `uid`, `name:group`, `uid:gid`) is applied with setuid/setgid
//!   (supplementary groups dropped) when the runtime is root; otherwise only the runtime's own
//!   identity is accepted and anything else fails `prepare` with
//!   [`RuntimeError::PermissionDenied`].
//! - **Secrets and configs** are written into a private per-task directory (mode 0700) on a
//!   tmpfs where available — `/dev/shm` unless [`ProcessRuntimeConfig::state_dir`] says
//!   otherwise; when only a disk-backed directory is usable the runtime logs a warning and
//!   reports it in [`ProcessRuntime::secret_storage`] and in the engine label
//!   [`SECRET_STORAGE_LABEL`]. A bare secret target `name` is `$SWARM_SECRETS_DIR/name`, a bare
//!   config target is `$SWARM_CONFIGS_DIR/name`, and an absolute target `/p/q` (secret or
//!   config) is `$SWARM_FILES_ROOT/p/q`: processes share the host's filesystem, so targets
//!   cannot be placed at their absolute paths. Each file has its target's mode and, when the
//!   runtime is root, its uid and gid. The directory is deleted by `remove`.
//! - **Stop.** `shutdown` sends the stop signal (`stop_signal` by name or number, SIGTERM by
//!   default) to the task's whole process group, waits up to `stop_grace_period`, then sends
//!   SIGKILL to the group. `terminate` sends SIGKILL at once. When the main process exits, what
//!   is left of its group is killed, as in a container.
//! - **Exit.** Exit code 0 is complete, any other code failed; death by a signal is reported as
//!   [`ExitStatus::Signaled`](crate::runtime::ExitStatus::Signaled) with the signal's name.
//! - **Logs.** stdout and stderr are kept in a ring buffer of
//!   [`ProcessRuntimeConfig::log_buffer_bytes`] bytes
//!   ([`DEFAULT_LOG_BUFFER_BYTES`]).
//! - **Health.** `CMD` / `CMD-SHELL` checks run as the task's user in its environment and
//!   working directory, each in its own process group killed after the check, with Docker's
//!   semantics for `interval`, `timeout`, `retries` and `start_period` (zero values take
//!   Docker's defaults: 30 s, 30 s, 3).
//! - **Not supported:** `mounts` (refused with [`RuntimeError::InvalidSpec`]); resource limits
//!   are not enforced.
//!
//! ```no_run
//! use swarm_core::runtime::process::ProcessRuntime;
//! use swarm_core::runtime::{Runtime, TaskFiles};
//! use swarm_core::model::{Task, TaskSpec};
//!
//! # async fn demo() -> Result<(), swarm_core::runtime::RuntimeError> {
//! let runtime = ProcessRuntime::new()?;
//! let mut spec = TaskSpec::default();
//! spec.container.command = vec!["/bin/sh".into(), "-c".into(), "exit 3".into()];
//! let task = Task::new("t1".into(), "svc".into(), spec, std::time::SystemTime::now());
//! let ctl = runtime.controller(&task, TaskFiles::new()).await?;
//! ctl.prepare().await?;
//! ctl.start().await?;
//! assert_eq!(ctl.wait().await?.exit_code(), 3);
//! ctl.remove().await?;
//! # Ok(())
//! # }
//! ```

mod controller;
mod health;
mod launch;
mod plan;
mod signal;
mod task_dir;
mod user;

pub use controller::{GROUP_EXIT_WAIT, OUTPUT_DRAIN_TIMEOUT};
pub use plan::{
    DEFAULT_HEALTH_INTERVAL, DEFAULT_HEALTH_RETRIES, DEFAULT_HEALTH_TIMEOUT, MAX_ENV_ENTRIES,
    MAX_TASK_ID_LEN,
};
pub use signal::{parse_signal, signal_name};
pub use task_dir::{
    ENV_CONFIGS_DIR, ENV_FILES_ROOT, ENV_SECRETS_DIR, ENV_TASK_DIR, ENV_TASK_ID,
    MAX_REMOVE_WALK_ENTRIES, PRIVATE_DIR_MODE, TaskDir,
};
pub use user::{TaskUser, current_ids, is_root, resolve_user};

use crate::model::{EngineDescription, GenericResource, NodeDescription, Resources, Task, TaskId};
use crate::runtime::controller::Controller;
use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::files::TaskFiles;
use crate::runtime::host;
use crate::runtime::logs::DEFAULT_LOG_BUFFER_BYTES;
use async_trait::async_trait;
use controller::ProcessController;
use plan::{Plan, validate_task_id};
use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The engine version a process runtime reports.
pub const PROCESS_ENGINE_VERSION: &str = concat!("swarm-process/", env!("CARGO_PKG_VERSION"));

/// Engine label telling where secret files live: `tmpfs` or `disk`.
pub const SECRET_STORAGE_LABEL: &str = "swarm.process.secret-storage";

/// Mode of the runtime's state directory: traversable (so that a task running as another user
/// reaches its own 0700 directory) but not listable by others.
pub const STATE_DIR_MODE: u32 = 0o711;

/// The tmpfs tried first for secret files.
pub const DEFAULT_TMPFS_DIR: &str = "/dev/shm";

/// Default bound on the wait for a process to die after SIGKILL.
pub const DEFAULT_FORCE_KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// The default `PATH` of tasks.
pub const DEFAULT_TASK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a runtime keeps secret files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretStorage {
    /// A memory-backed filesystem: secrets never reach a disk.
    Tmpfs,
    /// A disk-backed directory (fallback): secrets are deleted on `remove` but touch the disk.
    Disk,
}

impl SecretStorage {
    /// `"tmpfs"` or `"disk"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStorage::Tmpfs => "tmpfs",
            SecretStorage::Disk => "disk",
        }
    }
}

/// Settings of a [`ProcessRuntime`].
#[derive(Clone, Debug)]
pub struct ProcessRuntimeConfig {
    /// Parent directory of the runtime's state directory; `None` tries [`DEFAULT_TMPFS_DIR`]
    /// and falls back to the system temp directory.
    pub state_dir: Option<PathBuf>,
    /// Bytes of output kept per task.
    pub log_buffer_bytes: usize,
    /// Environment every task starts from (default: `PATH` = [`DEFAULT_TASK_PATH`]).
    pub base_env: Vec<(String, String)>,
    /// Hostname reported by `describe` (default: the host's).
    pub hostname: Option<String>,
    /// Engine labels reported by `describe` (plus [`SECRET_STORAGE_LABEL`]).
    pub engine_labels: BTreeMap<String, String>,
    /// Generic resources the node offers (e.g. GPUs); reported by `describe`.
    pub generic_resources: Vec<GenericResource>,
    /// Bound on the wait for a process to die after SIGKILL.
    pub force_kill_timeout: Duration,
}

impl Default for ProcessRuntimeConfig {
    fn default() -> Self {
        ProcessRuntimeConfig {
            state_dir: None,
            log_buffer_bytes: DEFAULT_LOG_BUFFER_BYTES,
            base_env: vec![("PATH".to_owned(), DEFAULT_TASK_PATH.to_owned())],
            hostname: None,
            engine_labels: BTreeMap::new(),
            generic_resources: Vec::new(),
            force_kill_timeout: DEFAULT_FORCE_KILL_TIMEOUT,
        }
    }
}

pub(crate) struct RuntimeInner {
    root: PathBuf,
    storage: SecretStorage,
    pub(crate) config: ProcessRuntimeConfig,
    live: Mutex<HashSet<TaskId>>,
}

impl RuntimeInner {
    pub(crate) fn release(&self, id: &TaskId) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        // Every controller holds an Arc to us, so all task directories are gone by now.
        let _ = std::fs::remove_dir(&self.root);
    }
}

/// Runs tasks as real OS processes; see the [module docs](self) for how a spec maps to a
/// process. Cheap to clone.
#[derive(Clone)]
pub struct ProcessRuntime {
    inner: Arc<RuntimeInner>,
}

impl std::fmt::Debug for ProcessRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessRuntime")
            .field("state_dir", &self.inner.root)
            .field("secret_storage", &self.inner.storage)
            .finish()
    }
}

fn is_tmpfs(path: &Path) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        nix::sys::statfs::statfs(path)
            .map(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
            .unwrap_or(false)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = path;
        false
    }
}

fn create_private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    remove_stale_state_dirs(parent);
    let name = format!(
        "{STATE_DIR_PREFIX}{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let path = parent.join(name);
    std::fs::DirBuilder::new()
        .mode(STATE_DIR_MODE)
        .create(&path)?;
    // The umask may have masked bits out.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(STATE_DIR_MODE))?;
    Ok(path)
}

/// Most entries of the state directory's parent examined for stale state directories.
pub const MAX_STALE_SCAN_ENTRIES: usize = 10_000;

/// Prefix of every runtime state directory: `swarm-process-<pid>-<sequence>`.
const STATE_DIR_PREFIX: &str = "swarm-process-";

/// Removes the state directories of runtimes whose process is gone (an agent that crashed
/// leaves its tasks' secret files behind otherwise). Only directories owned by this process's
/// user and named `swarm-process-<pid>-<n>` with a dead `<pid>` are removed. Returns how many.
fn remove_stale_state_dirs(parent: &Path) -> usize {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    use std::os::unix::fs::MetadataExt;

    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let me = std::process::id();
    let (uid, _) = user::current_ids();
    let mut removed = 0;
    for entry in entries.flatten().take(MAX_STALE_SCAN_ENTRIES) {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STATE_DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(pid, seq)| seq.parse::<u64>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        let owned = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if pid == me || !owned {
            continue;
        }
        let dead = match i32::try_from(pid) {
            Ok(p) => kill(Pid::from_raw(p), None) == Err(Errno::ESRCH),
            // Not a possible pid: no process can own it.
            Err(_) => true,
        };
        if dead && std::fs::remove_dir_all(entry.path()).is_ok() {
            tracing::warn!(dir = %entry.path().display(), "removed the state directory of a runtime that is gone");
            removed += 1;
        }
    }
    removed
}

impl ProcessRuntime {
    /// A runtime with the default settings.
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_config(ProcessRuntimeConfig::default())
    }

    /// A runtime with `config`. Creates its state directory (mode 0711, see [`STATE_DIR_MODE`])
    /// holding one 0700 directory per task, on a tmpfs if possible. State directories left in
    /// the same place by runtimes whose process is gone (a crashed agent) are removed first, so
    /// their secret files do not linger.
    pub fn with_config(config: ProcessRuntimeConfig) -> Result<Self, RuntimeError> {
        let step = LifecycleStep::Create;
        let root = match &config.state_dir {
            Some(dir) => create_private_dir(dir).map_err(|e| {
                RuntimeError::io(
                    step,
                    format!("creating a state directory in {}", dir.display()),
                    e,
                )
            })?,
            None => {
                let shm = Path::new(DEFAULT_TMPFS_DIR);
                let on_shm = if is_tmpfs(shm) {
                    create_private_dir(shm).ok()
                } else {
                    None
                };
                match on_shm {
                    Some(p) => p,
                    None => {
                        let tmp = std::env::temp_dir();
                        create_private_dir(&tmp).map_err(|e| {
                            RuntimeError::io(
                                step,
                                format!("creating a state directory in {}", tmp.display()),
                                e,
                            )
                        })?
                    }
                }
            }
        };
        let storage = if is_tmpfs(&root) {
            SecretStorage::Tmpfs
        } else {
            tracing::warn!(
                dir = %root.display(),
                "no tmpfs available: secret files of process tasks are kept on disk until removed"
            );
            SecretStorage::Disk
        };
        Ok(ProcessRuntime {
            inner: Arc::new(RuntimeInner {
                root,
                storage,
                config,
                live: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The runtime's private state directory (parent of every task directory).
    pub fn state_dir(&self) -> &Path {
        &self.inner.root
    }

    /// Whether secret files are on a tmpfs or fell back to disk.
    pub fn secret_storage(&self) -> SecretStorage {
        self.inner.storage
    }

    /// The private directory task `id` gets (it exists from `prepare` to `remove`).
    pub fn task_dir(&self, id: &TaskId) -> PathBuf {
        self.inner.root.join(id.as_str())
    }

    /// Tasks with a controller that was not removed.
    pub fn live_tasks(&self) -> Vec<TaskId> {
        self.inner
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl crate::runtime::Runtime for ProcessRuntime {
    async fn describe(&self) -> Result<NodeDescription, RuntimeError> {
        let cfg = &self.inner.config;
        let hostname = cfg
            .hostname
            .clone()
            .or_else(host::hostname)
            .unwrap_or_else(|| "localhost".to_owned());
        let mut labels = cfg.engine_labels.clone();
        labels.insert(
            SECRET_STORAGE_LABEL.to_owned(),
            self.inner.storage.as_str().to_owned(),
        );
        Ok(NodeDescription {
            hostname,
            platform: host::current_platform(),
            resources: Resources {
                nano_cpus: host::available_nano_cpus(),
                memory_bytes: host::total_memory_bytes().unwrap_or(0),
                generic: cfg.generic_resources.clone(),
            },
            engine: EngineDescription {
                engine_version: PROCESS_ENGINE_VERSION.to_owned(),
                labels,
            },
            seal_public_key: None,
        })
    }

    async fn controller(
        &self,
        task: &Task,
        files: TaskFiles,
    ) -> Result<Box<dyn Controller>, RuntimeError> {
        validate_task_id(task.id.as_str())?;
        let dir = TaskDir {
            path: self.task_dir(&task.id),
        };
        let plan = Plan::from_task(task, &dir, &self.inner.config.base_env)?;
        {
            let mut live = self.inner.live.lock().unwrap_or_else(|p| p.into_inner());
            if !live.insert(task.id.clone()) {
                return Err(RuntimeError::invalid_state(
                    &task.id,
                    LifecycleStep::Create,
                    "this runtime already has a controller for the task; remove it first",
                ));
            }
        }
        Ok(Box::new(ProcessController::new(
            task.clone(),
            Arc::clone(&self.inner),
            dir,
            plan,
            files,
        )))
    }
}
