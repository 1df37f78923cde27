//! What the broker answers a reader and a publishing node.

use super::LogMessage;
use serde::{Deserialize, Serialize};

/// Why a subscription ended, once every part of it has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEnd {
    /// What could not be read: a node down or silent, a task not scheduled yet. Empty when
    /// every node delivered its part.
    pub incomplete: Vec<String>,
}

impl LogEnd {
    /// Whether every part was delivered.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }
}

/// One read of a subscription.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBatch {
    /// The next messages, in the order they were published.
    pub messages: Vec<LogMessage>,
    /// Set once the subscription has ended: no message follows and it is gone from the broker.
    pub end: Option<LogEnd>,
}

/// Whether a publication was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Taken whole (and the part closed if asked).
    Taken,
    /// The subscription's buffer has no room for it: nothing was taken, the messages are
    /// handed back; publish them again once the client has read.
    Full(Vec<LogMessage>),
}
