//! Which nodes can keep or take tasks.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::model::{Node, NodeAvailability, NodeId, NodeState};

/// Why the node a task is on can no longer run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeFailure {
    /// The node record was deleted.
    Gone,
    /// The dispatcher marked the node down.
    Down,
    /// The operator drained the node.
    Drained,
}

/// Whether node `id` failed its tasks; `None` for a node that can keep them.
pub(crate) fn node_failure(state: &ClusterState, id: &NodeId) -> Option<NodeFailure> {
    match state.node(id) {
        None => Some(NodeFailure::Gone),
        Some(node) if node.status.state == NodeState::Down => Some(NodeFailure::Down),
        Some(node) if node.spec.availability == NodeAvailability::Drain => {
            Some(NodeFailure::Drained)
        }
        Some(_) => None,
    }
}

/// What a global service (or global job) does on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlobalRule {
    /// Runs one task there.
    Run,
    /// Keeps what runs there and starts nothing new (paused node).
    Keep,
    /// Stops its tasks there: the node is down, drained or no longer meets the placement.
    Stop,
}

/// The rule for `node` and a service placed by `filter`.
pub(crate) fn global_rule(node: &Node, filter: &PlacementFilter) -> GlobalRule {
    if node.status.state == NodeState::Down
        || node.spec.availability == NodeAvailability::Drain
        || !filter.fits(node)
    {
        return GlobalRule::Stop;
    }
    match node.spec.availability {
        NodeAvailability::Pause => GlobalRule::Keep,
        _ => GlobalRule::Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Placement;

    #[test]
    fn rules_follow_status_availability_and_placement() {
        let mut state = ClusterState::new();
        let mut node = Node {
            id: "n1".into(),
            ..Node::default()
        };
        let any = PlacementFilter::new(&Placement::default());
        let ssd = PlacementFilter::new(&Placement {
            constraints: vec!["node.labels.ssd==true".into()],
            ..Placement::default()
        });
        assert_eq!(node_failure(&state, &node.id), Some(NodeFailure::Gone));
        state.put_node(node.clone());
        assert_eq!(node_failure(&state, &node.id), None);
        assert_eq!(global_rule(&node, &any), GlobalRule::Run);
        assert_eq!(global_rule(&node, &ssd), GlobalRule::Stop);
        node.spec.availability = NodeAvailability::Pause;
        assert_eq!(global_rule(&node, &any), GlobalRule::Keep);
        node.spec.availability = NodeAvailability::Drain;
        state.put_node(node.clone());
        assert_eq!(global_rule(&node, &any), GlobalRule::Stop);
        assert_eq!(node_failure(&state, &node.id), Some(NodeFailure::Drained));
        node.status.state = NodeState::Down;
        state.put_node(node.clone());
        assert_eq!(node_failure(&state, &node.id), Some(NodeFailure::Down));
    }
}
