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
//! `SystemRandom`. The two implementations interoperate by construction (same RFC); a test
//! checks it. The derived AEAD key is unique per message (fresh ephemeral key), so a fixed
//! all-zero nonce is safe.

use std::fmt;

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead_key::{AeadKey, KEY_LEN, NONCE_LEN, hkdf_expand, hkdf_extract};
use crate::error::{Result, SecretsError};
use crate::limits::{MAX_DELIVERY_LABEL_BYTES, MAX_DELIVERY_TASK_IDS, MAX_SECRET_BYTES};
use crate::node_id::NodeId;
use crate::secret_bytes::SecretBytes;

/// Current sealed delivery format version.
pub const DELIVERY_VERSION: u8 = 1;
const X25519_LEN: usize = 32;
const DELIVERY_SALT: &[u8] = b"swarm-secrets/delivery/v1";
const ZERO_NONCE: [u8; NONCE_LEN] = [0u8; NONCE_LEN];
/// Largest encoded sealed delivery accepted by [`SealedDelivery::from_bytes`].
const MAX_DELIVERY_BYTES: usize = MAX_SECRET_BYTES
    + MAX_DELIVERY_TASK_IDS * (MAX_DELIVERY_LABEL_BYTES + 2)
    + 4 * MAX_DELIVERY_LABEL_BYTES;

/// A node's long-term X25519 private key for receiving sealed secrets. Wiped on drop; `Debug`
/// shows only the public key.
pub struct NodeSealKey {
    secret: x25519_dalek::StaticSecret,
    public: NodeSealPublicKey,
}

/// The public half of a [`NodeSealKey`], sent to managers (not secret).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeSealPublicKey([u8; X25519_LEN]);

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
        if sealed.binding.node_id != expected.node_id {
            return Err(SecretsError::WrongRecipient {
                expected: expected.node_id.clone(),
                actual: sealed.binding.node_id.clone(),
            });
        }
        if sealed.binding != *expected {
            return Err(SecretsError::BindingMismatch(format!(
                "sealed for item {:?} and tasks {:?}, expected item {:?} and tasks {:?}",
                sealed.binding.item, sealed.binding.task_ids, expected.item, expected.task_ids
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

/// What a sealed delivery is bound to: the recipient node, the tasks that reference the item,
/// and the item itself (e.g. `secret/<id>@<version>`). Task ids are kept sorted and unique, so
/// their order does not matter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryBinding {
    node_id: NodeId,
    task_ids: Vec<String>,
    item: String,
}

impl DeliveryBinding {
    /// Validates and normalises a binding.
    pub fn new<I, S>(node_id: NodeId, task_ids: I, item: impl Into<String>) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut ids = Vec::new();
        for id in task_ids {
            let id = id.into();
            check_label("task id", &id)?;
            ids.push(id);
            if ids.len() > MAX_DELIVERY_TASK_IDS {
                return Err(SecretsError::invalid(
                    "task ids",
                    format!("more than {MAX_DELIVERY_TASK_IDS}"),
                ));
            }
        }
        ids.sort();
        ids.dedup();
        let item = item.into();
        check_label("item", &item)?;
        Ok(DeliveryBinding {
            node_id,
            task_ids: ids,
            item,
        })
    }

    /// The recipient node.
    pub fn node_id(&self) -> &NodeId {
        &self.node_id
    }

    /// The tasks, sorted.
    pub fn task_ids(&self) -> &[String] {
        &self.task_ids
    }

    /// The item label.
    pub fn item(&self) -> &str {
        &self.item
    }

    fn associated_data(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(&(DELIVERY_SALT, DELIVERY_VERSION, self))
            .map_err(|e| SecretsError::malformed("delivery binding", e.to_string()))
    }
}

fn check_label(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_DELIVERY_LABEL_BYTES {
        return Err(SecretsError::invalid(
            field,
            format!(
                "must be 1..={MAX_DELIVERY_LABEL_BYTES} bytes, got {}",
                s.len()
            ),
        ));
    }
    Ok(())
}

/// A secret sealed for one node. Not secret: safe to send over the wire and log as `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedDelivery {
    version: u8,
    ephemeral_public: [u8; X25519_LEN],
    binding: DeliveryBinding,
    ciphertext: Vec<u8>,
}

impl SealedDelivery {
    /// What the delivery is bound to (authenticated when opened).
    pub fn binding(&self) -> &DeliveryBinding {
        &self.binding
    }

    /// Encodes for the wire (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(self)
            .map_err(|e| SecretsError::malformed("sealed delivery", e.to_string()))
    }

    /// Decodes from the wire, bounded by [`MAX_SECRET_BYTES`] plus the binding limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "sealed delivery";
        if bytes.len() > MAX_DELIVERY_BYTES {
            return Err(SecretsError::TooLarge {
                what: WHAT,
                len_bytes: bytes.len(),
                limit_bytes: MAX_DELIVERY_BYTES,
            });
        }
        let (d, rest): (SealedDelivery, _) = postcard::take_from_bytes(bytes)
            .map_err(|e| SecretsError::malformed(WHAT, e.to_string()))?;
        if !rest.is_empty() {
            return Err(SecretsError::malformed(WHAT, "trailing bytes"));
        }
        if d.version != DELIVERY_VERSION {
            return Err(SecretsError::UnsupportedVersion {
                what: WHAT,
                version: d.version,
            });
        }
        // Re-validate the binding as a constructor would (sorted, bounded).
        let b = DeliveryBinding::new(
            d.binding.node_id.clone(),
            d.binding.task_ids.iter().cloned(),
            d.binding.item.clone(),
        )?;
        if b != d.binding {
            return Err(SecretsError::malformed(WHAT, "binding is not normalised"));
        }
        Ok(d)
    }
}

impl fmt::Debug for SealedDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedDelivery")
            .field("binding", &self.binding)
            .field("ciphertext_bytes", &self.ciphertext.len())
            .finish()
    }
}

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
