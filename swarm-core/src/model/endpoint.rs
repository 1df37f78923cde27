//! How a service is reached: virtual IP or DNS round-robin, and its published ports.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How clients resolve the service's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionMode {
    /// One virtual IP that load-balances over the tasks (SwarmKit's default).
    #[default]
    Vip,
    /// DNS returns the tasks' addresses in turn; no ingress publishing.
    Dnsrr,
}

impl fmt::Display for ResolutionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolutionMode::Vip => "vip",
            ResolutionMode::Dnsrr => "dnsrr",
        })
    }
}

/// Transport protocol of a port.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP (default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        })
    }
}

/// Where a port is published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishMode {
    /// On every node, load-balanced to the tasks through the routing mesh (default).
    #[default]
    Ingress,
    /// Only on the nodes running a task, straight to that task.
    Host,
}

impl fmt::Display for PublishMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PublishMode::Ingress => "ingress",
            PublishMode::Host => "host",
        })
    }
}

/// One port of a service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortConfig {
    /// Optional name of the port.
    pub name: String,
    /// TCP, UDP or SCTP.
    pub protocol: Protocol,
    /// The port inside the task (1 to 65535).
    pub target_port: u32,
    /// The port published outside (1 to 65535); 0 lets the cluster pick one.
    pub published_port: u32,
    /// Ingress (routing mesh) or host.
    pub publish_mode: PublishMode,
}

/// How a service is exposed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSpec {
    /// Virtual IP or DNS round-robin.
    pub mode: ResolutionMode,
    /// Published ports.
    pub ports: Vec<PortConfig>,
}

/// A service's virtual IP on one network (vip mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VirtualIp {
    /// The network's id.
    pub network_id: crate::model::NetworkId,
    /// The address in CIDR form (`10.0.1.2/24`).
    pub addr: String,
}

/// What the allocator gave a service: the spec it allocated for, the published ports (with
/// ports the cluster picked filled in) and a virtual IP per network in vip mode.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    /// The endpoint spec the allocation was made for.
    pub spec: EndpointSpec,
    /// The published ports, in spec order: an ingress port published as 0 is given a port by
    /// the cluster; a host-mode port published as 0 stays 0 (the node picks one per task, as
    /// Docker does).
    pub ports: Vec<PortConfig>,
    /// One virtual IP per attached network (vip mode only).
    pub virtual_ips: Vec<VirtualIp>,
}
