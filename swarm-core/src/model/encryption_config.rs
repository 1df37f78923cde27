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

/// The key that unlocks autolocked managers (`SWMKEY-1-...`), kept in the cluster object
/// (SwarmKit's `Cluster.UnlockKeys`) so every manager locks its data with the same key. The
/// store holding it is encrypted at rest; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ManagerUnlockKey(pub String);

impl std::fmt::Debug for ManagerUnlockKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManagerUnlockKey([REDACTED])")
    }
}

impl Drop for ManagerUnlockKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}
