//! The events stream: what changed in the cluster, as managers see their store change.

use crate::model::{Node, NodeAvailability, NodeId, NodeRole, NodeState};
use std::collections::BTreeMap;

/// Events a receiver may fall behind by before it misses some (it then gets
/// `RecvError::Lagged` with the count, and goes on with the newest).
pub const MAX_BUFFERED_EVENTS: usize = 1024;

/// Something that happened in the cluster (`docker events --filter scope=swarm` for nodes).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// A node joined.
    NodeAdded {
        /// The node.
        node: NodeId,
        /// Its role.
        role: NodeRole,
    },
    /// A node was removed.
    NodeRemoved {
        /// The node.
        node: NodeId,
    },
    /// A node's liveness changed (ready, down...).
    NodeStateChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeState,
        /// After.
        to: NodeState,
    },
    /// A node's desired role changed (promote, demote).
    NodeRoleChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeRole,
        /// After.
        to: NodeRole,
    },
    /// A node's availability changed (active, pause, drain).
    NodeAvailabilityChanged {
        /// The node.
        node: NodeId,
        /// Before.
        from: NodeAvailability,
        /// After.
        to: NodeAvailability,
    },
    /// Another manager leads (as the node records say).
    LeaderChanged {
        /// The new leader's node, `None` while unknown.
        node: Option<NodeId>,
    },
}

/// The events between two snapshots of the node records, in node id order. Pure.
pub fn node_events(
    before: &BTreeMap<NodeId, Node>,
    after: &BTreeMap<NodeId, Node>,
) -> Vec<ClusterEvent> {
    let mut events = Vec::new();
    for (id, node) in after {
        let Some(old) = before.get(id) else {
            events.push(ClusterEvent::NodeAdded {
                node: id.clone(),
                role: node.spec.role,
            });
            continue;
        };
        if old.status.state != node.status.state {
            events.push(ClusterEvent::NodeStateChanged {
                node: id.clone(),
                from: old.status.state,
                to: node.status.state,
            });
        }
        if old.spec.role != node.spec.role {
            events.push(ClusterEvent::NodeRoleChanged {
                node: id.clone(),
                from: old.spec.role,
                to: node.spec.role,
            });
        }
        if old.spec.availability != node.spec.availability {
            events.push(ClusterEvent::NodeAvailabilityChanged {
                node: id.clone(),
                from: old.spec.availability,
                to: node.spec.availability,
            });
        }
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        events.push(ClusterEvent::NodeRemoved { node: id.clone() });
    }
    let leader = |nodes: &BTreeMap<NodeId, Node>| {
        nodes
            .values()
            .find(|n| n.manager_status.as_ref().is_some_and(|m| m.leader))
            .map(|n| n.id.clone())
    };
    let (was, is) = (leader(before), leader(after));
    if was != is && !after.is_empty() {
        events.push(ClusterEvent::LeaderChanged { node: is });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_become_events() {
        let mut a = Node {
            id: NodeId::new("a"),
            ..Node::default()
        };
        let before = BTreeMap::from([(a.id.clone(), a.clone())]);
        a.status.state = NodeState::Down;
        a.spec.availability = NodeAvailability::Drain;
        let b = Node {
            id: NodeId::new("b"),
            ..Node::default()
        };
        let after = BTreeMap::from([(a.id.clone(), a.clone()), (b.id.clone(), b)]);
        let events = node_events(&before, &after);
        assert_eq!(
            events,
            vec![
                ClusterEvent::NodeStateChanged {
                    node: NodeId::new("a"),
                    from: NodeState::Unknown,
                    to: NodeState::Down
                },
                ClusterEvent::NodeAvailabilityChanged {
                    node: NodeId::new("a"),
                    from: NodeAvailability::Active,
                    to: NodeAvailability::Drain
                },
                ClusterEvent::NodeAdded {
                    node: NodeId::new("b"),
                    role: NodeRole::Worker
                },
            ]
        );
        assert_eq!(
            node_events(&after, &before),
            vec![
                ClusterEvent::NodeStateChanged {
                    node: NodeId::new("a"),
                    from: NodeState::Down,
                    to: NodeState::Unknown
                },
                ClusterEvent::NodeAvailabilityChanged {
                    node: NodeId::new("a"),
                    from: NodeAvailability::Drain,
                    to: NodeAvailability::Active
                },
                ClusterEvent::NodeRemoved {
                    node: NodeId::new("b")
                },
            ]
        );
    }
}
