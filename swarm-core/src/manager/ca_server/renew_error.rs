//! Why a certificate renewal was refused.

use crate::model::{NodeId, NodeRole};
use std::time::SystemTime;
use swarm_secrets::SecretsError;

/// Why an authenticated node's certificate was not renewed
/// ([`renew_certificate`](super::renew_certificate)). Every variant names the node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenewError {
    /// The node was removed (`node rm`): its id is on the cluster's revocation list. It must
    /// join again with a token, under a new id.
    #[error(
        "node {node} cannot renew its certificate: it was removed from the cluster and its id is revoked until {until:?}; join again with a join token"
    )]
    Revoked {
        /// The node.
        node: NodeId,
        /// When the revocation entry expires (its last certificate's expiry).
        until: SystemTime,
    },
    /// No node record has this id (removed, or never admitted by this cluster).
    #[error(
        "node {node} cannot renew its certificate: the cluster has no record of it; join again with a join token"
    )]
    UnknownNode {
        /// The node.
        node: NodeId,
    },
    /// The node's record is not accepted (pending): it holds no certificate to renew.
    #[error("node {node} cannot renew its certificate: its membership is pending, not accepted")]
    NotAccepted {
        /// The node.
        node: NodeId,
    },
    /// The CA refused to issue the certificate (e.g. the CSR is not a P-256 key).
    #[error("certificate for node {node} as {role} not renewed: {source}")]
    Certificate {
        /// The node.
        node: NodeId,
        /// The role the certificate would have carried.
        role: NodeRole,
        /// The CA's reason.
        source: SecretsError,
    },
    /// The cluster state is not usable for issuing (its tokens do not parse, or the issuing
    /// CA given is not the one the state names): a fault of the managers, not of the node.
    #[error("the cluster state cannot renew the certificate of node {node}: {reason}")]
    ClusterState {
        /// The node.
        node: NodeId,
        /// What is inconsistent.
        reason: String,
    },
}

impl RenewError {
    /// Whether the same request may succeed later unchanged: only a transient CA failure
    /// (e.g. the system random source). A removed, unknown or pending node stays refused.
    pub fn is_retryable(&self) -> bool {
        match self {
            RenewError::Certificate { source, .. } => source.is_retryable(),
            _ => false,
        }
    }
}
