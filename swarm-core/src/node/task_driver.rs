//! One task on this node: its controller driven from accepted to a terminal state, every
//! state reported, then removed once the task leaves the node's assignment set. A task whose
//! controller has a health check is reported running only once healthy, and is stopped and
//! failed ([`UNHEALTHY_ERROR`]) when it turns unhealthy, so the restart policy and a rolling
//! update's monitor see it as a failure.

use crate::model::{Task, TaskId, TaskState, TaskStatus};
use crate::runtime::{Controller, ExitStatus, HealthStatus, Runtime, RuntimeError, TaskFiles};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use swarm_store::fifo_watch as watch;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Attempts of a runtime call that fails with a temporary error (create, prepare, start,
/// remove) before the task is rejected or failed.
pub const MAX_RUNTIME_ATTEMPTS: u32 = 5;
/// The first wait before a runtime call is tried again; it doubles at each attempt (worst
/// case 0.2 + 0.4 + 0.8 + 1.6 s between the five attempts).
pub const RUNTIME_RETRY_DELAY: Duration = Duration::from_millis(200);
/// How long past the task's stop grace period a graceful shutdown may take before the task
/// is terminated.
pub const STOP_MARGIN: Duration = Duration::from_secs(5);
/// Longest wait for a forced termination.
pub const TERMINATE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for a stopped task's exit status (for its exit code).
const EXIT_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// The error of a task stopped because its health check failed (SwarmKit's
/// `ErrContainerUnhealthy`).
pub const UNHEALTHY_ERROR: &str = "unhealthy container";

/// What the task runner asks of a driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DriverCommand {
    /// The task's desired state (moves forward only).
    pub(crate) desired: TaskState,
    /// The task left the node's set: stop it and remove its controller.
    pub(crate) remove: bool,
}

impl DriverCommand {
    fn stopping(&self) -> bool {
        self.desired >= TaskState::Shutdown || self.remove
    }
}

/// What a driver tells the task runner.
#[derive(Debug)]
pub(crate) enum DriverEvent {
    /// The task reached a new state.
    Status { task: TaskId, status: TaskStatus },
    /// The controller was removed; the driver ended.
    Removed { task: TaskId },
}

/// The task's controller while it exists (from its creation until its removal starts), for
/// reading the task's logs.
pub(crate) type SharedController = watch::Receiver<Option<Arc<dyn Controller>>>;

/// The runner's handle on one driver; dropping it ends the driver (its controller dropped).
pub(crate) struct DriverHandle {
    commands: watch::Sender<DriverCommand>,
    controller: SharedController,
    join: JoinHandle<()>,
}

impl DriverHandle {
    /// Starts driving `task` with `files` (the plaintext of exactly the items it references).
    pub(crate) fn spawn(
        task: Task,
        files: TaskFiles,
        runtime: Arc<dyn Runtime>,
        events: mpsc::Sender<DriverEvent>,
    ) -> DriverHandle {
        let (commands, receiver) = watch::channel(DriverCommand {
            desired: task.desired_state,
            remove: false,
        });
        let (shared, controller) = watch::channel(None);
        let driver = TaskDriver {
            task,
            runtime,
            commands: receiver,
            events,
            controller: shared,
        };
        DriverHandle {
            commands,
            controller,
            join: tokio::spawn(driver.run(files)),
        }
    }

    /// The task's controller, for its logs.
    pub(crate) fn controller(&self) -> SharedController {
        self.controller.clone()
    }

    /// The task's desired state moved forward.
    pub(crate) fn set_desired(&self, desired: TaskState) {
        self.commands.send_if_modified(|c| {
            let forward = desired > c.desired;
            if forward {
                c.desired = desired;
            }
            forward
        });
    }

    /// The task left the node's set.
    pub(crate) fn remove(&self) {
        self.commands
            .send_if_modified(|c| !std::mem::replace(&mut c.remove, true));
    }
}

impl Drop for DriverHandle {
    fn drop(&mut self) {
        self.join.abort();
    }
}

/// Why a runtime call gave up.
enum Attempt {
    /// The task is to stop: the call was not (or no longer) tried.
    Stopped,
    /// It failed for good, or for the last time.
    Failed(RuntimeError),
}

