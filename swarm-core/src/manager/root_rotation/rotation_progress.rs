//! How far a root rotation is: which nodes still hold a certificate of the old root.

use crate::manager::control::{ClusterView, NodeRef};
use crate::manager::root_rotation::pending_node::PendingNode;
use crate::manager::root_rotation::renew_now::must_renew_now;
use crate::model::NodeMembership;
use std::time::SystemTime;
use swarm_secrets::CaDigest;

/// A root rotation's progress ([`root_rotation_progress`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationProgress {
    /// The root being retired.
    pub old_root: CaDigest,
    /// The root rotated to.
    pub new_root: CaDigest,
    /// When the rotation started.
    pub started_at: SystemTime,
    /// Nodes whose last certificate comes from the new root.
    pub on_new_root: usize,
    /// Nodes that must still renew, in id order, down ones included.
    pub on_old_root: Vec<PendingNode>,
}

impl RotationProgress {
    /// Whether every counted node is on the new root, so that
    /// [`finish_root_rotation`](super::finish_root_rotation) succeeds.
    pub fn can_finish(&self) -> bool {
        self.on_old_root.is_empty()
    }
}

/// The progress of the rotation in progress, `None` when there is none.
///
/// Contract: every accepted node record counts, whatever its state: a down node still holds
/// a certificate of the old root and would be cut off if the old root stopped being trusted,
/// so it blocks the rotation until it comes back and renews, or an operator removes it
/// (`node rm`, which deletes its record) — as SwarmKit's root rotation reconciler waits for
/// every node in the store. A pending record holds no certificate and does not count. A node
/// is on the new root when its record's `certificate_root` is the new root's digest
/// ([`must_renew_now`] is false for it). Pure.
pub fn root_rotation_progress(view: ClusterView<'_>) -> Option<RotationProgress> {
    let rotation = view.cluster.root_rotation.as_ref()?;
    let counted = view
        .nodes
        .iter()
        .filter(|n| n.spec.membership == NodeMembership::Accepted);
    let mut on_new_root = 0;
    let mut on_old_root = Vec::new();
    for node in counted {
        if must_renew_now(node, view.cluster) {
            on_old_root.push(PendingNode {
                node: NodeRef::of(node),
                state: node.status.state,
            });
        } else {
            on_new_root += 1;
        }
    }
    on_old_root.sort_by(|a, b| a.node.id.cmp(&b.node.id));
    Some(RotationProgress {
        old_root: rotation.old_root(),
        new_root: rotation.new_root(),
        started_at: rotation.started_at,
        on_new_root,
        on_old_root,
    })
}
