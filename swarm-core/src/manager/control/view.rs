//! What the control steps read.

use crate::model::{Cluster, Node};

/// The state a control step reads: the cluster object and every node record, as one
/// consistent read of the store.
#[derive(Clone, Copy, Debug)]
pub struct ClusterView<'a> {
    /// The cluster object.
    pub cluster: &'a Cluster,
    /// Every node record.
    pub nodes: &'a [Node],
}
