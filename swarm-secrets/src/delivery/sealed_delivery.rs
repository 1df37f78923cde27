//! A secret sealed for one node, as it travels.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{DELIVERY_VERSION, DeliveryBinding, MAX_DELIVERY_BYTES, X25519_LEN};
use crate::error::{Result, SecretsError};

/// A secret sealed for one node. Not secret: safe to send over the wire and log as `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
            d.binding.node_id().clone(),
            d.binding.task_ids().iter().cloned(),
            d.binding.item(),
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
