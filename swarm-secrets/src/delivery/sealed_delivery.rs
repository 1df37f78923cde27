//! A secret sealed for one node, as it travels.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DELIVERY_VERSION, DeliveryBinding, MAX_DELIVERY_BYTES, X25519_LEN};
use crate::aead_key::TAG_LEN;
use crate::error::{Result, SecretsError};
use crate::limits::MAX_SECRET_BYTES;

/// A secret sealed for one node. Not secret: safe to send over the wire and log as `Debug`.
///
/// It is serde: [`to_bytes`](SealedDelivery::to_bytes)/[`from_bytes`](SealedDelivery::from_bytes)
/// use postcard, and any other serde format (a store document, JSON) carries the same fields.
/// Deserializing checks what `from_bytes` checks (format version, a normalised binding, a
/// ciphertext no larger than a sealed secret), so a delivery read from anywhere is well formed.
///
/// ```
/// use swarm_secrets::{DeliveryBinding, NodeId, NodeSealKey, SealedDelivery, seal_for_node};
/// let node_key = NodeSealKey::generate()?;
/// let binding = DeliveryBinding::new(NodeId::new("node-1")?, ["task-a"], "secret/db@3")?;
/// let sealed = seal_for_node(&node_key.public_key(), &binding, b"p4ss")?;
/// let wire = sealed.to_bytes()?;
/// assert_eq!(SealedDelivery::from_bytes(&wire)?, sealed);
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SealedDeliveryFields")]
pub struct SealedDelivery {
    pub(super) version: u8,
    pub(super) ephemeral_public: [u8; X25519_LEN],
    pub(super) binding: DeliveryBinding,
    pub(super) ciphertext: Vec<u8>,
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

    /// Decodes from the wire, bounded by [`crate::limits::MAX_SECRET_BYTES`] plus the binding limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_DELIVERY_BYTES {
            return Err(SecretsError::TooLarge {
                what: WHAT,
                len_bytes: bytes.len(),
                limit_bytes: MAX_DELIVERY_BYTES,
            });
        }
        let (fields, rest): (SealedDeliveryFields, _) = postcard::take_from_bytes(bytes)
            .map_err(|e| SecretsError::malformed(WHAT, e.to_string()))?;
        if !rest.is_empty() {
            return Err(SecretsError::malformed(WHAT, "trailing bytes"));
        }
        SealedDelivery::try_from(fields)
    }
}

const WHAT: &str = "sealed delivery";

/// A sealed delivery's fields as they travel, checked by `TryFrom` before they become a
/// [`SealedDelivery`]. The binding checks itself when it is deserialized.
#[derive(Deserialize)]
struct SealedDeliveryFields {
    version: u8,
    ephemeral_public: [u8; X25519_LEN],
    binding: DeliveryBinding,
    ciphertext: Vec<u8>,
}

impl TryFrom<SealedDeliveryFields> for SealedDelivery {
    type Error = SecretsError;

    fn try_from(fields: SealedDeliveryFields) -> Result<Self> {
        if fields.version != DELIVERY_VERSION {
            return Err(SecretsError::UnsupportedVersion {
                what: WHAT,
                version: fields.version,
            });
        }
        let limit_bytes = MAX_SECRET_BYTES + TAG_LEN;
        if fields.ciphertext.len() > limit_bytes {
            return Err(SecretsError::TooLarge {
                what: WHAT,
                len_bytes: fields.ciphertext.len(),
                limit_bytes,
            });
        }
        Ok(SealedDelivery {
            version: fields.version,
            ephemeral_public: fields.ephemeral_public,
            binding: fields.binding,
            ciphertext: fields.ciphertext,
        })
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
