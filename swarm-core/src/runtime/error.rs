//! Typed runtime errors: temporary (the agent retries) or permanent (the task fails or is
//! rejected).

use crate::model::{ConfigId, SecretId, TaskId};
use std::fmt;

/// The lifecycle step an error happened in; carried by every [`RuntimeError`] so an agent can
/// report "failed to start: …" without parsing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LifecycleStep {
    /// [`Runtime::describe`](crate::runtime::Runtime::describe).
    Describe,
    /// [`Runtime::controller`](crate::runtime::Runtime::controller).
    Create,
    /// [`Controller::prepare`](crate::runtime::Controller::prepare).
    Prepare,
    /// [`Controller::start`](crate::runtime::Controller::start).
    Start,
    /// [`Controller::wait`](crate::runtime::Controller::wait).
    Wait,
    /// [`Controller::shutdown`](crate::runtime::Controller::shutdown).
    Shutdown,
    /// [`Controller::terminate`](crate::runtime::Controller::terminate).
    Terminate,
    /// [`Controller::remove`](crate::runtime::Controller::remove).
    Remove,
    /// [`Controller::logs`](crate::runtime::Controller::logs).
    Logs,
}

impl LifecycleStep {
    /// The step's name in lower case, e.g. `"prepare"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStep::Describe => "describe",
            LifecycleStep::Create => "create",
            LifecycleStep::Prepare => "prepare",
            LifecycleStep::Start => "start",
            LifecycleStep::Wait => "wait",
            LifecycleStep::Shutdown => "shutdown",
            LifecycleStep::Terminate => "terminate",
            LifecycleStep::Remove => "remove",
            LifecycleStep::Logs => "logs",
        }
    }
}

impl fmt::Display for LifecycleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether retrying the same call may succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The agent may retry the step later (resource exhaustion, engine briefly unreachable…).
    Temporary,
    /// Retrying will not help: the task fails (or is rejected before it started).
    Permanent,
}

