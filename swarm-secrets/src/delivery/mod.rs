//! Sealed delivery of a secret to exactly one node.
//!
//! Each node holds a long-term X25519 key pair ([`NodeSealKey`]) and publishes its public half
//! ([`NodeSealPublicKey`]) to the managers. A manager seals with [`seal_for_node`]: a fresh
//! ephemeral X25519 key from ring (`agreement::EphemeralPrivateKey`, used once, as ring
//! intends), HKDF-SHA256 over the shared secret and both public keys, and AES-256-GCM whose
//! associated data is the [`DeliveryBinding`] (node id, task ids, item). Only the node holding
//! the private key opens it, and only for the same binding.
//!
//! ring deliberately has no static (storable) X25519 private keys, so the node's side uses
//! `x25519-dalek`'s `StaticSecret` (RFC 7748 X25519, zeroized on drop), generated from ring's
//! `SystemRandom`. Both sides are RFC 7748 X25519: a unit test checks the node side against the
//! RFC's test vectors, and every round-trip test is ring (sender) against x25519-dalek
//! (receiver). The derived AEAD key is unique per message (fresh ephemeral key), so a fixed
//! all-zero nonce is safe.

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::SystemRandom;

use crate::aead_key::{AeadKey, KEY_LEN, NONCE_LEN, hkdf_expand, hkdf_extract};
use crate::error::{Result, SecretsError};
use crate::limits::{MAX_DELIVERY_LABEL_BYTES, MAX_DELIVERY_TASK_IDS, MAX_SECRET_BYTES};

mod binding;
mod node_seal_key;
mod sealed_delivery;

pub use binding::DeliveryBinding;
pub use node_seal_key::{NodeSealKey, NodeSealPublicKey};
pub use sealed_delivery::SealedDelivery;

/// Current sealed delivery format version.
pub const DELIVERY_VERSION: u8 = 1;
const X25519_LEN: usize = 32;
const DELIVERY_SALT: &[u8] = b"swarm-secrets/delivery/v1";
const ZERO_NONCE: [u8; NONCE_LEN] = [0u8; NONCE_LEN];
/// Largest encoded sealed delivery accepted by [`SealedDelivery::from_bytes`].
const MAX_DELIVERY_BYTES: usize = MAX_SECRET_BYTES
    + MAX_DELIVERY_TASK_IDS * (MAX_DELIVERY_LABEL_BYTES + 2)
    + 4 * MAX_DELIVERY_LABEL_BYTES;

fn delivery_key(
    shared: &[u8],
    ephemeral_public: &[u8; X25519_LEN],
    recipient_public: &[u8; X25519_LEN],
) -> Result<AeadKey> {
    let prk = hkdf_extract(DELIVERY_SALT, shared);
    let raw = hkdf_expand::<KEY_LEN>(&prk, &[ephemeral_public, recipient_public])?;
    AeadKey::from_raw(raw)
}

/// Seals `plaintext` for the node whose public key is `recipient`, bound to `binding`.
///
/// ```
/// use swarm_secrets::{DeliveryBinding, NodeId, NodeSealKey, seal_for_node};
/// let node_key = NodeSealKey::generate()?;
/// let binding = DeliveryBinding::new(NodeId::new("node-1")?, ["task-a"], "secret/db@3")?;
/// let sealed = seal_for_node(&node_key.public_key(), &binding, b"p4ss")?;
/// assert_eq!(node_key.open(&sealed, &binding)?.expose_secret(), b"p4ss");
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub fn seal_for_node(
    recipient: &NodeSealPublicKey,
    binding: &DeliveryBinding,
    plaintext: &[u8],
) -> Result<SealedDelivery> {
    crate::limits::check_secret_size(plaintext.len())?;
    let rng = SystemRandom::new();
    let ephemeral =
        EphemeralPrivateKey::generate(&agreement::X25519, &rng).map_err(|_| SecretsError::Rng)?;
    let eph_public_key = ephemeral
        .compute_public_key()
        .map_err(|_| SecretsError::Crypto("X25519 public key computation failed"))?;
    let mut ephemeral_public = [0u8; X25519_LEN];
    ephemeral_public.copy_from_slice(eph_public_key.as_ref());
    let peer = UnparsedPublicKey::new(&agreement::X25519, recipient.0);
    let key = agreement::agree_ephemeral(ephemeral, &peer, |shared| {
        delivery_key(shared, &ephemeral_public, &recipient.0)
    })
    .map_err(|_| {
        SecretsError::invalid(
            "node seal public key",
            "rejected by X25519 (low-order point)",
        )
    })??;
    let aad = binding.associated_data()?;
    let mut ciphertext = plaintext.to_vec();
    key.seal_in_vec(ZERO_NONCE, &aad, &mut ciphertext, 0)?;
    Ok(SealedDelivery {
        version: DELIVERY_VERSION,
        ephemeral_public,
        binding: binding.clone(),
        ciphertext,
    })
}
