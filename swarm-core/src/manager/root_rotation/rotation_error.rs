//! Why a root rotation step was refused.

use crate::manager::root_rotation::pending_node::PendingNode;
use crate::model::ClusterId;
use std::time::SystemTime;
use swarm_secrets::{CaDigest, SecretsError};

/// Most pending nodes a [`RotationError::NodesOnOldRoot`] names; the rest are counted. Worst
/// case: 16 node references (an id and a hostname each) in one error message.
pub const MAX_NAMED_PENDING_NODES: usize = 16;

/// A refused root rotation step. Every variant names the roots, the cluster or the nodes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// A rotation to another root is in progress. It cannot be superseded: nodes that already
    /// renewed from its new root would stop being trusted (this implementation does not
    /// cross-sign the new root with the old one, as SwarmKit does). Let it finish first.
    #[error(
        "a root rotation to {new_root:?}, started at {started_at:?}, is in progress: let it finish before rotating again"
    )]
    InProgress {
        /// The root that rotation moves to.
        new_root: CaDigest,
        /// When it started.
        started_at: SystemTime,
    },
    /// The new root is the current root.
    #[error("the new root CA {root:?} is the cluster's current root: nothing to rotate")]
    SameRoot {
        /// The root.
        root: CaDigest,
    },
    /// The new root serves another cluster id than the cluster's.
    #[error("the new root CA is for cluster {ca_cluster:?}, not for cluster {cluster}")]
    OtherCluster {
        /// The cluster.
        cluster: ClusterId,
        /// The cluster id the new root was made for.
        ca_cluster: String,
    },
    /// No rotation is in progress.
    #[error("no root rotation is in progress")]
    NotInProgress,
    /// The CA given is not the root the rotation moves to.
    #[error("the root rotation moves to {expected:?}, not to the root CA given ({given:?})")]
    WrongRoot {
        /// The rotation's new root.
        expected: CaDigest,
        /// The root given.
        given: CaDigest,
    },
    /// Nodes still hold a certificate of the old root: the rotation cannot finish without
    /// cutting them off.
    #[error(
        "the root rotation cannot finish: {} node(s) still hold a certificate of the old root: {}; running nodes renew at their next heartbeat, nodes gone for good must be removed (`node rm`)",
        .nodes.len() + *.more,
        crate::manager::control::error::named_list(.nodes, *.more)
    )]
    NodesOnOldRoot {
        /// The first pending nodes (at most [`MAX_NAMED_PENDING_NODES`]), in id order.
        nodes: Vec<PendingNode>,
        /// Pending nodes not named.
        more: usize,
    },
    /// The cluster object is not usable (its join tokens do not parse, or pin another root
    /// than the current one): a fault of the managers' state.
    #[error("the cluster state is inconsistent: {reason}")]
    ClusterState {
        /// What is inconsistent.
        reason: String,
    },
    /// Join tokens could not be made (the system random source failed).
    #[error("{what}: {source}")]
    Secrets {
        /// What was being made.
        what: String,
        /// The failure.
        source: SecretsError,
    },
}

impl RotationError {
    /// Whether the same call may succeed later unchanged: once pending nodes renewed or were
    /// removed ([`RotationError::NodesOnOldRoot`]), once the rotation in progress finished
    /// ([`RotationError::InProgress`]), or after a transient failure of the random source.
    pub fn is_retryable(&self) -> bool {
        match self {
            RotationError::NodesOnOldRoot { .. } | RotationError::InProgress { .. } => true,
            RotationError::Secrets { source, .. } => source.is_retryable(),
            _ => false,
        }
    }
}