/// A boxed error from an adapter's own dependencies (an engine client, the OS…).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error returned by a [`Runtime`](crate::runtime::Runtime) or a
/// [`Controller`](crate::runtime::Controller).
///
/// Every variant knows whether it is temporary ([`RuntimeError::is_temporary`]): an agent retries
/// temporary errors with backoff and fails (or rejects) the task on a permanent one.
///
/// ```
/// use swarm_core::runtime::{LifecycleStep, RuntimeError};
///
/// let busy = RuntimeError::temporary(LifecycleStep::Start, "engine busy");
/// assert!(busy.is_retryable());
/// let bad = RuntimeError::invalid_spec("container.stop_signal", "unknown signal `SIGFOO`");
/// assert!(!bad.is_retryable());
/// assert_eq!(bad.to_string(), "invalid container.stop_signal: unknown signal `SIGFOO`");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The task spec cannot be run by this runtime; names the offending field.
    #[error("invalid {field}: {reason}")]
    InvalidSpec {
        /// The field path, e.g. `container.secrets[0].target.name`.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The spec references a secret for which the runtime was given no data.
    #[error("task {task} references secret {secret} but no data was provided for it")]
    MissingSecret {
        /// The task.
        task: TaskId,
        /// The secret without data.
        secret: SecretId,
    },
    /// The spec references a config for which the runtime was given no data.
    #[error("task {task} references config {config} but no data was provided for it")]
    MissingConfig {
        /// The task.
        task: TaskId,
        /// The config without data.
        config: ConfigId,
    },
    /// A lifecycle call was made in a state that does not allow it (e.g. `start` before
    /// `prepare`, or anything but `remove`/`shutdown`/`terminate` after `remove`).
    #[error("cannot {step} task {task}: {reason}")]
    InvalidState {
        /// The task.
        task: TaskId,
        /// The refused call.
        step: LifecycleStep,
        /// Why, e.g. `"not prepared"`.
        reason: String,
    },
    /// The runtime was denied an operation (e.g. running as another user without privileges).
    #[error("permission denied during {step}: {reason}")]
    PermissionDenied {
        /// The failing step.
        step: LifecycleStep,
        /// What was denied.
        reason: String,
    },
    /// A failure that may go away if the call is retried.
    #[error("temporary failure during {step}: {message}")]
    Temporary {
        /// The failing step.
        step: LifecycleStep,
        /// What happened.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A failure that retrying will not fix.
    #[error("permanent failure during {step}: {message}")]
    Permanent {
        /// The failing step.
        step: LifecycleStep,
        /// What happened.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl RuntimeError {
    /// A temporary failure of `step`.
    pub fn temporary(step: LifecycleStep, message: impl Into<String>) -> Self {
        RuntimeError::Temporary {
            step,
            message: message.into(),
            source: None,
        }
    }

    /// A permanent failure of `step`.
    pub fn permanent(step: LifecycleStep, message: impl Into<String>) -> Self {
        RuntimeError::Permanent {
            step,
            message: message.into(),
            source: None,
        }
    }

    /// A failure of `step` caused by `source`, of the given kind.
    pub fn with_source(
        kind: ErrorKind,
        step: LifecycleStep,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        let message = message.into();
        let source = Some(source.into());
        match kind {
            ErrorKind::Temporary => RuntimeError::Temporary {
                step,
                message,
                source,
            },
            ErrorKind::Permanent => RuntimeError::Permanent {
                step,
                message,
                source,
            },
        }
    }

    /// An invalid spec field.
    pub fn invalid_spec(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RuntimeError::InvalidSpec {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A call made in a state that does not allow it.
    pub fn invalid_state(task: &TaskId, step: LifecycleStep, reason: impl Into<String>) -> Self {
        RuntimeError::InvalidState {
            task: task.clone(),
            step,
            reason: reason.into(),
        }
    }

    /// An I/O error during `step`, classified by [`io_error_kind`].
    pub fn io(step: LifecycleStep, message: impl Into<String>, err: std::io::Error) -> Self {
        let kind = io_error_kind(&err);
        Self::with_source(kind, step, message, err)
    }

    /// Whether the error is temporary or permanent.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RuntimeError::Temporary { .. } => ErrorKind::Temporary,
            RuntimeError::InvalidSpec { .. }
            | RuntimeError::MissingSecret { .. }
            | RuntimeError::MissingConfig { .. }
            | RuntimeError::InvalidState { .. }
            | RuntimeError::PermissionDenied { .. }
            | RuntimeError::Permanent { .. } => ErrorKind::Permanent,
        }
    }

    /// `true` when the agent may retry the call later.
    pub fn is_temporary(&self) -> bool {
        self.kind() == ErrorKind::Temporary
    }

    /// Same as [`RuntimeError::is_temporary`]; the name used across swarm's crates.
    pub fn is_retryable(&self) -> bool {
        self.is_temporary()
    }

    /// `true` when the task must fail (or be rejected before it ran).
    pub fn is_permanent(&self) -> bool {
        self.kind() == ErrorKind::Permanent
    }
}

/// How an I/O error is classified: resource exhaustion, interruptions and timeouts are temporary;
/// everything else (not found, permission denied, invalid input…) is permanent.
pub fn io_error_kind(err: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::Interrupted
        | K::WouldBlock
        | K::TimedOut
        | K::OutOfMemory
        | K::ResourceBusy
        | K::StorageFull
        | K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe => ErrorKind::Temporary,
        _ => raw_os_error_kind(err.raw_os_error()),
    }
}

#[cfg(unix)]
fn raw_os_error_kind(errno: Option<i32>) -> ErrorKind {
    use nix::errno::Errno;
    match errno.map(Errno::from_raw) {
        // Process, descriptor and memory limits clear up when other tasks exit.
        Some(Errno::EAGAIN | Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM | Errno::ENOSPC) => {
            ErrorKind::Temporary
        }
        _ => ErrorKind::Permanent,
    }
}

#[cfg(not(unix))]
fn raw_os_error_kind(_errno: Option<i32>) -> ErrorKind {
    ErrorKind::Permanent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let t = TaskId::new("t1");
        assert!(
            RuntimeError::invalid_state(&t, LifecycleStep::Start, "not prepared").is_permanent()
        );
        assert!(
            RuntimeError::MissingSecret {
                task: t.clone(),
                secret: SecretId::new("s")
            }
            .is_permanent()
        );
        assert!(RuntimeError::temporary(LifecycleStep::Prepare, "x").is_retryable());
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(RuntimeError::io(LifecycleStep::Start, "spawn", nf).is_permanent());
        let again = std::io::Error::from_raw_os_error(11);
        assert!(RuntimeError::io(LifecycleStep::Start, "spawn", again).is_temporary());
    }

    #[test]
    fn messages_name_the_step() {
        let e = RuntimeError::permanent(LifecycleStep::Prepare, "image missing");
        assert_eq!(
            e.to_string(),
            "permanent failure during prepare: image missing"
        );
    }
}
