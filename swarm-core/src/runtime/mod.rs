//! The runtime trait: what "running a task" means on a node, and the adapters shipped with
//! swarm.
//!
//! This mirrors SwarmKit's executor/controller split. A [`Runtime`] describes its node
//! ([`Runtime::describe`]) and creates one [`Controller`] per task
//! ([`Runtime::controller`]); the agent drives the controller through
//! `prepare → start → wait`, `shutdown` (graceful) or `terminate` (forced), and `remove`. The
//! correctness contract every adapter keeps is written on [`Controller`].
//!
//! Adapters shipped here:
//! - [`MockRuntime`](mock::MockRuntime): scripted outcomes for tests and simulation; runs under
//!   tokio's paused clock.
//! - [`ProcessRuntime`](process::ProcessRuntime) (unix): real OS processes with private secret
//!   files, process-group kill, bounded logs and health checks.
//!
//! A Docker Engine adapter lives in the `swarm-docker` crate. Every adapter runs the conformance
//! suite in `swarm_core::testkit` (cargo feature `testkit`).
//!
//! # Writing an adapter
//!
//! 1. Implement [`Runtime`]: `describe` reports the node (see [`host`] for the local facts);
//!    `controller` validates the spec (return [`RuntimeError::InvalidSpec`] naming the field) and
//!    returns a boxed [`Controller`] holding the task and its [`TaskFiles`].
//! 2. In `prepare`, call [`TaskFiles::resolve`]: it returns exactly the files the spec
//!    references, with validated targets, parsed owners and modes, and refuses references without
//!    data. Materialise only those.
//! 3. Keep the task's [`LifecyclePhase`] and ask it whether `prepare` and `start` may run
//!    ([`LifecyclePhase::check_prepare`], [`LifecyclePhase::check_start`]): it answers with the
//!    contract's order rules and the [`RuntimeError::InvalidState`] to return.
//! 4. Keep all state behind `&self` (a `Mutex` that is never held across an `.await`, watch
//!    channels for the exit status and health), so that `wait` can be pending while `shutdown`
//!    runs. Publish the exit once, and make `wait` read it.
//! 5. Keep output in a [`LogBuffer`] (bounded, with followers) and serve
//!    [`LogBuffer::stream`].
//! 6. Classify every failure: [`RuntimeError::io`] classifies OS errors;
//!    [`RuntimeError::temporary`] / [`RuntimeError::permanent`] for the rest.
//! 7. Run the conformance suite with
//!    `swarm_core::runtime_conformance_tests!` (feature `testkit`).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use swarm_core::model::{ContainerSpec, Task, TaskId, TaskSpec};
//! use swarm_core::runtime::mock::{MockRuntime, MockScript};
//! use swarm_core::runtime::{Runtime, TaskFiles};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), swarm_core::runtime::RuntimeError> {
//! let mock = MockRuntime::new()
//!     .with_script("batch", MockScript::new().exit_after(Duration::from_millis(5), 3));
//! let runtime: Arc<dyn Runtime> = Arc::new(mock);
//! let task = swarm_core::runtime::mock::task_for_image("t1", "batch");
//! let ctl = runtime.controller(&task, TaskFiles::new()).await?;
//! ctl.prepare().await?;
//! ctl.start().await?;
//! let status = ctl.wait().await?;
//! assert_eq!(status.exit_code(), 3);
//! ctl.remove().await?;
//! # Ok(())
//! # }
//! ```

mod controller;
mod error;
mod exit;
mod files;
mod health;
pub mod host;
mod logs;
pub mod mock;
mod phase;
#[cfg(unix)]
pub mod process;

pub use controller::Controller;
pub use error::{BoxError, ErrorKind, LifecycleStep, RuntimeError, io_error_kind};
pub use exit::{ExitStatus, SIGKILL_NUMBER, SIGNAL_EXIT_CODE_BASE};
pub use files::{
    FileKind, FilePayload, MAX_FILES_PER_TASK, ResolvedFile, TaskFiles, validate_target_name,
};
pub use health::HealthStatus;
pub use logs::{
    DEFAULT_LOG_BUFFER_BYTES, LOG_FOLLOW_CHANNEL_CAPACITY, LogBuffer, LogChunk, LogOptions,
    LogStream, LogStreamKind, MAX_LOG_CHUNK_BYTES, collect_text,
};
pub use phase::{LifecyclePhase, PhaseCheck};

use crate::model::{NodeDescription, Task};
use async_trait::async_trait;

/// What "running a task" means on a node: the extension point users implement for their own
/// kind of task (a container, a process, a VM, a Wasm module…). Stored by the agent as
/// `Arc<dyn Runtime>`.
///
/// # Contract
///
/// - [`describe`](Runtime::describe) is cheap enough to call at every agent registration and
///   reports the node's real capacity; it never fails for a healthy runtime.
/// - [`controller`](Runtime::controller) creates a controller for `task` without starting
///   anything. `files` holds the plaintext of the secrets and configs `task` references (an
///   agent passes exactly those; the runtime ignores any others and must never make them visible
///   to the task). A reference without data is refused, here or at the latest in
///   [`Controller::prepare`], with [`RuntimeError::MissingSecret`] /
///   [`RuntimeError::MissingConfig`]. An invalid spec is refused with
///   [`RuntimeError::InvalidSpec`] naming the field.
/// - Controllers of different tasks are independent: one task's files, processes and logs are
///   never visible to another. A second controller for a task id whose first controller was not
///   removed is either refused with [`RuntimeError::InvalidState`] or attaches to the same task;
///   a runtime never runs two copies of one task.
/// - The lifecycle contract of each controller is written on [`Controller`].
#[async_trait]
pub trait Runtime: Send + Sync + 'static {
    /// The node as this runtime sees it: hostname, platform, resources, engine and labels.
    async fn describe(&self) -> Result<NodeDescription, RuntimeError>;

    /// Creates the controller of `task`, handing it the plaintext of its secrets and configs.
    async fn controller(
        &self,
        task: &Task,
        files: TaskFiles,
    ) -> Result<Box<dyn Controller>, RuntimeError>;
}
