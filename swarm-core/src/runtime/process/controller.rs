//! The process runtime's per-task controller.

use crate::model::{Task, TaskId};
use crate::runtime::controller::Controller;
use crate::runtime::error::{LifecycleStep, RuntimeError};
use crate::runtime::exit::ExitStatus;
use crate::runtime::files::TaskFiles;
use crate::runtime::health::HealthStatus;
use crate::runtime::logs::{LogBuffer, LogOptions, LogStream, LogStreamKind};
use crate::runtime::phase::{LifecyclePhase, PhaseCheck};
use crate::runtime::process::RuntimeInner;
use crate::runtime::process::health::run_health_checks;
use crate::runtime::process::launch::{Launch, signal_group, wait_group_gone};
use crate::runtime::process::plan::{Plan, resolve_program};
use crate::runtime::process::signal::signal_name;
use crate::runtime::process::task_dir::TaskDir;
use crate::runtime::process::user::{TaskUser, current_ids, is_root, resolve_user};
use async_trait::async_trait;
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long the waiter keeps reading output after the main process exited (and its group was
/// killed) before closing the logs: only a process that escaped the group can hold the pipes
/// longer.
pub const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the waiter waits, after the main process exited and SIGKILL was sent to its group,
/// for the rest of the group to disappear before reporting the exit.
pub const GROUP_EXIT_WAIT: Duration = Duration::from_millis(500);

/// Size of one read from a task's stdout or stderr.
const READ_CHUNK_BYTES: usize = 8 * 1024;

type ExitSlot = Option<Result<ExitStatus, String>>;

struct State {
    phase: LifecyclePhase,
    was_started: bool,
    files: TaskFiles,
    launch: Option<Launch>,
    health_probe: Option<Launch>,
    pgid: Option<i32>,
    tasks: Vec<JoinHandle<()>>,
}

pub(crate) struct ProcessController {
    task: Task,
    rt: Arc<RuntimeInner>,
    dir: TaskDir,
    plan: Plan,
    state: Mutex<State>,
    exit_tx: watch::Sender<ExitSlot>,
    health_tx: Option<watch::Sender<HealthStatus>>,
    logs: LogBuffer,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // No critical section below can panic half-way through an update.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProcessController {
    pub(crate) fn new(
        task: Task,
        rt: Arc<RuntimeInner>,
        dir: TaskDir,
        plan: Plan,
        files: TaskFiles,
    ) -> Self {
        let health_tx = plan
            .health
            .as_ref()
            .map(|_| watch::channel(HealthStatus::Starting).0);
        let logs = LogBuffer::new(rt.config.log_buffer_bytes);
        ProcessController {
            task,
            rt,
            dir,
            plan,
            state: Mutex::new(State {
                phase: LifecyclePhase::Created,
                was_started: false,
                files,
                launch: None,
                health_probe: None,
                pgid: None,
                tasks: Vec::new(),
            }),
            exit_tx: watch::channel(None).0,
            health_tx,
            logs,
        }
    }

    fn id(&self) -> &TaskId {
        &self.task.id
    }

    fn invalid(&self, step: LifecycleStep, reason: &str) -> RuntimeError {
        RuntimeError::invalid_state(self.id(), step, reason)
    }

    fn exited(&self) -> bool {
        self.exit_tx.borrow().is_some()
    }

    async fn wait_exit(&self) -> Result<ExitStatus, RuntimeError> {
        let mut rx = self.exit_tx.subscribe();
        let slot = match rx.wait_for(|s| s.is_some()).await {
            Ok(v) => v.clone(),
            // The sender lives in `self`; it cannot be dropped while `self` is borrowed.
            Err(_) => None,
        };
        match slot {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(RuntimeError::permanent(LifecycleStep::Wait, e)),
            None => Err(RuntimeError::permanent(
                LifecycleStep::Wait,
                "exit status channel closed",
            )),
        }
    }

    /// Running process group, if the task started and has not exited.
    fn running_group(&self) -> Option<i32> {
        let st = lock(&self.state);
        if st.was_started && !self.exited() {
            st.pgid
        } else {
            None
        }
    }

    /// SIGKILL to the group, then wait (bounded) for the exit.
    async fn kill_and_wait(&self, step: LifecycleStep) -> Result<(), RuntimeError> {
        let Some(pgid) = self.running_group() else {
            return Ok(());
        };
        signal_group(pgid, Signal::SIGKILL, step)?;
        match tokio::time::timeout(self.rt.config.force_kill_timeout, self.wait_exit()).await {
            Ok(_) => Ok(()),
            Err(_) => Err(RuntimeError::temporary(
                step,
                format!(
                    "task {} did not exit within {:?} of SIGKILL",
                    self.id(),
                    self.rt.config.force_kill_timeout
                ),
            )),
        }
    }

    async fn prepare_inner(&self) -> Result<(Launch, Option<Launch>), RuntimeError> {
        let c = &self.task.spec.container;
        if self.task.spec.resources.limits.is_some() {
            tracing::warn!(
                task = %self.id(),
                "ProcessRuntime does not enforce resource limits; the task runs unlimited"
            );
        }
        let resolved = {
            let st = lock(&self.state);
            st.files.resolve(self.id(), c)?
        };
        let user: Option<TaskUser> = match &c.user {
            None => None,
            Some(u) if u.is_empty() => None,
            Some(u) => {
                let tu = resolve_user(u)?;
                if !is_root() && (tu.uid, tu.gid) != current_ids() {
                    return Err(RuntimeError::PermissionDenied {
                        step: LifecycleStep::Prepare,
                        reason: format!(
                            "running task {} as `{u}` ({}:{}) needs root; the runtime runs as {}:{}",
                            self.id(),
                            tu.uid,
                            tu.gid,
                            current_ids().0,
                            current_ids().1
                        ),
                    });
                }
                Some(tu)
            }
        };
        let program_field = if c.command.is_empty() {
            "container.image"
        } else {
            "container.command[0]"
        };
        let path_var = self.plan.path_var();
        let program = resolve_program(
            program_field,
            &self.plan.program,
            path_var,
            &self.plan.workdir,
        )?;
        let mut env = self.plan.env.clone();
        if let (Some(u), false) = (&user, c.env.iter().any(|e| e.starts_with("HOME="))) {
            if let Some(home) = &u.home {
                if let Some(slot) = env.iter_mut().find(|(k, _)| k == "HOME") {
                    slot.1 = home.to_string_lossy().into_owned();
                }
            }
        }
        let launch = Launch {
            program,
            args: self.plan.args.clone(),
            env,
            workdir: self.plan.workdir.clone(),
            user: user.clone(),
        };
        let health_probe = match &self.plan.health {
            None => None,
            Some(h) => Some(Launch {
                program: resolve_program(
                    "container.healthcheck.test[1]",
                    &h.program,
                    path_var,
                    &self.plan.workdir,
                )?,
                args: h.args.clone(),
                ..launch.clone()
            }),
        };
        let root = is_root();
        let dir_owner = match (&user, root) {
            (Some(u), true) => Some((u.uid, u.gid)),
            _ => None,
        };
        let path = self.dir.path.clone();
        let created =
            tokio::task::spawn_blocking(move || TaskDir::create(path, dir_owner, root, &resolved))
                .await
                .map_err(|e| {
                    RuntimeError::permanent(
                        LifecycleStep::Prepare,
                        format!("task directory creation panicked: {e}"),
                    )
                })??;
        debug_assert_eq!(created.path, self.dir.path);
        Ok((launch, health_probe))
    }

    async fn remove_dir(&self) -> Result<(), RuntimeError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || dir.remove())
            .await
            .map_err(|e| {
                RuntimeError::temporary(
                    LifecycleStep::Remove,
                    format!("task directory removal panicked: {e}"),
                )
            })?
    }
}