struct TaskDriver {
    task: Task,
    runtime: Arc<dyn Runtime>,
    commands: watch::Receiver<DriverCommand>,
    events: mpsc::Sender<DriverEvent>,
    controller: watch::Sender<Option<Arc<dyn Controller>>>,
}

fn status(state: TaskState, message: &str) -> TaskStatus {
    TaskStatus::new(state, crate::clock::now(), message)
}

fn with_err(mut status: TaskStatus, err: impl Into<String>) -> TaskStatus {
    status.err = Some(err.into());
    status
}

/// Resolves with the first decided health (healthy or unhealthy); never, if the controller
/// stops publishing it (its exit decides then).
async fn decided(watch: &mut tokio::sync::watch::Receiver<HealthStatus>) -> HealthStatus {
    let decided = watch
        .wait_for(|h| *h != HealthStatus::Starting)
        .await
        .map(|health| *health);
    match decided {
        Ok(health) => health,
        Err(_) => std::future::pending().await,
    }
}

/// Resolves once the task is unhealthy; never without a health check.
async fn turns_unhealthy(watch: Option<&mut tokio::sync::watch::Receiver<HealthStatus>>) {
    let Some(watch) = watch else {
        return std::future::pending().await;
    };
    if watch
        .wait_for(|h| *h == HealthStatus::Unhealthy)
        .await
        .is_err()
    {
        std::future::pending::<()>().await;
    }
}

fn shut_down_before_start() -> TaskStatus {
    status(TaskState::Shutdown, "shutdown before it started")
}

/// How a task that ran ended on its own: complete with exit 0, else failed with the code.
fn exited(exit: Result<ExitStatus, RuntimeError>) -> TaskStatus {
    match exit {
        Ok(exit) if exit.success() => {
            let mut s = status(TaskState::Complete, "finished");
            s.exit_code = Some(0);
            s
        }
        Ok(exit) => {
            let mut s = with_err(status(TaskState::Failed, "failed"), format!("task: {exit}"));
            s.exit_code = Some(exit.exit_code());
            s
        }
        Err(e) => with_err(status(TaskState::Failed, "failed"), e.to_string()),
    }
}

impl TaskDriver {
    fn command(&self) -> DriverCommand {
        *self.commands.borrow()
    }

    async fn report(&self, status: TaskStatus) {
        let event = DriverEvent::Status {
            task: self.task.id.clone(),
            status,
        };
        // The runner is gone only when the node stops, and then this driver is aborted.
        let _ = self.events.send(event).await;
    }

    /// Resolves once the task is to stop (or the runner is gone).
    async fn stop_requested(&mut self) {
        let _ = self.commands.wait_for(DriverCommand::stopping).await;
    }

    async fn run(mut self, files: TaskFiles) {
        self.report(status(TaskState::Accepted, "accepted")).await;
        let runtime = Arc::clone(&self.runtime);
        let task = self.task.clone();
        let created = self
            .attempt(|| runtime.controller(&task, files.clone()))
            .await;
        drop(files);
        let controller: Option<Arc<dyn Controller>> = match created {
            Ok(controller) => Some(Arc::from(controller)),
            Err(Attempt::Stopped) => {
                self.report(shut_down_before_start()).await;
                None
            }
            Err(Attempt::Failed(e)) => {
                self.report(with_err(
                    status(TaskState::Rejected, "rejected"),
                    e.to_string(),
                ))
                .await;
                None
            }
        };
        if let Some(controller) = &controller {
            self.controller.send_replace(Some(Arc::clone(controller)));
            let end = self.lifecycle(controller.as_ref()).await;
            self.report(end).await;
        }
        let _ = self.commands.wait_for(|c| c.remove).await;
        // No new log reader from now on: nothing of a removed task remains.
        self.controller.send_replace(None);
        if let Some(controller) = controller {
            self.remove(controller.as_ref()).await;
        }
        let _ = self
            .events
            .send(DriverEvent::Removed {
                task: self.task.id.clone(),
            })
            .await;
    }

