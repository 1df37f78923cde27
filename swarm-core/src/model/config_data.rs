//! The payload of a config, kept out of logs.

use crate::model::secret_data::{BytesVisitor, constant_time_eq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Bytes of a config.
///
/// Configs are not secret, but their contents are often large and may hold credentials by
/// mistake, so `Debug` prints only their length.
///
/// ```
/// use swarm_core::model::ConfigData;
///
/// let data = ConfigData::new(b"<h1>Hello</h1>".to_vec());
/// assert_eq!(format!("{data:?}"), "ConfigData(<14 bytes>)");
/// assert_eq!(data.as_bytes(), b"<h1>Hello</h1>");
/// ```
#[derive(Clone, Default)]
pub struct ConfigData(Vec<u8>);

impl ConfigData {
    /// Takes ownership of the bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        ConfigData(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
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

impl From<Vec<u8>> for ConfigData {
    fn from(bytes: Vec<u8>) -> Self {
        ConfigData(bytes)
    }
}

impl From<&[u8]> for ConfigData {
    fn from(bytes: &[u8]) -> Self {
        ConfigData(bytes.to_vec())
    }
}

impl fmt::Debug for ConfigData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConfigData(<{} bytes>)", self.0.len())
    }
}

impl PartialEq for ConfigData {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for ConfigData {}

impl Serialize for ConfigData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ConfigData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_bytes(BytesVisitor)
            .map(|mut z| ConfigData(std::mem::take(&mut *z)))
    }
}
