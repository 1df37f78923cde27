//! Refusals of the at-rest key rules.

use swarm_secrets::SecretsError;

/// Why [`ManagerKeys`](super::ManagerKeys) refused a call. The keys are unchanged after every
/// refusal.
///
/// New variants may be added: a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The data directory is autolocked and was not unlocked yet: give it the unlock key.
    #[error("manager state is locked: unlock it with the cluster's unlock key (SWMKEY-1-...)")]
    Locked,
    /// The key given does not unlock this keyring. Nothing changed; try the right key.
    #[error("wrong unlock key: it does not open this manager's keyring")]
    WrongUnlockKey,
    /// The call needs autolock on (showing or rotating the unlock key).
    #[error("autolock is off: this manager's key is kept in its data directory")]
    AutolockOff,
    /// Autolock is already on: rotate the unlock key instead.
    #[error("autolock is already on: rotate the unlock key instead")]
    AutolockAlreadyOn,
    /// The keys file decodes, but what it holds is inconsistent (a stored key that does not
    /// open the stored keyring, a damaged or malformed keyring).
    #[error("corrupt keys: {detail}")]
    Corrupt {
        /// What is wrong.
        detail: String,
    },
    /// A change planned against other keys than the current ones (another change was
    /// committed in between): plan it again.
    #[error("keys change planned at generation {planned}, current generation is {current}")]
    StaleChange {
        /// The generation the change was planned at.
        planned: u64,
        /// The current generation.
        current: u64,
    },
    /// swarm-secrets failed (the system random source, or a limit such as the epoch).
    #[error("{what}: {source}")]
    Secrets {
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: SecretsError,
    },
}

impl KeysError {
    /// Wraps a swarm-secrets error met while doing `what`: a wrong key stays
    /// [`KeysError::WrongUnlockKey`], a failed MAC or malformed export is
    /// [`KeysError::Corrupt`].
    pub(crate) fn from_secrets(what: &'static str, source: SecretsError) -> Self {
        match source {
            SecretsError::WrongUnlockKey => KeysError::WrongUnlockKey,
            SecretsError::Locked => KeysError::Locked,
            SecretsError::DecryptionFailed { .. }
            | SecretsError::Malformed { .. }
            | SecretsError::UnsupportedVersion { .. }
            | SecretsError::TooLarge { .. }
            | SecretsError::UnknownKey { .. } => KeysError::Corrupt {
                detail: format!("{what}: {source}"),
            },
            source => KeysError::Secrets { what, source },
        }
    }
}
