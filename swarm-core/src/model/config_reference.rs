//! A task's reference to a config, and the file it appears as.

use crate::model::file_target::FileTarget;
use crate::model::ids::ConfigId;
use serde::{Deserialize, Serialize};

/// A task's reference to a config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigReference {
    /// The config's id.
    pub config_id: ConfigId,
    /// The config's name, as the user wrote it.
    pub config_name: String,
    /// Where the config appears inside the task.
    pub target: FileTarget,
}
