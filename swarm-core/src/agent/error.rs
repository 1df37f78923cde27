//! Why an agent's session cannot go on.

use crate::manager::dispatcher::DispatcherError;
use thiserror::Error;

/// An error of the agent's session.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AgentSessionError {
    /// The agent was given no manager address (fatal: a configuration error).
    #[error("no manager address given")]
    NoManagers,
    /// More manager addresses than [`MAX_MANAGERS`](crate::manager::dispatcher::MAX_MANAGERS)
    /// (fatal: a configuration error).
    #[error("{count} manager addresses exceed the limit of {max}")]
    TooManyManagers {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// `attempts` calls in a row failed (retryable: the session keeps its state and tries
    /// again from a fresh count if the loop goes on polling).
    #[error("no manager reachable after {attempts} attempts; tried {}", tried.join(", "))]
    NoManagerReachable {
        /// Failed calls in a row.
        attempts: u32,
        /// The managers' addresses, in the order first tried.
        tried: Vec<String>,
    },
    /// A manager refused the node for good (fatal: the node was removed from the cluster or
    /// never joined; it must join again).
    #[error("manager {manager} refused this node: {error}")]
    Refused {
        /// The manager's address.
        manager: String,
        /// Its refusal.
        error: DispatcherError,
    },
}

impl AgentSessionError {
    /// Whether the session cannot go on (configuration error or node removed).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, AgentSessionError::NoManagerReachable { .. })
    }
}