    /// Prepare, start, run: the terminal status the task reaches.
    async fn lifecycle(&mut self, ctl: &dyn Controller) -> TaskStatus {
        self.report(status(TaskState::Preparing, "preparing")).await;
        match self.attempt(|| ctl.prepare()).await {
            Ok(()) => {}
            Err(Attempt::Stopped) => return shut_down_before_start(),
            Err(Attempt::Failed(e)) => {
                return with_err(status(TaskState::Rejected, "rejected"), e.to_string());
            }
        }
        self.report(status(TaskState::Ready, "prepared")).await;
        // A task desired ready stays prepared until it is asked to run (or to stop).
        let _ = self
            .commands
            .wait_for(|c| c.desired > TaskState::Ready || c.stopping())
            .await;
        if self.command().stopping() {
            return shut_down_before_start();
        }
        self.report(status(TaskState::Starting, "starting")).await;
        match self.attempt(|| ctl.start()).await {
            Ok(()) => {}
            Err(Attempt::Stopped) => return shut_down_before_start(),
            Err(Attempt::Failed(e)) => {
                return with_err(status(TaskState::Failed, "failed"), e.to_string());
            }
        }
        // A task with a health check runs (for the cluster) once it is healthy: until then it
        // stays `starting`, as SwarmKit's container adapter waits for the healthy event.
        let mut health = ctl.health();
        if let Some(watch) = &mut health {
            tokio::select! {
                biased;
                verdict = decided(watch) => {
                    if verdict == HealthStatus::Unhealthy {
                        return self.unhealthy(ctl).await;
                    }
                }
                exit = ctl.wait() => return exited(exit),
                () = self.stop_requested() => return self.stop(ctl).await,
            }
        }
        self.report(status(TaskState::Running, "started")).await;
        tokio::select! {
            biased;
            exit = ctl.wait() => exited(exit),
            () = self.stop_requested() => self.stop(ctl).await,
            () = turns_unhealthy(health.as_mut()) => self.unhealthy(ctl).await,
        }
    }

    /// Stops a task whose health check failed: it failed ([`UNHEALTHY_ERROR`]), with the exit
    /// code it stopped with.
    async fn unhealthy(&self, ctl: &dyn Controller) -> TaskStatus {
        tracing::info!(task = %self.task.id, "the health check failed; stopping the task");
        let stopped = self.stop(ctl).await;
        let mut failed = with_err(status(TaskState::Failed, "unhealthy"), UNHEALTHY_ERROR);
        failed.exit_code = stopped.exit_code;
        failed
    }

    /// Stops a running task: a graceful shutdown bounded by its stop grace period plus
    /// [`STOP_MARGIN`], then a forced termination.
    async fn stop(&self, ctl: &dyn Controller) -> TaskStatus {
        let grace = self.task.spec.container.stop_grace_period;
        let graceful =
            tokio::time::timeout(grace.saturating_add(STOP_MARGIN), ctl.shutdown()).await;
        if !matches!(graceful, Ok(Ok(()))) {
            tracing::warn!(task = %self.task.id, "graceful shutdown did not end the task; terminating it");
            match tokio::time::timeout(TERMINATE_TIMEOUT, ctl.terminate()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(task = %self.task.id, error = %e, "terminate failed"),
                Err(_) => tracing::warn!(task = %self.task.id, "terminate timed out"),
            }
        }
        let mut stopped = status(TaskState::Shutdown, "shutdown");
        if let Ok(Ok(exit)) = tokio::time::timeout(EXIT_READ_TIMEOUT, ctl.wait()).await {
            stopped.exit_code = Some(exit.exit_code());
        }
        stopped
    }

