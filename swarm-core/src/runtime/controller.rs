//! The per-task half of the runtime trait: one controller drives one task.

use crate::model::TaskId;
use crate::runtime::error::RuntimeError;
use crate::runtime::exit::ExitStatus;
use crate::runtime::health::HealthStatus;
use crate::runtime::logs::{LogOptions, LogStream};
use async_trait::async_trait;
use tokio::sync::watch;

/// Drives one task through its lifecycle on one runtime. Created by
/// [`Runtime::controller`](crate::runtime::Runtime::controller); stored by the agent as
/// `Box<dyn Controller>`.
///
/// # Correctness contract
///
/// Every implementation must keep these rules; the conformance suite in
/// `swarm_core::testkit` (feature `testkit`) checks them.
///
/// **Order.** The agent calls `prepare → start → wait`, and at any time `shutdown` / `terminate`,
/// and finally `remove`. All methods take `&self` so that `wait` can be pending while another
/// call (usually `shutdown`) runs concurrently on the same controller.
///
/// - [`prepare`](Controller::prepare) creates everything the task needs (the private files of
///   its secrets and configs, the image or program check) without starting it. It must refuse a
///   secret or config reference without data ([`RuntimeError::MissingSecret`] /
///   [`RuntimeError::MissingConfig`], permanent) unless
///   [`Runtime::controller`](crate::runtime::Runtime::controller) already did. Calling it again
///   after success is a no-op returning `Ok`. After `start` or `remove` it returns
///   [`RuntimeError::InvalidState`].
/// - [`start`](Controller::start) starts the task and returns once it is running. Before a
///   successful `prepare` (or after `remove`) it returns [`RuntimeError::InvalidState`]; once
///   started, calling it again is a no-op returning `Ok` (it never runs the task twice).
/// - [`wait`](Controller::wait) returns the task's [`ExitStatus`] once it has exited — for any
///   reason: on its own, stopped by `shutdown` or killed by `terminate`/`remove`. A non-zero exit
///   is an `Ok` status, not an error: errors mean the runtime could not observe the task. Before
///   `start` it returns [`RuntimeError::InvalidState`]. It may be called any number of times,
///   concurrently, and returns the same status each time; dropping its future (cancelling the
///   wait) has no effect on the task.
/// - [`shutdown`](Controller::shutdown) stops the task gracefully: it sends the spec's stop
///   signal (SIGTERM by default), waits up to the spec's `stop_grace_period` and then kills the
///   task; it returns once the task has exited, so it is bounded by the grace period plus the
///   time a forced kill takes.
/// - [`terminate`](Controller::terminate) kills the task at once and returns once it has
///   exited.
/// - [`remove`](Controller::remove) releases everything the task holds. If the task is still
///   running it is killed first. **After `remove` returns `Ok`, nothing of the task remains**:
///   no process, no container, no secret or config file (on disk or in memory), no directory
///   it created. Later calls to `prepare`/`start` return [`RuntimeError::InvalidState`]; `wait`
///   returns the recorded status if the task had been started.
///
/// **Idempotence.** `shutdown`, `terminate` and `remove` are idempotent: calling them again, in
/// any order, on a task that never started, already exited or was already removed returns `Ok`
/// without doing anything.
///
/// **Secrets.** The task sees exactly the secrets and configs its spec references, as files with
/// the target's mode (and owner, where the runtime can set it); it never sees another task's.
/// The plaintext is never logged or printed by `Debug`.
///
/// **Errors.** Every error is typed: [`RuntimeError::is_temporary`] means the agent may retry the
/// same call later; a permanent error fails the task (or rejects it, before it started).
///
/// **Health.** If the task has a health check, [`health`](Controller::health) returns a watch
/// channel that starts at [`HealthStatus::Starting`] and follows the check's results while the
/// task runs.
///
/// **Logs.** Output is kept in a bounded buffer (the adapter documents its cap, a named
/// constant); [`logs`](Controller::logs) returns it as a finite stream, or a following one.
///
/// **Drop.** Dropping a controller without `remove` must not leave a running task behind if the
/// runtime can avoid it (best effort: kill and clean up); agents always call `remove`.
#[async_trait]
pub trait Controller: Send + Sync {
    /// The task this controller drives.
    fn task_id(&self) -> &TaskId;

    /// Creates what the task needs, without starting it. See the contract above.
    async fn prepare(&self) -> Result<(), RuntimeError>;

    /// Starts the prepared task and returns once it runs.
    async fn start(&self) -> Result<(), RuntimeError>;

    /// Waits for the task to exit and returns how it ended (cancel-safe, repeatable).
    async fn wait(&self) -> Result<ExitStatus, RuntimeError>;

    /// Stops the task gracefully: stop signal, then a kill after the stop grace period.
    /// Returns once the task has exited. Idempotent.
    async fn shutdown(&self) -> Result<(), RuntimeError>;

    /// Kills the task now. Returns once it has exited. Idempotent.
    async fn terminate(&self) -> Result<(), RuntimeError>;

    /// Kills the task if needed and removes everything it holds. Idempotent.
    async fn remove(&self) -> Result<(), RuntimeError>;

    /// The task's health as a watch channel, or `None` when the task has no health check.
    fn health(&self) -> Option<watch::Receiver<HealthStatus>>;

    /// The task's output (bounded), optionally following new output.
    async fn logs(&self, options: LogOptions) -> Result<LogStream, RuntimeError>;
}
