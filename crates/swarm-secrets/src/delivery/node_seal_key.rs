//! A node's long-term X25519 key for receiving sealed deliveries.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    DELIVERY_VERSION, DeliveryBinding, SealedDelivery, X25519_LEN, ZERO_NONCE, delivery_key,
};
use crate::error::{Result, SecretsError};
use crate::secret_bytes::SecretBytes;

/// A node's long-term X25519 private key for receiving sealed secrets. Wiped on drop; `Debug`
/// shows only the public key.
pub struct NodeSealKey {
    secret: x25519_dalek::StaticSecret,
    public: NodeSealPublicKey,
}

/// The public half of a [`NodeSealKey`], sent to managers (not secret).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeSealPublicKey(pub(super) [u8; X25519_LEN]);

impl NodeSealPublicKey {
    /// Wraps 32 public key bytes.
    pub fn from_bytes(bytes: [u8; X25519_LEN]) -> Self {
        NodeSealPublicKey(bytes)
    }

    /// The public key bytes.
    pub fn as_bytes(&self) -> &[u8; X25519_LEN] {
        &self.0
    }
}

impl fmt::Debug for NodeSealPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeSealPublicKey(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "...)")
    }
}

impl NodeSealKey {
    /// A fresh key from ring's `SystemRandom`.
    pub fn generate() -> Result<Self> {
        let mut raw = Zeroizing::new([0u8; X25519_LEN]);
        SystemRandom::new()
            .fill(raw.as_mut_slice())
            .map_err(|_| SecretsError::Rng)?;
        Ok(NodeSealKey::from_bytes(raw))
    }

    /// Restores a key saved with [`NodeSealKey::to_bytes`].
    pub fn from_bytes(raw: Zeroizing<[u8; X25519_LEN]>) -> Self {
        let secret = x25519_dalek::StaticSecret::from(*raw);
        let public = NodeSealPublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        NodeSealKey { secret, public }
    }

    /// The private key bytes, to persist (e.g. sealed by the node's own [`crate::Keyring`]).
    pub fn to_bytes(&self) -> Zeroizing<[u8; X25519_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The public key to hand to managers.
    pub fn public_key(&self) -> NodeSealPublicKey {
        self.public
    }

    /// Opens a delivery sealed for this node and for exactly `expected` (node id, task ids,
    /// item). Fails with [`SecretsError::WrongRecipient`] or [`SecretsError::BindingMismatch`]
    /// for another binding, and [`SecretsError::DecryptionFailed`] for any altered byte or a
    /// delivery sealed to another key.
    pub fn open(&self, sealed: &SealedDelivery, expected: &DeliveryBinding) -> Result<SecretBytes> {
        if sealed.version != DELIVERY_VERSION {
            return Err(SecretsError::UnsupportedVersion {
                what: "sealed delivery",
                version: sealed.version,
            });
        }
        if sealed.binding.node_id() != expected.node_id() {
            return Err(SecretsError::WrongRecipient {
                expected: expected.node_id().clone(),
                actual: sealed.binding.node_id().clone(),
            });
        }
        if sealed.binding != *expected {
            return Err(SecretsError::BindingMismatch(format!(
                "sealed for item {:?} and tasks {:?}, expected item {:?} and tasks {:?}",
                sealed.binding.item(),
                sealed.binding.task_ids(),
                expected.item(),
                expected.task_ids()
            )));
        }
        let peer = x25519_dalek::PublicKey::from(sealed.ephemeral_public);
        let shared = self.secret.diffie_hellman(&peer);
        if !shared.was_contributory() {
            return Err(SecretsError::DecryptionFailed {
                what: "sealed delivery",
            });
        }
        let key = delivery_key(shared.as_bytes(), &sealed.ephemeral_public, &self.public.0)?;
        let aad = expected.associated_data()?;
        let mut buf = SecretBytes::from(sealed.ciphertext.clone());
        let len = key.open_in_place(ZERO_NONCE, &aad, buf.as_mut_slice(), "sealed delivery")?;
        buf.truncate(len);
        Ok(buf)
    }
}

impl fmt::Debug for NodeSealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeSealKey")
            .field("public", &self.public)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}
