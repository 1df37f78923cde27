//! A node status update the dispatcher asks the store for.

use crate::model::{Node, NodeDescription, NodeId, NodeState};

/// Status message of a node whose agent stopped heartbeating (SwarmKit's words).
pub const MESSAGE_HEARTBEAT_FAILURE: &str = "heartbeat failure";
/// Status message of a node that did not reach the new leader within its grace after a leader
/// change (SwarmKit's words).
pub const MESSAGE_HEARTBEAT_FAILURE_UNKNOWN: &str =
    "heartbeat failure for node in \"unknown\" state";
/// Status message of the nodes a new leader has not heard from yet (SwarmKit's words).
pub const MESSAGE_LEADERSHIP_CHANGE: &str =
    "Node moved to \"unknown\" state due to leadership change in cluster";

/// A store write the dispatcher asks for: the new status of one node, as data.
///
/// The loop applies it to the stored record of `node` ([`NodeStatusWrite::apply_to`]) in a
/// read-modify-write transaction and retries on a version conflict; the dispatcher is the only
/// writer of a node's status and description, so no expected version is carried (one would only
/// make a concurrent spec edit, e.g. `node update --availability`, fail the write). A write for a
/// node no longer in the store is dropped. Writes must be applied in the order they were
/// returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatusWrite {
    /// The node to update.
    pub node: NodeId,
    /// Its new liveness.
    pub state: NodeState,
    /// Why (empty when ready).
    pub message: String,
    /// The address its agent connects from; `None` keeps the stored one.
    pub addr: Option<String>,
    /// What the node reported when it registered; `None` keeps the stored one.
    pub description: Option<NodeDescription>,
}

impl NodeStatusWrite {
    /// A write that changes only the state and message.
    pub(crate) fn state(node: &NodeId, state: NodeState, message: &str) -> Self {
        NodeStatusWrite {
            node: node.clone(),
            state,
            message: message.to_owned(),
            addr: None,
            description: None,
        }
    }

    /// Applies the write to `node` (the record of [`NodeStatusWrite::node`]): sets the state and
    /// message, and the address and description when given.
    pub fn apply_to(&self, node: &mut Node) {
        node.status.state = self.state;
        node.status.message.clone_from(&self.message);
        if let Some(addr) = &self.addr {
            node.status.addr.clone_from(addr);
        }
        if let Some(description) = &self.description {
            node.description = Some(description.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeStatus;

    #[test]
    fn apply_keeps_what_the_write_does_not_carry() {
        let mut node = Node {
            id: NodeId::new("n1"),
            status: NodeStatus {
                state: NodeState::Ready,
                message: String::new(),
                addr: "10.0.0.5".into(),
            },
            description: Some(NodeDescription {
                hostname: "edge-1".into(),
                ..NodeDescription::default()
            }),
            ..Node::default()
        };
        NodeStatusWrite::state(&node.id, NodeState::Down, MESSAGE_HEARTBEAT_FAILURE)
            .apply_to(&mut node);
        assert_eq!(node.status.state, NodeState::Down);
        assert_eq!(node.status.message, "heartbeat failure");
        assert_eq!(node.status.addr, "10.0.0.5");
        assert_eq!(
            node.description.as_ref().map(|d| d.hostname.as_str()),
            Some("edge-1")
        );

        let ready = NodeStatusWrite {
            node: node.id.clone(),
            state: NodeState::Ready,
            message: String::new(),
            addr: Some("10.0.0.6".into()),
            description: Some(NodeDescription {
                hostname: "edge-1b".into(),
                ..NodeDescription::default()
            }),
        };
        ready.apply_to(&mut node);
        assert_eq!(node.status.state, NodeState::Ready);
        assert_eq!(node.status.message, "");
        assert_eq!(node.status.addr, "10.0.0.6");
        assert_eq!(
            node.description.as_ref().map(|d| d.hostname.as_str()),
            Some("edge-1b")
        );
    }
}
