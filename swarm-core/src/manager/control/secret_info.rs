//! What the control API returns about a secret: everything but its value.

use crate::model::{Meta, Secret, SecretId};
use std::collections::BTreeMap;

/// A secret as `secret ls` and `secret inspect` show it. It has no field for the value: the
/// value is stored (encrypted at rest with the managers' store) and delivered only to the
/// tasks that reference the secret; no read of the control API ever returns it.
///
/// ```
/// use swarm_core::manager::control::SecretInfo;
/// use swarm_core::model::{Secret, SecretSpec};
///
/// let secret = Secret {
///     id: "s1".into(),
///     spec: SecretSpec::new("db-password", b"hunter2".to_vec()),
///     ..Secret::default()
/// };
/// let info = SecretInfo::of(&secret);
/// assert_eq!(info.name, "db-password");
/// assert!(!serde_json::to_string(&info).unwrap().contains("hunter2"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretInfo {
    /// The secret's id.
    pub id: SecretId,
    /// Version and timestamps.
    pub meta: Meta,
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

impl SecretInfo {
    /// `secret` without its value.
    pub fn of(secret: &Secret) -> SecretInfo {
        SecretInfo {
            id: secret.id.clone(),
            meta: secret.meta.clone(),
            name: secret.spec.name.clone(),
            labels: secret.spec.labels.clone(),
        }
    }
}
