//! The crate's typed error.

use crate::node_id::{ClusterId, NodeId, Role};

/// Everything that can go wrong in `swarm-secrets`.
///
/// Errors never carry key material or plaintext. [`SecretsError::is_retryable`] separates the
/// transient cases (a locked keyring that may be unlocked later, a failing random source) from
/// the fatal ones (tampered data, a wrong key, a rejected token or certificate).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The keyring is locked: nothing can be sealed or opened until it is unlocked.
    #[error("keyring is locked: unlock it with the cluster's unlock key (SWMKEY-1-...) first")]
    Locked,
    /// The unlock key does not match the keyring's key check value.
    #[error("wrong unlock key: it does not match the key that protects this keyring")]
    WrongUnlockKey,
    /// Authenticated decryption failed: wrong key, wrong associated data, or altered bytes.
    #[error(
        "cannot open {what}: wrong key, wrong associated data, or the bytes were altered or truncated"
    )]
    DecryptionFailed {
        /// What was being opened (e.g. "sealed blob").
        what: &'static str,
    },
    /// Bytes that do not parse as the expected structure.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// Why it does not parse.
        reason: String,
    },
    /// A format version this build does not know.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// What carries the version.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// An input over its named size limit.
    #[error("{what} is {len_bytes} bytes, over the limit of {limit_bytes} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len_bytes: usize,
        /// The limit.
        limit_bytes: usize,
    },
    /// A sealed blob names a data-encryption key the keyring does not hold.
    #[error("unknown data-encryption key id {key_id} (retired, or from another keyring)")]
    UnknownKey {
        /// The key id in the blob.
        key_id: u32,
    },
    /// An exported keyring older than the caller's minimum epoch (a rolled-back copy: it may
    /// hold keys retired since). Checked after the export authenticated.
    #[error(
        "keyring export is at epoch {epoch}, older than the minimum {min_epoch}: a stale copy (it may hold retired keys)"
    )]
    StaleKeyring {
        /// The export's authenticated epoch.
        epoch: u64,
        /// The minimum the caller asked for.
        min_epoch: u64,
    },
    /// A field of an input is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field name.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A sealed delivery addressed to another node.
    #[error("sealed for node {actual}, not for node {expected}")]
    WrongRecipient {
        /// The node that tried to open it.
        expected: NodeId,
        /// The node it was sealed for.
        actual: NodeId,
    },
    /// A sealed delivery bound to other tasks or another item than expected.
    #[error("sealed delivery binding mismatch: {0}")]
    BindingMismatch(String),
    /// A join token that is not the current token of this cluster (rotated, forged or for another CA).
    #[error("join token rejected: {0}")]
    TokenRejected(&'static str),
    /// The downloaded root CA certificate does not match the digest in the join token.
    #[error("root CA certificate does not match the digest in the join token")]
    CaDigestMismatch,
    /// A certificate signing request that cannot be used.
    #[error("certificate signing request rejected: {0}")]
    CsrRejected(String),
    /// A certificate that cannot be parsed or does not carry a node identity of this cluster.
    #[error("certificate error: {0}")]
    Certificate(String),
    /// The peer's node id is on the revocation list.
    #[error("node {0} is revoked (removed from the cluster)")]
    Revoked(NodeId),
    /// An authenticated peer whose role may not make this call (e.g. a worker calling a
    /// manager-only API).
    #[error("node {node_id} is a {role}, this call needs one of {allowed:?}")]
    RoleNotAllowed {
        /// The peer.
        node_id: NodeId,
        /// Its verified role.
        role: Role,
        /// The roles the call accepts.
        allowed: Vec<Role>,
    },
    /// Credentials offered to replace a node's live credentials are for another node
    /// ([`crate::tls::LiveCredentials::replace`]); the role may change, the node id may not.
    #[error("replacement credentials are for node {offered}, not for this node {current}")]
    ReplacementForOtherNode {
        /// The node id of the current credentials.
        current: NodeId,
        /// The node id of the credentials offered.
        offered: NodeId,
    },
    /// Credentials or trust offered to replace live ones are for another cluster
    /// ([`crate::tls::LiveCredentials::replace`], [`crate::tls::LiveTrust::replace`]).
    #[error("replacement {what} is for cluster {offered}, not for this cluster {current}")]
    ReplacementForOtherCluster {
        /// What was offered ("credentials" or "trust").
        what: &'static str,
        /// The cluster id of the current credentials or trust.
        current: ClusterId,
        /// The cluster id of what was offered.
        offered: ClusterId,
    },
    /// The TLS connection carries no peer certificate.
    #[error("the TLS peer presented no certificate")]
    NoPeerCertificate,
    /// rustls refused a configuration.
    #[error("TLS configuration error: {0}")]
    Tls(#[from] rustls::Error),
    /// rcgen failed to generate or sign.
    #[error("certificate generation failed: {0}")]
    CertGeneration(#[from] rcgen::Error),
    /// The system random number generator failed.
    #[error("system random number generator failed")]
    Rng,
    /// A cryptographic primitive failed unexpectedly (e.g. a key of the wrong length).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

impl SecretsError {
    /// Whether the same call may succeed later without changing its inputs.
    ///
    /// `Locked` clears once an operator unlocks the keyring; `Rng` is a transient OS failure.
    /// Every other error is fatal for the given input.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SecretsError::Locked | SecretsError::Rng)
    }

    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        SecretsError::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        SecretsError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
