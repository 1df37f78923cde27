//! The role a node's next certificate carries.

use crate::mapping::store_member_id;
use crate::model::{Node, NodeRole};

/// The role the cluster state gives `node` now, which its next certificate carries (SwarmKit
/// issues a renewal with the node's observed role, `Node.Role`, not its desired role):
///
/// * manager from the moment a promotion is recorded (desired role manager: the node needs a
///   manager certificate to join the Raft group as a learner);
/// * still manager while a demotion is being carried out, as long as the node is a Raft
///   member (its manager status is cleared only once the loop removed it from the group),
///   so a member is never cut off from its peers before it left;
/// * worker otherwise.
///
/// ```
/// use swarm_core::manager::ca_server::certificate_role;
/// use swarm_core::model::{ManagerStatus, Node, NodeRole};
///
/// let mut node = Node::default();
/// assert_eq!(certificate_role(&node), NodeRole::Worker);
/// node.spec.role = NodeRole::Manager; // promoted
/// assert_eq!(certificate_role(&node), NodeRole::Manager);
/// node.spec.role = NodeRole::Worker; // demoted, still a Raft member
/// node.manager_status = Some(ManagerStatus { raft_id: 7, ..ManagerStatus::default() });
/// assert_eq!(certificate_role(&node), NodeRole::Manager);
/// node.manager_status = None; // removed from the group
/// assert_eq!(certificate_role(&node), NodeRole::Worker);
/// ```
pub fn certificate_role(node: &Node) -> NodeRole {
    if node.spec.role == NodeRole::Manager || store_member_id(node).is_some() {
        NodeRole::Manager
    } else {
        NodeRole::Worker
    }
}
