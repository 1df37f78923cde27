//! One node's verdict for a task spec, as [`Engine::explain`](crate::Engine::explain) gives it.

use crate::ids::NodeId;
use crate::rejection::Rejection;
use std::fmt;

/// One node's verdict for a task spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeVerdict {
    /// The node.
    pub node: NodeId,
    /// The first filter that rejects it, or `None` if the task fits there now.
    pub rejection: Option<Rejection>,
    /// Human form of the rejection (`fails constraint node.labels.zone==eu`).
    pub reason: Option<String>,
}

impl fmt::Display for NodeVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(r) => write!(f, "{}: {r}", self.node),
            None => write!(f, "{}: fits", self.node),
        }
    }
}
