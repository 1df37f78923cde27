//! Networks: overlay networks tasks attach to.

use crate::model::ids::NetworkId;
use crate::model::meta::Meta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default network driver: `overlay`, as `docker network create -d overlay`.
pub const DEFAULT_NETWORK_DRIVER: &str = "overlay";

/// One address pool of a network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpamConfig {
    /// The subnet in CIDR notation, e.g. `"10.0.9.0/24"`.
    pub subnet: String,
    /// Addresses handed to tasks, a CIDR inside `subnet`; `None` means the whole subnet.
    pub range: Option<String>,
    /// The gateway address, inside `subnet`; `None` lets the driver choose.
    pub gateway: Option<String>,
}

/// Address management of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpamOptions {
    /// The IPAM driver, `"default"` unless a plugin is used.
    pub driver: String,
    /// Address pools; empty lets the cluster pick a subnet.
    pub configs: Vec<IpamConfig>,
}

impl Default for IpamOptions {
    fn default() -> Self {
        IpamOptions {
            driver: "default".to_owned(),
            configs: Vec::new(),
        }
    }
}

/// What a user declares about a network.
///
/// ```
/// use swarm_core::model::NetworkSpec;
///
/// let net = NetworkSpec::new("nd-net");
/// assert_eq!(net.driver, "overlay");
/// assert!(!net.attachable);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSpec {
    /// The network's name, a DNS label.
    pub name: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// The network driver, [`DEFAULT_NETWORK_DRIVER`] by default.
    pub driver: String,
    /// Options passed to the driver.
    pub driver_options: BTreeMap<String, String>,
    /// Address management.
    pub ipam: IpamOptions,
    /// Standalone containers (not only service tasks) may attach.
    pub attachable: bool,
    /// No route to outside the network.
    pub internal: bool,
    /// The routing-mesh network for published ports; at most one exists and it cannot be
    /// attachable.
    pub ingress: bool,
    /// Whether IPv6 addresses are assigned.
    pub ipv6_enabled: bool,
}

impl NetworkSpec {
    /// An overlay network with default IPAM.
    pub fn new(name: impl Into<String>) -> Self {
        NetworkSpec {
            name: name.into(),
            ..NetworkSpec::default()
        }
    }
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            name: String::new(),
            labels: BTreeMap::new(),
            driver: DEFAULT_NETWORK_DRIVER.to_owned(),
            driver_options: BTreeMap::new(),
            ipam: IpamOptions::default(),
            attachable: false,
            internal: false,
            ingress: false,
            ipv6_enabled: false,
        }
    }
}

/// A network as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The network's id.
    pub id: NetworkId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// What the user declared.
    pub spec: NetworkSpec,
    /// The subnets and gateways the allocator gave the network (kept apart from the spec,
    /// which may leave them empty); empty until allocated.
    #[serde(default)]
    pub allocated_ipam: Vec<IpamConfig>,
}
