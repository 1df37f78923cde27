//! Secrets: sensitive blobs delivered only to the tasks that reference them.

use crate::model::ids::SecretId;
use crate::model::meta::Meta;
use crate::model::secret_data::SecretData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a user declares about a secret.
///
/// `Debug` never shows the data:
///
/// ```
/// use swarm_core::model::SecretSpec;
///
/// let spec = SecretSpec::new("db-password", b"s3cr3t".to_vec());
/// let printed = format!("{spec:?}");
/// assert!(printed.contains("db-password"));
/// assert!(!printed.contains("s3cr3t"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretSpec {
    /// The secret's name, unique in the cluster.
    pub name: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// The payload (1 byte to [`swarm_secrets::limits::MAX_SECRET_BYTES`], the one definition of
    /// the secret size limit).
    pub data: SecretData,
}

impl SecretSpec {
    /// A secret without labels.
    pub fn new(name: impl Into<String>, data: impl Into<SecretData>) -> Self {
        SecretSpec {
            name: name.into(),
            labels: BTreeMap::new(),
            data: data.into(),
        }
    }
}

/// A secret as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// The secret's id.
    pub id: SecretId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// Name, labels and data.
    pub spec: SecretSpec,
}