    /// Removes the controller, retrying temporary failures.
    async fn remove(&self, ctl: &dyn Controller) {
        let mut delay = RUNTIME_RETRY_DELAY;
        for attempt in 1..=MAX_RUNTIME_ATTEMPTS {
            match ctl.remove().await {
                Ok(()) => return,
                Err(e) if e.is_temporary() && attempt < MAX_RUNTIME_ATTEMPTS => {
                    tracing::debug!(task = %self.task.id, error = %e, "remove failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(e) => {
                    tracing::warn!(task = %self.task.id, error = %e, "cannot remove the task");
                    return;
                }
            }
        }
    }

    /// Runs `op` until it succeeds, fails permanently, fails [`MAX_RUNTIME_ATTEMPTS`] times, or
    /// the task is to stop.
    async fn attempt<T, F, Fut>(&mut self, mut op: F) -> Result<T, Attempt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RuntimeError>>,
    {
        let mut delay = RUNTIME_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            if self.command().stopping() {
                return Err(Attempt::Stopped);
            }
            match op().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_temporary() && attempt < MAX_RUNTIME_ATTEMPTS => {
                    tracing::debug!(task = %self.task.id, error = %e, "runtime call failed; retrying");
                    tokio::select! {
                        biased;
                        () = tokio::time::sleep(delay) => {}
                        () = self.stop_requested() => return Err(Attempt::Stopped),
                    }
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => return Err(Attempt::Failed(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::LifecycleStep;
    use crate::runtime::mock::{MockRuntime, MockScript, task_for_image};

    /// Drives one task of `image` on `runtime` to its terminal state; the states reported.
    async fn drive(runtime: &MockRuntime, image: &str) -> Vec<TaskStatus> {
        let (events, mut reports) = mpsc::channel(16);
        let mut task = task_for_image("t1", image);
        task.desired_state = TaskState::Running;
        let _driver =
            DriverHandle::spawn(task, TaskFiles::new(), Arc::new(runtime.clone()), events);
        let mut seen = Vec::new();
        while let Some(DriverEvent::Status { status, .. }) = reports.recv().await {
            let end = status.state.is_terminal();
            seen.push(status);
            if end {
                break;
            }
        }
        seen
    }

    fn states(seen: &[TaskStatus]) -> Vec<TaskState> {
        seen.iter().map(|s| s.state).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_with_a_health_check_runs_once_healthy_and_fails_when_unhealthy() {
        let runtime = MockRuntime::new()
            .with_script(
                "mock/slow-health",
                MockScript::new().run_until_stopped().health_steps(
                    vec![
                        (Duration::from_secs(3), HealthStatus::Healthy),
                        (Duration::from_secs(60), HealthStatus::Unhealthy),
                    ],
                    false,
                ),
            )
            .with_script(
                "mock/never-healthy",
                MockScript::new()
                    .run_until_stopped()
                    .unhealthy_after(Duration::from_secs(3)),
            );
        let lifecycle = [
            TaskState::Accepted,
            TaskState::Preparing,
            TaskState::Ready,
            TaskState::Starting,
        ];

        // Running once healthy, then failed when unhealthy, and stopped.
        let seen = drive(&runtime, "mock/slow-health").await;
        let mut expected = lifecycle.to_vec();
        expected.extend([TaskState::Running, TaskState::Failed]);
        assert_eq!(states(&seen), expected);
        let failed = seen.last().unwrap();
        assert_eq!(failed.err.as_deref(), Some(UNHEALTHY_ERROR));
        assert!(
            runtime
                .calls_for(&TaskId::new("t1"))
                .contains(&LifecycleStep::Shutdown)
        );

        // Never healthy: never reported running.
        let runtime = runtime.clone();
        let seen = drive(&runtime, "mock/never-healthy").await;
        let mut expected = lifecycle.to_vec();
        expected.push(TaskState::Failed);
        assert_eq!(states(&seen), expected);
        assert_eq!(seen.last().unwrap().err.as_deref(), Some(UNHEALTHY_ERROR));
    }

    #[test]
    fn an_exit_maps_to_complete_or_failed_with_its_code() {
        let ok = exited(Ok(ExitStatus::Exited { code: 0 }));
        assert_eq!(
            (ok.state, ok.exit_code, ok.err),
            (TaskState::Complete, Some(0), None)
        );
        let failed = exited(Ok(ExitStatus::Exited { code: 3 }));
        assert_eq!(failed.state, TaskState::Failed);
        assert_eq!(failed.exit_code, Some(3));
        assert_eq!(failed.err.as_deref(), Some("task: exited with code 3"));
        let killed = exited(Ok(ExitStatus::Signaled {
            signal: 9,
            name: "SIGKILL".into(),
        }));
        assert_eq!(killed.exit_code, Some(137));
        assert_eq!(
            killed.err.as_deref(),
            Some("task: killed by signal SIGKILL")
        );
    }
}
