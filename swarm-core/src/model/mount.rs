//! A filesystem mounted into a task: bind, volume or tmpfs.

use serde::{Deserialize, Serialize};

/// The kind of a [`Mount`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host path bound into the task.
    #[default]
    Bind,
    /// A named volume managed by the runtime.
    Volume,
    /// A memory-backed filesystem.
    Tmpfs,
}

/// A filesystem mounted into the task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Bind, volume or tmpfs.
    #[serde(rename = "type")]
    pub kind: MountType,
    /// Host path (bind) or volume name (volume); empty for tmpfs.
    #[serde(default)]
    pub source: String,
    /// Absolute path inside the task.
    pub target: String,
    /// Mounted read-only.
    #[serde(default)]
    pub read_only: bool,
}
