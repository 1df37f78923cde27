//! The verified identity of a TLS peer.

use crate::node_id::{ClusterId, NodeId, Role};

/// The verified identity of a TLS peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's node id.
    pub node_id: NodeId,
    /// The peer's role.
    pub role: Role,
    /// The peer's cluster.
    pub cluster_id: ClusterId,
}

impl PeerIdentity {
    /// The `(node id, role)` pair to authorise a call with.
    pub fn node_and_role(&self) -> (&NodeId, Role) {
        (&self.node_id, self.role)
    }
}

impl From<PeerIdentity> for (NodeId, Role) {
    fn from(p: PeerIdentity) -> Self {
        (p.node_id, p.role)
    }
}
