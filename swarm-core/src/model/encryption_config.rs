//! Encryption of the managers' state at rest.

use serde::{Deserialize, Serialize};

/// Encryption of the managers' state at rest (SwarmKit's `EncryptionConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncryptionConfig {
    /// Autolock: a restarted manager stays locked until an operator gives it the unlock key.
    /// Off by default, as SwarmKit.
    pub auto_lock_managers: bool,
}
