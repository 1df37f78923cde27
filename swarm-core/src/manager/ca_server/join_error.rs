//! Why a join was refused.

use crate::model::{NodeId, NodeRole};
use std::time::SystemTime;
use swarm_secrets::SecretsError;

/// Why a node could not join, on the manager's side ([`join`](super::join)) or the joining
/// node's ([`verify_downloaded_ca`](super::verify_downloaded_ca)).
///
/// The token refusals say which case it is: not a token of this cluster at all
/// ([`JoinError::WrongToken`]), a token this cluster rotated away
/// ([`JoinError::RotatedToken`]), a token of a root CA this cluster rotated away
/// ([`JoinError::RootRotated`]), or a token of another cluster
/// ([`JoinError::OtherCluster`], [`JoinError::DownloadedCaMismatch`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The token is not of the form `SWMTKN-1-<digest>-<secret>`.
    #[error("join token refused: {reason}")]
    MalformedToken {
        /// What is wrong with it.
        reason: String,
    },
    /// The token pins this cluster's root CA but is neither a current token nor a recently
    /// rotated one (mistyped, forged, or rotated too long ago to be remembered).
    #[error("join token refused: it is not a current worker or manager token of this cluster")]
    WrongToken,
    /// The token was a valid token for `role` until an operator rotated it.
    #[error(
        "join token refused: this {role} join token was rotated; ask an operator for the current one (`join-token {role}`)"
    )]
    RotatedToken {
        /// The role the token granted.
        role: NodeRole,
        /// When it was rotated.
        retired_at: SystemTime,
    },
    /// The token pins a root CA this cluster rotated away (`swarm ca --rotate`): it was a
    /// token of this cluster, and the rotation re-pinned the tokens to the new root.
    #[error(
        "join token refused: it pins this cluster's previous root CA, which was rotated; ask an operator for the current token (`join-token worker` or `join-token manager`)"
    )]
    RootRotated {
        /// When the rotation away from that root finished.
        retired_at: SystemTime,
    },
    /// The token pins another root CA: it is a token of another cluster.
    #[error("join token refused: it belongs to another cluster (it pins another root CA)")]
    OtherCluster,
    /// The root CA a joining node downloaded is not the one its token pins: the token is of
    /// another cluster than the manager it contacted, or something between them replaced the
    /// certificate.
    #[error(
        "the root CA downloaded from {manager} does not match the digest in the join token: the token belongs to another cluster than {manager}"
    )]
    DownloadedCaMismatch {
        /// The manager address the CA came from.
        manager: String,
    },
    /// A field of the join request is invalid.
    #[error("join request refused: {field}: {reason}")]
    InvalidRequest {
        /// The field, as named in the request.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA refused to issue the certificate (e.g. the CSR is not a P-256 key).
    #[error("certificate for node {node} joining as {role} not issued: {source}")]
    Certificate {
        /// The id the node would have had.
        node: NodeId,
        /// The role it asked for, through its token.
        role: NodeRole,
        /// The CA's reason.
        source: SecretsError,
    },
    /// A cryptographic primitive failed (e.g. the system random source).
    #[error("join check failed: {source}")]
    Crypto {
        /// The failure.
        source: SecretsError,
    },
    /// No free id was found in the random draws allowed (the random source repeats itself).
    #[error("no unused {what} after {draws} random draws")]
    IdsExhausted {
        /// `node id` or `raft id`.
        what: &'static str,
        /// Draws made.
        draws: usize,
    },
    /// The cluster object is not usable for joins (its tokens do not parse, or pin another CA
    /// than the cluster CA): a fault of the managers, not of the joining node.
    #[error("the cluster state cannot admit nodes: {reason}")]
    ClusterState {
        /// What is inconsistent.
        reason: String,
    },
}

impl JoinError {
    /// Whether the same request may succeed later unchanged: a fresh random draw
    /// ([`JoinError::IdsExhausted`]) or a transient CA failure. Every token refusal is final
    /// for that token.
    pub fn is_retryable(&self) -> bool {
        match self {
            JoinError::IdsExhausted { .. } => true,
            JoinError::Certificate { source, .. } | JoinError::Crypto { source } => {
                source.is_retryable()
            }
            _ => false,
        }
    }
}
