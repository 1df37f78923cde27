//! How a task's main process ended.

use crate::model::TaskState;
use std::fmt;

/// The conventional exit code of a process killed by a signal is `128 + signal`.
pub const SIGNAL_EXIT_CODE_BASE: i32 = 128;

/// The number of `SIGKILL` on every platform swarm runs on.
pub const SIGKILL_NUMBER: i32 = 9;

/// How a task ended, as returned by [`Controller::wait`](crate::runtime::Controller::wait).
///
/// A runtime that only sees exit codes (a container engine reports `137` for a killed
/// container) returns [`ExitStatus::Exited`]; one that sees the signal returns
/// [`ExitStatus::Signaled`].
///
/// ```
/// use swarm_core::model::TaskState;
/// use swarm_core::runtime::ExitStatus;
///
/// assert_eq!(ExitStatus::Exited { code: 0 }.task_state(), TaskState::Complete);
/// let failed = ExitStatus::Exited { code: 3 };
/// assert_eq!(failed.task_state(), TaskState::Failed);
/// assert_eq!(failed.to_string(), "exited with code 3");
/// let killed = ExitStatus::Signaled { signal: 9, name: "SIGKILL".into() };
/// assert_eq!(killed.exit_code(), 137);
/// assert!(killed.is_forced_kill());
/// assert_eq!(killed.to_string(), "killed by signal SIGKILL");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// The process exited with this code.
    Exited {
        /// The exit code; `0` is success.
        code: i32,
    },
    /// The process was killed by a signal.
    Signaled {
        /// The signal number.
        signal: i32,
        /// The signal's name, e.g. `"SIGTERM"` (or the number as text if unknown).
        name: String,
    },
}

impl ExitStatus {
    /// `true` for an exit with code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Exited { code: 0 })
    }

    /// The exit code, with the shell's convention `128 + signal` for a signal.
    pub fn exit_code(&self) -> i32 {
        match self {
            ExitStatus::Exited { code } => *code,
            ExitStatus::Signaled { signal, .. } => SIGNAL_EXIT_CODE_BASE.saturating_add(*signal),
        }
    }

    /// The signal that killed the task, if any.
    pub fn signal(&self) -> Option<i32> {
        match self {
            ExitStatus::Exited { .. } => None,
            ExitStatus::Signaled { signal, .. } => Some(*signal),
        }
    }

    /// `true` when the task was killed by `SIGKILL` (or exited with 137, which is how a
    /// container engine reports it): the stop signal did not end it in time.
    pub fn is_forced_kill(&self) -> bool {
        self.exit_code() == SIGNAL_EXIT_CODE_BASE + SIGKILL_NUMBER
    }

    /// The terminal state a task that ended on its own reaches: [`TaskState::Complete`] on
    /// success, [`TaskState::Failed`] otherwise. (An agent that asked the task to stop reports
    /// [`TaskState::Shutdown`] instead.)
    pub fn task_state(&self) -> TaskState {
        if self.success() {
            TaskState::Complete
        } else {
            TaskState::Failed
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Exited { code } => write!(f, "exited with code {code}"),
            ExitStatus::Signaled { name, .. } => write!(f, "killed by signal {name}"),
        }
    }
}
