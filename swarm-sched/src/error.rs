//! Errors of the placement engine.

use crate::constraint::{ConstraintError, PreferenceError};
use crate::ids::{NodeId, TaskId};

/// What went wrong applying a delta or scheduling a group.
///
/// New variants may be added in minor releases: match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedError {
    /// A constraint did not parse.
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    /// A placement preference did not parse.
    #[error(transparent)]
    Preference(#[from] PreferenceError),
    /// `NodeAdded` for a node the engine already holds.
    #[error("node {0} is already known to the scheduler")]
    DuplicateNode(NodeId),
    /// A delta names a node the engine does not hold.
    #[error("node {0} is not known to the scheduler")]
    UnknownNode(NodeId),
    /// `TaskPlaced` for a task the engine already accounts for.
    #[error("task {0} is already placed")]
    DuplicateTask(TaskId),
    /// A field of the input is out of bounds.
    #[error("{field}: {value} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which field, e.g. `node node1: labels`.
        field: String,
        /// The value seen.
        value: u64,
        /// The limit (a named constant of this crate).
        limit: u64,
    },
}

impl SchedError {
    /// Whether the same call may succeed later without changing its input: true only for an
    /// unknown node, which happens when a task delta overtakes its node's `NodeAdded`.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SchedError::UnknownNode(_))
    }
}
