//! A task's reference to a secret, and the file it appears as.

use crate::model::file_target::FileTarget;
use crate::model::ids::SecretId;
use serde::{Deserialize, Serialize};

/// A task's reference to a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretReference {
    /// The secret's id.
    pub secret_id: SecretId,
    /// The secret's name, as the user wrote it.
    pub secret_name: String,
    /// Where the secret appears inside the task.
    pub target: FileTarget,
}
