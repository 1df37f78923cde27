//! The payload of a secret, zeroized on drop and never printed.

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use zeroize::Zeroizing;

/// Bytes of a secret.
///
/// The bytes are wiped from memory when the value is dropped, `Debug` prints only their length,
/// and equality is checked in time independent of the contents. Read them with
/// [`expose`](SecretData::expose) only where they are needed.
///
/// ```
/// use swarm_core::model::SecretData;
///
/// let data = SecretData::new(b"hunter2".to_vec());
/// assert_eq!(format!("{data:?}"), "SecretData(<redacted, 7 bytes>)");
/// assert_eq!(data.expose(), b"hunter2");
/// ```
#[derive(Clone, Default)]
pub struct SecretData(Zeroizing<Vec<u8>>);

impl SecretData {
    /// Takes ownership of the secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretData(Zeroizing::new(bytes))
    }

    /// The secret bytes. Do not log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretData {
    fn from(bytes: Vec<u8>) -> Self {
        SecretData::new(bytes)
    }
}

impl From<&[u8]> for SecretData {
    fn from(bytes: &[u8]) -> Self {
        SecretData::new(bytes.to_vec())
    }
}

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretData(<redacted, {} bytes>)", self.0.len())
    }
}

impl PartialEq for SecretData {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SecretData {}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl Serialize for SecretData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(BytesVisitor).map(SecretData)
    }
}

/// Accepts bytes, a sequence of byte values (what JSON holds) or, in self-describing formats
/// like JSON, a string taken as its UTF-8 bytes; into a zeroizing buffer.
pub(crate) struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Zeroizing<Vec<u8>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes or a sequence of byte values")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Zeroizing::new(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Zeroizing::new(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Zeroizing::new(v.as_bytes().to_vec()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Reserve up front so the buffer never reallocates and leaves copies behind. The hint
        // comes from the input, so it is capped.
        const MAX_PREALLOCATED_BYTES: usize = 1024 * 1024;
        let mut out = Zeroizing::new(Vec::with_capacity(
            seq.size_hint().unwrap_or(0).min(MAX_PREALLOCATED_BYTES),
        ));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}
