//! Named size and time limits.

use std::time::Duration;

/// Largest secret or config payload that can be sealed, like SwarmKit (500 KiB).
pub const MAX_SECRET_BYTES: usize = 500 * 1024;
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
