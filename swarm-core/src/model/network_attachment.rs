//! A task template's attachment to a network, and what the allocator gave a task on it.

use crate::model::NetworkId;
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

/// A task's place on one cluster network, filled in by the allocator before the task is
/// scheduled: the network, the task's address on it and the names it answers to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkAttachment {
    /// The network's id.
    pub network_id: NetworkId,
    /// The network's name (what the runtime names its local network after).
    pub network_name: String,
    /// The task's addresses on the network, in CIDR form with the subnet's prefix length
    /// (`10.0.1.5/24`).
    pub addresses: Vec<String>,
    /// DNS names the task answers to on the network: the service name, then the
    /// attachment's aliases.
    pub aliases: Vec<String>,
}
