//! The list of removed nodes, checked at every TLS handshake.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use crate::node_id::NodeId;

/// Node ids removed from the cluster. Cheap to clone: every clone shares the same list, so the
/// TLS verifiers built from it see a revocation at the next handshake.
///
/// ```
/// use swarm_secrets::{NodeId, RevocationList};
/// let list = RevocationList::new();
/// let verifier_view = list.clone();
/// list.revoke(NodeId::new("node-7")?);
/// assert!(verifier_view.is_revoked(&NodeId::new("node-7")?));
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RevocationList {
    removed: Arc<RwLock<BTreeSet<NodeId>>>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a removed node. Returns whether it was newly added.
    pub fn revoke(&self, node_id: NodeId) -> bool {
        self.removed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(node_id)
    }

    /// Replaces the whole list (e.g. from the replicated store).
    pub fn replace(&self, removed: impl IntoIterator<Item = NodeId>) {
        let fresh: BTreeSet<NodeId> = removed.into_iter().collect();
        *self
            .removed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
    }

    /// Whether `node_id` is revoked.
    pub fn is_revoked(&self, node_id: &NodeId) -> bool {
        self.removed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(node_id)
    }

    /// Number of revoked nodes.
    pub fn len(&self) -> usize {
        self.removed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether no node is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
