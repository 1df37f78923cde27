//! What a node reports about itself when its agent connects.

use crate::model::platform::Platform;
use crate::model::resources::Resources;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The engine (runtime) a node runs tasks with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineDescription {
    /// The runtime's version string, e.g. Docker's `"28.3.2"`.
    pub engine_version: String,
    /// Labels set on the engine, matched by constraints as `engine.labels.<key>`.
    pub labels: BTreeMap<String, String>,
}

/// A node's self-description: identity, platform, capacity and engine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeDescription {
    /// The node's hostname, matched by constraints as `node.hostname`.
    pub hostname: String,
    /// OS and architecture, matched as `node.platform.os` / `node.platform.arch`.
    pub platform: Platform,
    /// Total capacity: CPU, memory and generic discrete and named resources.
    pub resources: Resources,
    /// The runtime engine.
    pub engine: EngineDescription,
    /// The node's public X25519 key for sealed secret delivery
    /// (`swarm_secrets::NodeSealPublicKey`, 32 bytes); `None` until the agent registers.
    pub seal_public_key: Option<Vec<u8>>,
}
