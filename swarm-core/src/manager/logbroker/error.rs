//! Why the log broker refused a call.

use super::LogSubscriptionId;
use crate::model::{NodeId, TaskId};

/// A refusal of the log broker, naming the subscription, node or task and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogBrokerError {
    /// A subscription must select something.
    #[error("a logs request must name at least one service, task or node")]
    EmptySelector,
    /// The selector names too many ids.
    #[error("a logs request names {ids} services, tasks and nodes, more than {max}")]
    SelectorTooLarge {
        /// Ids named.
        ids: usize,
        /// The bound.
        max: usize,
    },
    /// The broker holds as many subscriptions as it may (retryable: others end).
    #[error("{max} log subscriptions are open already; try again once one has ended")]
    TooManySubscriptions {
        /// The bound.
        max: usize,
    },
    /// The subscription does not exist (it ended, was cancelled, expired, or another manager
    /// leads now).
    #[error("log subscription {id} does not exist (ended, cancelled, or another leader)")]
    UnknownSubscription {
        /// The subscription.
        id: LogSubscriptionId,
    },
    /// The node has no open part in the subscription.
    #[error("node {node} is not publishing to log subscription {id}")]
    NotSubscribed {
        /// The node.
        node: NodeId,
        /// The subscription.
        id: LogSubscriptionId,
    },
    /// A publication carries too many messages.
    #[error("node {node} published {count} log messages at once, more than {max}")]
    TooManyMessages {
        /// The node.
        node: NodeId,
        /// Messages sent.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A publication carries too many bytes.
    #[error("node {node} published {bytes} bytes of logs at once, more than {max}")]
    TooManyBytes {
        /// The node.
        node: NodeId,
        /// Bytes sent (lines and per-message overhead).
        bytes: usize,
        /// The bound.
        max: usize,
    },
    /// A line is longer than a message carries.
    #[error("node {node} published a line of {bytes} bytes for task {task}, more than {max}")]
    LineTooLong {
        /// The node.
        node: NodeId,
        /// The task.
        task: TaskId,
        /// The line's length.
        bytes: usize,
        /// The bound.
        max: usize,
    },
    /// A message names another node than the one publishing it.
    #[error("node {node} published a log message in the name of node {claimed}")]
    ForeignNode {
        /// The publishing node.
        node: NodeId,
        /// The node the message names.
        claimed: NodeId,
    },
    /// The task is not one of the publishing node's (or its service is misnamed).
    #[error("node {node} published logs of task {task}, which is not one of its tasks")]
    NotNodeTask {
        /// The publishing node.
        node: NodeId,
        /// The task.
        task: TaskId,
    },
    /// The task is not selected by the subscription.
    #[error("log subscription {id} does not select task {task}")]
    NotSelected {
        /// The subscription.
        id: LogSubscriptionId,
        /// The task.
        task: TaskId,
    },
}

impl LogBrokerError {
    /// Whether the same call may succeed later unchanged.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LogBrokerError::TooManySubscriptions { .. })
    }
}
