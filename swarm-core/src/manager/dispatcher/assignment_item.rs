//! A secret or config as the dispatcher hands it to a node, named by id and version.

use crate::model::{ConfigId, SecretId, Version};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret or a config a node's tasks reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ItemId {
    /// A secret.
    Secret(SecretId),
    /// A config.
    Config(ConfigId),
}

impl ItemId {
    /// `"secret"` or `"config"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ItemId::Secret(_) => "secret",
            ItemId::Config(_) => "config",
        }
    }

    /// The id, as a string.
    pub fn id(&self) -> &str {
        match self {
            ItemId::Secret(id) => id.as_str(),
            ItemId::Config(id) => id.as_str(),
        }
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// A secret or config at one store version: what an agent holds, or should keep.
///
/// ```
/// use swarm_core::manager::dispatcher::{HeldItem, ItemId};
/// use swarm_core::model::Version;
///
/// let item = HeldItem { item: ItemId::Secret("s1".into()), version: Version(7) };
/// assert_eq!(item.label(), "secret/s1@7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HeldItem {
    /// The secret or config.
    pub item: ItemId,
    /// Its store version (`meta.version`).
    pub version: Version,
}

impl HeldItem {
    /// The label a sealed delivery is bound to: `secret/<id>@<version>` (or `config/...`).
    pub fn label(&self) -> String {
        format!("{}/{}@{}", self.item.kind(), self.item.id(), self.version)
    }
}
