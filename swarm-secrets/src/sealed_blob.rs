//! The versioned format of a value sealed by a [`crate::Keyring`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::aead_key::{ALG_AES_256_GCM, NONCE_LEN, TAG_LEN};
use crate::error::{Result, SecretsError};
use crate::limits::MAX_KEYRING_PLAINTEXT_BYTES;

/// Current sealed blob format version.
pub const SEALED_BLOB_VERSION: u8 = 1;
/// Bytes before the ciphertext: version (1), algorithm (1), key id (4, big endian), nonce (12).
pub const SEALED_BLOB_HEADER_BYTES: usize = 2 + 4 + NONCE_LEN;
/// Largest sealed blob accepted: the largest keyring plaintext plus header and tag.
pub const MAX_SEALED_BLOB_BYTES: usize =
    MAX_KEYRING_PLAINTEXT_BYTES + SEALED_BLOB_HEADER_BYTES + TAG_LEN;

/// A value sealed under a keyring's data-encryption key.
///
/// Layout (all authenticated): `version | algorithm | key id (u32 BE) | nonce (96 bits) |
/// ciphertext | tag (128 bits)`. The header is part of the AEAD's associated data, together
/// with the caller's associated data, so neither can be changed without `open` failing.
/// Not secret: it can be stored and replicated as is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct SealedBlob {
    bytes: Vec<u8>,
}

impl SealedBlob {
    /// Parses and checks the header and size of a stored blob.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        const WHAT: &str = "sealed blob";
        if bytes.len() > MAX_SEALED_BLOB_BYTES {
            return Err(SecretsError::TooLarge {
                what: WHAT,
                len_bytes: bytes.len(),
                limit_bytes: MAX_SEALED_BLOB_BYTES,
            });
        }
        if bytes.len() < SEALED_BLOB_HEADER_BYTES + TAG_LEN {
            return Err(SecretsError::malformed(
                WHAT,
                format!(
                    "{} bytes is shorter than header and tag ({} bytes)",
                    bytes.len(),
                    SEALED_BLOB_HEADER_BYTES + TAG_LEN
                ),
            ));
        }
        if bytes[0] != SEALED_BLOB_VERSION {
            return Err(SecretsError::UnsupportedVersion {
                what: WHAT,
                version: bytes[0],
            });
        }
        if bytes[1] != ALG_AES_256_GCM {
            return Err(SecretsError::malformed(
                WHAT,
                format!("unknown algorithm {}", bytes[1]),
            ));
        }
        Ok(SealedBlob { bytes })
    }

    pub(crate) fn from_parts_unchecked(bytes: Vec<u8>) -> Self {
        SealedBlob { bytes }
    }

    /// The id of the data-encryption key that sealed this blob.
    pub fn key_id(&self) -> u32 {
        u32::from_be_bytes([self.bytes[2], self.bytes[3], self.bytes[4], self.bytes[5]])
    }

    pub(crate) fn header(&self) -> &[u8] {
        &self.bytes[..SEALED_BLOB_HEADER_BYTES]
    }

    pub(crate) fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        n.copy_from_slice(&self.bytes[6..6 + NONCE_LEN]);
        n
    }

    pub(crate) fn ciphertext_and_tag(&self) -> &[u8] {
        &self.bytes[SEALED_BLOB_HEADER_BYTES..]
    }

    /// Length of the sealed plaintext in bytes.
    pub fn plaintext_len(&self) -> usize {
        self.bytes.len() - SEALED_BLOB_HEADER_BYTES - TAG_LEN
    }

    /// The encoded blob.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded blob, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl TryFrom<Vec<u8>> for SealedBlob {
    type Error = SecretsError;
    fn try_from(v: Vec<u8>) -> Result<Self> {
        SealedBlob::from_bytes(v)
    }
}

impl From<SealedBlob> for Vec<u8> {
    fn from(b: SealedBlob) -> Vec<u8> {
        b.bytes
    }
}

impl fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedBlob")
            .field("key_id", &self.key_id())
            .field("len_bytes", &self.bytes.len())
            .finish()
    }
}
