//! Why the dispatcher refuses a step.

use crate::manager::dispatcher::session_id::SessionId;
use crate::model::NodeId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A refusal of the dispatcher, naming the node it concerns. Agents receive the first four as
/// answers; [`DispatcherError::is_fatal`] says which end the agent's attempts.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DispatcherError {
    /// This manager's dispatcher is not the leader's (retryable: the agent moves to another
    /// manager).
    #[error("node {node}: this manager is not the leader; use another manager")]
    NotLeader {
        /// The node that asked.
        node: NodeId,
    },
    /// The node is not in the cluster: it never joined, or it was removed (fatal: it must join
    /// again).
    #[error("node {node} is not in the cluster (never joined or removed)")]
    NodeNotFound {
        /// The node that asked.
        node: NodeId,
    },
    /// The session is not the node's current one: it was replaced by a newer registration,
    /// expired, or belongs to a previous leader (retryable: the agent registers again).
    #[error("node {node}: session {session} is not current; register again")]
    UnknownSession {
        /// The node that asked.
        node: NodeId,
        /// The session it named.
        session: SessionId,
    },
    /// The node registered too often recently (retryable after `retry_after_ms`).
    #[error("node {node} registered too often; retry in {retry_after_ms} ms")]
    RegistrationRateLimited {
        /// The node that asked.
        node: NodeId,
        /// When the next registration is allowed, from now.
        retry_after_ms: u64,
    },
    /// Tracking this many nodes would pass the dispatcher's bound
    /// ([`MAX_NODES`](crate::manager::dispatcher::MAX_NODES)).
    #[error("{count} nodes exceed the dispatcher's limit of {max}")]
    TooManyNodes {
        /// How many nodes there would be.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A manager list longer than [`MAX_MANAGERS`](crate::manager::dispatcher::MAX_MANAGERS).
    #[error("{count} managers exceed the limit of {max}")]
    TooManyManagers {
        /// How many managers were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl DispatcherError {
    /// Whether retrying cannot help: the node was removed or never joined.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DispatcherError::NodeNotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_node_and_only_not_found_is_fatal() {
        let node = NodeId::new("w1");
        let cases = [
            (
                DispatcherError::NotLeader { node: node.clone() },
                "node w1: this manager is not the leader; use another manager",
                false,
            ),
            (
                DispatcherError::NodeNotFound { node: node.clone() },
                "node w1 is not in the cluster (never joined or removed)",
                true,
            ),
            (
                DispatcherError::UnknownSession {
                    node: node.clone(),
                    session: SessionId(7),
                },
                "node w1: session 0000000000000007 is not current; register again",
                false,
            ),
            (
                DispatcherError::RegistrationRateLimited {
                    node,
                    retry_after_ms: 1500,
                },
                "node w1 registered too often; retry in 1500 ms",
                false,
            ),
            (
                DispatcherError::TooManyNodes { count: 3, max: 2 },
                "3 nodes exceed the dispatcher's limit of 2",
                false,
            ),
            (
                DispatcherError::TooManyManagers { count: 65, max: 64 },
                "65 managers exceed the limit of 64",
                false,
            ),
        ];
        for (error, message, fatal) in cases {
            assert_eq!(error.to_string(), message);
            assert_eq!(error.is_fatal(), fatal, "{error}");
        }
    }
}
