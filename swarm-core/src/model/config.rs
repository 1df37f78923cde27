//! Configs: non-secret files delivered to the tasks that reference them.

use crate::model::config_data::ConfigData;
use crate::model::ids::ConfigId;
use crate::model::meta::Meta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// SwarmKit's size limit of a config's data: 1000 KiB.
pub const MAX_CONFIG_DATA_BYTES: usize = 1000 * 1024;

/// What a user declares about a config.
///
/// ```
/// use swarm_core::model::ConfigSpec;
///
/// let spec = ConfigSpec::new("homepage", b"<h1>NerdDinner</h1>".to_vec());
/// assert!(!format!("{spec:?}").contains("NerdDinner</h1>"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigSpec {
    /// The config's name, unique in the cluster.
    pub name: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// The payload (1 byte to [`MAX_CONFIG_DATA_BYTES`]).
    pub data: ConfigData,
}

impl ConfigSpec {
    /// A config without labels.
    pub fn new(name: impl Into<String>, data: impl Into<ConfigData>) -> Self {
        ConfigSpec {
            name: name.into(),
            labels: BTreeMap::new(),
            data: data.into(),
        }
    }
}

/// A config as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The config's id.
    pub id: ConfigId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// Name, labels and data.
    pub spec: ConfigSpec,
}
