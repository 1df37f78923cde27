//! # swarm-secrets
//!
//! Keys and identities for a swarm cluster, usable alone:
//!
//! * [`Keyring`]: envelope encryption at rest. A key-encryption key derived from an
//!   [`UnlockKey`] (autolock, `SWMKEY-1-...`) wraps data-encryption keys; [`Keyring::seal`]
//!   produces a versioned [`SealedBlob`] bound to associated data.
//! * [`NodeSealKey`] / [`seal_for_node`]: a secret sealed for exactly one node (X25519 +
//!   HKDF + AES-256-GCM), bound to the node id, task ids and item.
//! * [`JoinTokens`] / [`JoinToken`]: `SWMTKN-1-<CA digest>-<secret>` tokens for workers and
//!   managers, verified in constant time and rotatable; the [`CaDigest`] is SHA-256 of the
//!   root certificate's canonical PEM, as SwarmKit computes it. A [`JoinTokenFingerprint`]
//!   lets a cluster remember rotated tokens without their secrets.
//! * [`ClusterCa`] / [`NodeKey`] / [`NodeCredentials`]: the cluster root CA (ECDSA P-256),
//!   node certificates issued from a CSR with CN = node id, OU = role, O = cluster id, and
//!   renewal times drawn between 50% and 80% of the lifetime.
//! * [`tls`]: rustls (ring provider) `ServerConfig`/`ClientConfig` enforcing mutual TLS with
//!   the cluster CA and a [`RevocationList`] checked at every handshake,
//!   [`tls::peer_identity`] to authorise each call by role, and
//!   [`tls::ClusterTrust::identify_certificate`] for the same verified `(node id, role)` from a
//!   peer certificate alone. [`tls::LiveCredentials`] and [`tls::LiveTrust`] let long-lived
//!   configs ([`tls::live_server_config`], ...) follow certificate renewals, role changes and
//!   root rotations at every handshake.
//!
//! * [`pem`]: certificates and keys in and out of PEM files.
//!
//! All cryptography goes through `ring` (plus `x25519-dalek` for a node's static X25519 key,
//! which ring cannot hold). Key material and plaintext live in zeroizing wrappers and every
//! secret-holding type redacts itself in `Debug`.
//!
//! ## Invariants
//!
//! * No plaintext leaves `open` unless the AEAD tag verified over the ciphertext, the blob's
//!   header and the caller's associated data; every failure is a typed error.
//! * Nonces of one keyring instance never repeat under a DEK (random start, counter).
//! * A locked keyring holds no KEK or DEK in memory; an export holds only wrapped DEKs and is
//!   authenticated under a key derived from the unlock key. Nothing read from an export is
//!   trusted before [`Keyring::unlock`] checks its MAC; its epoch, bumped by every key
//!   rotation and retirement, lets a caller refuse an older export
//!   ([`Keyring::unlock_with_min_epoch`]).
//! * Join tokens are compared in constant time against the current secrets only, and pin the
//!   root CA by digest.
//! * The CA decides a certificate's identity (CN, OU, O, DNS names); the CSR only supplies a
//!   P-256 public key whose signature it verified. Node and cluster ids are lowercase (upper
//!   case is refused, not folded, as TLS names ignore case), so ids compare exactly
//!   everywhere; a node certificate's lifetime is at most the root's.
//! * Secrets compare in constant time, `==` included.
//! * Every TLS handshake, in both directions, checks chain, validity, cluster id and the
//!   revocation list; there is no session resumption to skip it.
//! * The live TLS configs read the current credentials and trust at every handshake; replacing
//!   them never cuts an open connection.
//! * Inputs are bounded by the named constants in [`limits`].
//!
//! ```
//! use swarm_secrets::{Keyring, UnlockKey};
//! let key = UnlockKey::generate()?;
//! let ring = Keyring::create(&key)?;
//! let blob = ring.seal(b"s3cr3t", b"secret/1@v1")?;
//! assert_eq!(ring.open(&blob, b"secret/1@v1")?.expose_secret(), b"s3cr3t");
//! # Ok::<(), swarm_secrets::SecretsError>(())
//! ```
#![warn(missing_docs)]

mod aead_key;
mod ca;
mod ca_digest;
mod cert_info;
mod cert_policy;
mod constant_time;
mod delivery;
mod encoding;
mod error;
mod join_token;
mod join_token_fingerprint;
mod join_tokens;
mod keyring;
pub mod limits;
mod node_credentials;
mod node_id;
mod node_key;
pub mod pem;
mod revocation;
mod sealed_blob;
mod secret_bytes;
pub mod tls;
mod unlock_key;

pub use ca::{ClusterCa, IssuedCertificate};
pub use ca_digest::CaDigest;
pub use cert_info::NodeCertInfo;
pub use cert_policy::{CertPolicy, renewal_time};
pub use delivery::{
    DELIVERY_VERSION, DeliveryBinding, NodeSealKey, NodeSealPublicKey, SealedDelivery,
    seal_for_node,
};
pub use error::{Result, SecretsError};
pub use join_token::{JOIN_TOKEN_PREFIX, JoinToken};
pub use join_token_fingerprint::JoinTokenFingerprint;
pub use join_tokens::JoinTokens;
pub use keyring::{DEK_ROTATION_SEALS, EXPORTED_KEYRING_VERSION, Keyring};
pub use node_credentials::NodeCredentials;
pub use node_id::{ClusterId, NodeId, Role};
pub use node_key::NodeKey;
pub use revocation::RevocationList;
pub use sealed_blob::{
    MAX_SEALED_BLOB_BYTES, SEALED_BLOB_HEADER_BYTES, SEALED_BLOB_VERSION, SealedBlob,
};
pub use secret_bytes::SecretBytes;
pub use unlock_key::{UNLOCK_KEY_BYTES, UNLOCK_KEY_PREFIX, UnlockKey};

/// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
