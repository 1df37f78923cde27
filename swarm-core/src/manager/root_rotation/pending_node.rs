//! A node that still holds a certificate of the root being retired.

use crate::manager::control::NodeRef;
use crate::model::NodeState;
use std::fmt;

/// A node that must still renew before a root rotation can finish: its name and its last
/// known state (a down node renews when it comes back, or must be removed with `node rm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNode {
    /// The node.
    pub node: NodeRef,
    /// Its state as the dispatcher last recorded it.
    pub state: NodeState,
}

impl fmt::Display for PendingNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.node, self.state)
    }
}
