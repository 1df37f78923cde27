//! A task template's attachment to a network.

use serde::{Deserialize, Serialize};

/// A network a service's tasks join.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkAttachmentConfig {
    /// The network's name or id.
    pub target: String,
    /// Extra DNS names the task answers to on that network.
    pub aliases: Vec<String>,
}
