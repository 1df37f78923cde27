//! Named size and time limits, and the secret size check.

use std::time::Duration;

/// Largest secret payload, like SwarmKit (500 KiB): enforced by [`crate::seal_for_node`] and
/// [`check_secret_size`].
///
/// This is the one definition of the secret size limit in swarm: the orchestrator (swarm-core)
/// validates secret specs with it and its runtimes refuse larger secret files with it.
pub const MAX_SECRET_BYTES: usize = 500 * 1024;
/// Largest plaintext one [`crate::Keyring::seal`] accepts: at-rest records (Raft entries,
/// snapshot chunks) can be larger than a secret. Seal larger data in chunks, with the chunk
/// index in the associated data.
pub const MAX_KEYRING_PLAINTEXT_BYTES: usize = 64 * 1024 * 1024;
/// Largest associated data bound to a sealed blob.
pub const MAX_ASSOCIATED_DATA_BYTES: usize = 4 * 1024;
/// Most data-encryption keys one keyring holds (active plus not yet retired ones).
pub const MAX_KEYRING_DEKS: usize = 64;
/// Largest exported keyring accepted by [`crate::Keyring::from_exported`].
pub const MAX_EXPORTED_KEYRING_BYTES: usize = 16 * 1024;
/// Most task ids bound into one sealed delivery.
pub const MAX_DELIVERY_TASK_IDS: usize = 1024;
/// Longest task id or item label bound into a sealed delivery.
pub const MAX_DELIVERY_LABEL_BYTES: usize = 256;
/// Longest node id or cluster id (a DNS label).
pub const MAX_ID_BYTES: usize = 63;
/// Largest certificate signing request accepted by the CA.
pub const MAX_CSR_BYTES: usize = 16 * 1024;
/// Largest certificate parsed by this crate.
pub const MAX_CERT_BYTES: usize = 16 * 1024;
/// Default lifetime of a node certificate, like SwarmKit (90 days).
pub const DEFAULT_NODE_CERT_VALIDITY: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Shortest node certificate lifetime a policy accepts, like SwarmKit (1 hour).
pub const MIN_NODE_CERT_VALIDITY: Duration = Duration::from_secs(60 * 60);
/// Lifetime of a cluster root CA certificate, like SwarmKit (20 years).
pub const ROOT_CA_VALIDITY: Duration = Duration::from_secs(20 * 365 * 24 * 60 * 60);
/// How far `not_before` is set in the past to tolerate clock skew between nodes.
pub const CERT_BACKDATE: Duration = Duration::from_secs(60 * 60);
/// Earliest renewal point, as a permille of a certificate's lifetime.
pub const RENEWAL_START_PERMILLE: u64 = 500;
/// Latest renewal point, as a permille of a certificate's lifetime.
pub const RENEWAL_END_PERMILLE: u64 = 800;

/// Checks a secret payload against [`MAX_SECRET_BYTES`].
///
/// ```
/// use swarm_secrets::limits::{check_secret_size, MAX_SECRET_BYTES};
/// assert!(check_secret_size(MAX_SECRET_BYTES).is_ok());
/// assert!(check_secret_size(MAX_SECRET_BYTES + 1).is_err());
/// ```
pub fn check_secret_size(len_bytes: usize) -> crate::Result<()> {
    if len_bytes > MAX_SECRET_BYTES {
        return Err(crate::SecretsError::TooLarge {
            what: "secret",
            len_bytes,
            limit_bytes: MAX_SECRET_BYTES,
        });
    }
    Ok(())
}