#[async_trait]
impl Controller for ProcessController {
    fn task_id(&self) -> &TaskId {
        &self.task.id
    }

    async fn prepare(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Prepare;
        {
            let mut st = lock(&self.state);
            if st.phase.begin_prepare(self.id())? == PhaseCheck::AlreadyDone {
                return Ok(());
            }
        }
        let result = self.prepare_inner().await;
        let removed_meanwhile = {
            let mut st = lock(&self.state);
            match (result, st.phase) {
                (Ok((launch, probe)), LifecyclePhase::Preparing) => {
                    st.launch = Some(launch);
                    st.health_probe = probe;
                    st.phase = LifecyclePhase::Prepared;
                    // The files are on the tmpfs now: drop (and zeroize) the plaintext copy.
                    st.files = TaskFiles::new();
                    return Ok(());
                }
                (Err(e), LifecyclePhase::Preparing) => {
                    st.phase = LifecyclePhase::Created;
                    return Err(e);
                }
                _ => true,
            }
        };
        debug_assert!(removed_meanwhile);
        // `remove` ran while we were preparing: undo what we created.
        let _ = self.remove_dir().await;
        Err(self.invalid(step, "removed while preparing"))
    }

    async fn start(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Start;
        let mut st = lock(&self.state);
        if st.phase.check_start(self.id())? == PhaseCheck::AlreadyDone {
            return Ok(());
        }
        let Some(launch) = st.launch.clone() else {
            return Err(self.invalid(step, "prepared without a launch plan"));
        };
        // Spawning is synchronous (fork/exec); the lock is not held across an await.
        let mut child = launch.spawn(true)?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok());
        let Some(pgid) = pgid else {
            return Err(RuntimeError::permanent(
                step,
                "the spawned process has no pid",
            ));
        };
        st.pgid = Some(pgid);
        st.phase = LifecyclePhase::Started;
        st.was_started = true;

        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(pump(
                out,
                LogStreamKind::Stdout,
                self.logs.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(pump(
                err,
                LogStreamKind::Stderr,
                self.logs.clone(),
            )));
        }
        let exit_tx = self.exit_tx.clone();
        let logs = self.logs.clone();
        st.tasks.push(tokio::spawn(async move {
            let waited = child.wait().await;
            // Orphans of the group die with their leader, as in a container.
            let _ = signal_group(pgid, Signal::SIGKILL, LifecycleStep::Wait);
            if !wait_group_gone(pgid, GROUP_EXIT_WAIT).await {
                tracing::warn!(
                    pgid,
                    "processes of the task's group survive SIGKILL (unreaped zombies?)"
                );
            }
            for r in readers {
                let _ = tokio::time::timeout(OUTPUT_DRAIN_TIMEOUT, r).await;
            }
            logs.close();
            let slot = match waited {
                Ok(status) => Ok(match status.signal() {
                    Some(sig) => ExitStatus::Signaled {
                        signal: sig,
                        name: signal_name(sig),
                    },
                    None => ExitStatus::Exited {
                        code: status.code().unwrap_or(-1),
                    },
                }),
                Err(e) => Err(format!("waiting for the process failed: {e}")),
            };
            exit_tx.send_replace(Some(slot));
        }));
        if let (Some(tx), Some(plan), Some(probe)) = (
            self.health_tx.clone(),
            self.plan.health.clone(),
            st.health_probe.clone(),
        ) {
            st.tasks.push(tokio::spawn(run_health_checks(
                plan,
                probe,
                tx,
                self.exit_tx.subscribe(),
            )));
        }
        Ok(())
    }

    async fn wait(&self) -> Result<ExitStatus, RuntimeError> {
        if !lock(&self.state).was_started {
            return Err(self.invalid(LifecycleStep::Wait, "not started"));
        }
        self.wait_exit().await
    }

    async fn shutdown(&self) -> Result<(), RuntimeError> {
        let step = LifecycleStep::Shutdown;
        let Some(pgid) = self.running_group() else {
            return Ok(());
        };
        signal_group(pgid, self.plan.stop_signal, step)?;
        let grace = self.task.spec.container.stop_grace_period;
        if tokio::time::timeout(grace, self.wait_exit()).await.is_ok() {
            return Ok(());
        }
        tracing::debug!(task = %self.id(), ?grace, "stop signal ignored; killing the process group");
        self.kill_and_wait(step).await
    }

    async fn terminate(&self) -> Result<(), RuntimeError> {
        self.kill_and_wait(LifecycleStep::Terminate).await
    }

    async fn remove(&self) -> Result<(), RuntimeError> {
        if lock(&self.state).phase == LifecyclePhase::Removed {
            return Ok(());
        }
        self.kill_and_wait(LifecycleStep::Remove).await?;
        self.remove_dir().await?;
        let mut st = lock(&self.state);
        st.phase = LifecyclePhase::Removed;
        st.files = TaskFiles::new();
        st.launch = None;
        st.health_probe = None;
        for t in st.tasks.drain(..) {
            // The waiter has finished (the task exited); this stops the health checks.
            t.abort();
        }
        drop(st);
        self.rt.release(self.id());
        Ok(())
    }

    fn health(&self) -> Option<watch::Receiver<HealthStatus>> {
        self.health_tx.as_ref().map(|tx| tx.subscribe())
    }

    async fn logs(&self, options: LogOptions) -> Result<LogStream, RuntimeError> {
        Ok(self.logs.stream(options))
    }
}

impl Drop for ProcessController {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if st.phase == LifecyclePhase::Removed {
            return;
        }
        // Best effort for a controller dropped without `remove`: kill, delete, release.
        if let (true, Some(pgid)) = (st.was_started, st.pgid) {
            if self.exit_tx.borrow().is_none() {
                let _ = signal_group(pgid, Signal::SIGKILL, LifecycleStep::Remove);
            }
        }
        // The detached waiter reaps the killed process and publishes the exit, which also
        // ends the health checks.
        let _ = self.dir.remove();
        self.rt.release(&self.task.id);
    }
}

async fn pump<R: AsyncRead + Unpin>(mut reader: R, stream: LogStreamKind, logs: LogBuffer) {
    let mut buf = vec![0u8; READ_CHUNK_BYTES];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => logs.push(stream, &buf[..n]),
        }
    }
}
