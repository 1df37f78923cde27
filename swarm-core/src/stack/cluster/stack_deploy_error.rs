//! Why a stack operation on a running cluster failed.

use crate::node::NodeError;
use crate::stack::cluster::stack_step::StackStep;
use crate::stack::plan::missing_external::MissingExternal;
use crate::stack::plan::plan_conflict::PlanConflict;

fn lines<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error of [`deploy`](crate::stack::deploy), [`list`](crate::stack::list),
/// [`services`](crate::stack::services), [`ps`](crate::stack::ps) or
/// [`remove`](crate::stack::remove); each names the objects, in docker's words where docker
/// has some.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackDeployError {
    /// External networks, secrets or configs the services use do not exist; nothing was
    /// changed. One line per object, e.g. `service web: secret not found: tls`. Fatal until
    /// they are created.
    #[error("{}", lines(.0))]
    MissingExternal(Vec<MissingExternal>),
    /// Objects of the stack clash with the cluster's: a service or network of that name outside
    /// the stack, or a secret or config of the stack whose data changed (only labels may).
    /// Nothing was changed. Fatal until the files or the cluster change.
    #[error("{}", lines(.0))]
    Conflicts(Vec<PlanConflict>),
    /// A control call failed; `action` names it and the object (`create service shop_web`).
    /// The steps before it were made; deploying again goes on from there (a deploy only
    /// changes what differs). Retryable when the source is ([`NodeError::is_retryable`]).
    #[error("failed to {action}: {source}")]
    Control {
        /// What was being done, naming the object.
        action: String,
        /// The refusal or failure.
        source: NodeError,
    },
    /// `stack ps` of a stack with no task (docker's words).
    #[error("nothing found in stack: {stack}")]
    NothingFound {
        /// The stack.
        stack: String,
    },
    /// `stack rm` removed what it could but some objects remain; as docker it goes on past a
    /// failure and reports them all. Whether removing again can help depends on each failure
    /// (a network still in use by stopping tasks, a secret another service uses): not marked
    /// retryable.
    #[error("Failed to remove some resources from stack: {stack}\n{}", .failures.join("\n"))]
    RemoveIncomplete {
        /// The stack.
        stack: String,
        /// What was removed.
        removed: Vec<StackStep>,
        /// One line per object that remains, naming it and why.
        failures: Vec<String>,
    },
}

impl StackDeployError {
    /// Whether the same operation may succeed later unchanged (a manager unreachable, no
    /// leader for now, a concurrent change of a service).
    pub fn is_retryable(&self) -> bool {
        match self {
            StackDeployError::Control { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    pub(crate) fn control(action: impl Into<String>) -> impl FnOnce(NodeError) -> Self {
        let action = action.into();
        move |source| StackDeployError::Control { action, source }
    }
}
