//! The log broker: `docker service logs` / `docker task logs` (SwarmKit's `manager/logbroker`),
//! as a sans-IO state machine the leader keeps in memory.
//!
//! A client subscribes with a [`LogSelector`] (services, tasks, nodes) and a [`LogRequest`]
//! (follow, tail, since, timestamps); [`LogBroker::subscribe`] finds, in the cluster state,
//! the nodes that run the selected tasks and gives the subscription a part per node. Each
//! node's agent learns the subscriptions it has a part in ([`LogBroker::node_subscriptions`],
//! a long poll on the node), reads its tasks' output from their controllers and publishes it
//! in bounded batches ([`LogBroker::publish`]), then closes its part (not when following).
//! The client reads ([`LogBroker::next`]) until the batch carries a [`LogEnd`]: every part
//! closed, failed (its node down or silent for [`LOG_NODE_SILENCE_TIMEOUT`]) or, when
//! following, never: a following subscription picks up tasks started later
//! ([`LogBroker::refresh`]) and ends when the client cancels it or stops reading for
//! [`LOG_READER_IDLE_TIMEOUT`].
//!
//! Every bound is named, with its worst case:
//! [`MAX_LOG_SUBSCRIPTIONS`] subscriptions of at most [`MAX_BUFFERED_LOG_BYTES`] each
//! (messages counted with [`LOG_MESSAGE_OVERHEAD_BYTES`]), at most
//! [`MAX_BUFFERED_LOG_MESSAGES`] messages each; a publication carries at most
//! [`MAX_LOG_MESSAGES_PER_CALL`] messages and [`MAX_LOG_PUBLISH_BYTES`]; a line is at most
//! [`MAX_LOG_LINE_BYTES`]; a read returns at most [`MAX_LOG_MESSAGES_PER_READ`] messages; a
//! selector names at most [`MAX_LOG_SELECTOR_IDS`] ids; an end lists at most
//! [`MAX_LOG_END_REASONS`] reasons. A publication that does not fit the subscription's buffer
//! is not taken ([`PublishOutcome::Full`]): the agent publishes it again once the client read.
//!
//! Authorisation is the broker's too: a node publishes only to subscriptions it has an open
//! part in, only messages that name it, and only about its own tasks that the selector
//! selects.

mod broker;
#[cfg(test)]
mod broker_tests;
mod error;
mod log_batch;
mod log_message;
mod log_request;
mod log_selector;
mod log_subscription;
mod log_target;
mod subscription;
mod timestamp;

pub use broker::{
    LOG_NODE_SILENCE_TIMEOUT, LOG_READER_IDLE_TIMEOUT, LogBroker, MAX_BUFFERED_LOG_BYTES,
    MAX_BUFFERED_LOG_MESSAGES, MAX_LOG_END_REASONS, MAX_LOG_MESSAGES_PER_CALL,
    MAX_LOG_MESSAGES_PER_READ, MAX_LOG_PUBLISH_BYTES, MAX_LOG_SUBSCRIPTIONS,
};
pub use error::LogBrokerError;
pub use log_batch::{LogBatch, LogEnd, PublishOutcome};
pub use log_message::{LOG_MESSAGE_OVERHEAD_BYTES, LogContext, LogMessage, MAX_LOG_LINE_BYTES};
pub use log_request::LogRequest;
pub use log_selector::{LogSelector, MAX_LOG_SELECTOR_IDS};
pub use log_subscription::{LogSubscription, LogSubscriptionId};
pub use log_target::LogTarget;
pub use timestamp::rfc3339_nanos;
