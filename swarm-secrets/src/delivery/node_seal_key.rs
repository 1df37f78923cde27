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

    /// Restores a key saved with [`NodeSealKey::to_bytes`]. `raw` is wiped when it drops;
    /// the one by-value copy x25519-dalek takes is moved into its `StaticSecret`, which wipes
    /// itself on drop.
    pub fn from_bytes(raw: Zeroizing<[u8; X25519_LEN]>) -> Self {
        let secret = x25519_dalek::StaticSecret::from(*raw);
        drop(raw);
        let public = NodeSealPublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        NodeSealKey { secret, public }
    }

    /// The private key bytes, to persist (e.g. sealed by the node's own [`crate::Keyring`]).
    /// Copied from the key straight into the returned buffer, which is wiped on drop (no
    /// unwiped temporary: `StaticSecret::to_bytes` would return one by value).
    pub fn to_bytes(&self) -> Zeroizing<[u8; X25519_LEN]> {
        let mut out = Zeroizing::new([0u8; X25519_LEN]);
        out.copy_from_slice(self.secret.as_bytes());
        out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn node_side_is_rfc7748_x25519() {
        // RFC 7748, section 6.1.
        let alice = NodeSealKey::from_bytes(Zeroizing::new(hex32(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        )));
        let bob = NodeSealKey::from_bytes(Zeroizing::new(hex32(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        )));
        assert_eq!(
            alice.public_key().0,
            hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            bob.public_key().0,
            hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let k1 = alice
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(bob.public_key().0));
        let k2 = bob
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(alice.public_key().0));
        assert_eq!(k1.as_bytes(), k2.as_bytes());
        assert_eq!(
            *k1.as_bytes(),
            hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        );
    }
}
