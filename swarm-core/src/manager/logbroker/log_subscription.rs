//! A subscription as the nodes that serve it see it.

use super::{LogRequest, LogSelector};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies a log subscription on the leader (a 25-character random id).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogSubscriptionId(pub String);

impl LogSubscriptionId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogSubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LogSubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogSubscriptionId({})", self.0)
    }
}

/// What a node is told about a subscription it has a part in: publish the output of its
/// tasks that `selector` selects, as `request` asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSubscription {
    /// The subscription.
    pub id: LogSubscriptionId,
    /// The tasks wanted.
    pub selector: LogSelector,
    /// Follow, tail, since.
    pub request: LogRequest,
}
