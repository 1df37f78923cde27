//! The task state machine: the ordered lifecycle states and which moves between them are legal.
//!
//! A task's observed state only moves forward through
//! `new → pending → assigned → accepted → preparing → ready → starting → running` and ends in
//! exactly one terminal state: `complete`, `shutdown`, `failed`, `rejected` or `orphaned`. States
//! may be skipped (an agent reports the latest state it reached, not every step) but never
//! revisited, and a terminal state is final. `remove` is a desired state only: the orchestrator
//! asks for it, no agent ever reports it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The lifecycle state of a task, in order. A task's observed state only moves forward
/// (see [`TaskState::can_transition_to`]); the numeric values follow SwarmKit's.
///
/// ```
/// use swarm_core::model::TaskState;
///
/// assert!(TaskState::Pending.can_transition_to(TaskState::Assigned));
/// assert!(TaskState::Assigned.can_transition_to(TaskState::Running)); // steps may be skipped
/// assert!(!TaskState::Running.can_transition_to(TaskState::Pending)); // never backward
/// assert!(!TaskState::Failed.can_transition_to(TaskState::Orphaned)); // terminal is final
/// assert!(!TaskState::Running.can_transition_to(TaskState::Remove)); // desired-only
/// assert_eq!(
///     TaskState::Complete.transition_to(TaskState::Running).unwrap_err().to_string(),
///     "task state complete is terminal and cannot change to running",
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u16)]
pub enum TaskState {
    /// Created, not yet seen by the scheduler.
    New = 0,
    /// Waiting for the scheduler to assign a node.
    Pending = 64,
    /// Assigned to a node, not yet acknowledged by it.
    Assigned = 192,
    /// The node's agent accepted the task.
    Accepted = 256,
    /// The runtime is preparing it (pulling, creating).
    Preparing = 320,
    /// Prepared, ready to start.
    Ready = 384,
    /// Being started.
    Starting = 448,
    /// Running.
    Running = 512,
    /// Exited successfully (terminal).
    Complete = 576,
    /// Stopped on request (terminal).
    Shutdown = 640,
    /// Failed (terminal).
    Failed = 704,
    /// Refused by the node or the runtime (terminal).
    Rejected = 768,
    /// Desired state only: the task is to be removed.
    Remove = 800,
    /// The node holding it was lost for too long (terminal).
    Orphaned = 832,
}

/// Why a state change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The current state is terminal.
    #[error("task state {from} is terminal and cannot change to {to}")]
    Terminal {
        /// The current state.
        from: TaskState,
        /// The refused next state.
        to: TaskState,
    },
    /// The next state comes before (or is) the current one.
    #[error("task state cannot move backward from {from} to {to}")]
    Backward {
        /// The current state.
        from: TaskState,
        /// The refused next state.
        to: TaskState,
    },
    /// `remove` was reported as an observed state.
    #[error("task state {to} is a desired state only and is never observed")]
    NotObservable {
        /// The refused state.
        to: TaskState,
    },
    /// A state that the orchestrator cannot ask for was used as a desired state.
    #[error(
        "task state {to} cannot be a desired state (use ready, running, complete, shutdown or remove)"
    )]
    NotDesirable {
        /// The refused state.
        to: TaskState,
    },
}

impl TransitionError {
    /// Always `false`: an illegal transition is a logic error of the caller, retrying it cannot
    /// succeed.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

impl TaskState {
    /// Every state, in order.
    pub const ALL: [TaskState; 14] = [
        TaskState::New,
        TaskState::Pending,
        TaskState::Assigned,
        TaskState::Accepted,
        TaskState::Preparing,
        TaskState::Ready,
        TaskState::Starting,
        TaskState::Running,
        TaskState::Complete,
        TaskState::Shutdown,
        TaskState::Failed,
        TaskState::Rejected,
        TaskState::Remove,
        TaskState::Orphaned,
    ];

    /// The lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Pending => "pending",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "ready",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "remove",
            TaskState::Orphaned => "orphaned",
        }
    }

    /// Whether the task has ended: complete, shutdown, failed, rejected or orphaned. `remove`
    /// counts as terminal too, as a desired state it means the task is to end.
    pub fn is_terminal(self) -> bool {
        self >= TaskState::Complete
    }

    /// Whether an agent or the managers can report this state (every state but `remove`).
    pub fn is_observable(self) -> bool {
        self != TaskState::Remove
    }

    /// Whether the orchestrator may ask for this state: ready (prepare, do not start yet),
    /// running, complete (jobs), shutdown or remove.
    pub fn is_desirable(self) -> bool {
        matches!(
            self,
            TaskState::Ready
                | TaskState::Running
                | TaskState::Complete
                | TaskState::Shutdown
                | TaskState::Remove
        )
    }

    /// Whether an observed state may change from `self` to `next`: the task has not ended, `next`
    /// comes strictly later, and `next` is observable. This is the one rule every component
    /// (agent, dispatcher, orchestrators) applies.
    pub fn can_transition_to(self, next: TaskState) -> bool {
        self.transition_to(next).is_ok()
    }

    /// Checks the observed-state change from `self` to `next`, returning `next` if it is legal.
    pub fn transition_to(self, next: TaskState) -> Result<TaskState, TransitionError> {
        if !next.is_observable() {
            return Err(TransitionError::NotObservable { to: next });
        }
        if self.is_terminal() {
            return Err(TransitionError::Terminal {
                from: self,
                to: next,
            });
        }
        if next <= self {
            return Err(TransitionError::Backward {
                from: self,
                to: next,
            });
        }
        Ok(next)
    }

    /// Checks a change of desired state from `self` to `next`: both must be desirable (a fresh
    /// task's desired state may start at `new`), and the desired state only moves forward too.
    /// Asking again for the current desired state is allowed.
    pub fn desired_transition_to(self, next: TaskState) -> Result<TaskState, TransitionError> {
        if !next.is_desirable() {
            return Err(TransitionError::NotDesirable { to: next });
        }
        if next < self {
            return Err(TransitionError::Backward {
                from: self,
                to: next,
            });
        }
        Ok(next)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not the name of a task state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown task state {0:?}")]
pub struct UnknownTaskState(pub String);

impl FromStr for TaskState {
    type Err = UnknownTaskState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownTaskState(s.to_owned()))
    }
}
