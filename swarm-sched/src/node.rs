//! The engine's view of a node, as the orchestrator describes it.

use crate::ids::NodeId;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Role of a node in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// A worker: runs tasks only.
    #[default]
    Worker,
    /// A manager: takes part in Raft and may also run tasks.
    Manager,
}

impl Role {
    /// The lower-case name used by constraints (`node.role==manager`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Manager => "manager",
        }
    }
}

/// Availability set by the operator (`docker node update --availability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Availability {
    /// The node accepts new tasks.
    #[default]
    Active,
    /// The node keeps its tasks but takes no new ones.
    Pause,
    /// The node takes no new tasks and its tasks are moved away by the orchestrator.
    Drain,
}

/// Readiness reported by the dispatcher (heartbeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Readiness {
    /// The node heartbeats and can run tasks.
    #[default]
    Ready,
    /// The node missed its heartbeat grace period or is disconnected.
    Down,
    /// State not known yet (just joined).
    Unknown,
}

/// Operating system and architecture of a node or an image.
///
/// Comparisons are case-insensitive and architectures are normalised
/// (`x86_64` = `amd64`, `aarch64` = `arm64`, see [`normalize_arch`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Platform {
    /// Operating system, e.g. `linux`. Empty in a task's platform list means "any".
    pub os: String,
    /// Architecture, e.g. `x86_64` or `amd64`. Empty in a task's platform list means "any".
    pub arch: String,
}

impl Platform {
    /// Creates a platform.
    pub fn new(os: impl Into<String>, arch: impl Into<String>) -> Self {
        Self {
            os: os.into(),
            arch: arch.into(),
        }
    }
}

/// Normalises an architecture name to Go's/OCI spelling, lower case:
/// `x86_64`/`x86-64` → `amd64`, `aarch64`/`armv8` → `arm64`, `armv7l`/`armhf`/`armel`/`armv6l` → `arm`,
/// `i386`/`i686` → `386`.
///
/// ```
/// assert_eq!(swarm_sched::normalize_arch("x86_64"), "amd64");
/// assert_eq!(swarm_sched::normalize_arch("AArch64"), "arm64");
/// assert_eq!(swarm_sched::normalize_arch("riscv64"), "riscv64");
/// ```
pub fn normalize_arch(arch: &str) -> String {
    let lower = arch.to_ascii_lowercase();
    match lower.as_str() {
        "x86_64" | "x86-64" => "amd64".to_owned(),
        "aarch64" | "armv8" | "armv8l" => "arm64".to_owned(),
        "armv7l" | "armv7" | "armhf" | "armel" | "armv6l" | "armv6" => "arm".to_owned(),
        "i386" | "i486" | "i586" | "i686" | "x86" => "386".to_owned(),
        _ => lower,
    }
}

/// A generic resource a node advertises (SwarmKit's `GenericResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum GenericResource {
    /// A countable resource, e.g. `("fpga-slots", 4)`.
    Discrete {
        /// Kind of the resource.
        kind: String,
        /// How many units the node has.
        count: u64,
    },
    /// One named item, e.g. `("gpu", "GPU-5a1c")`. A task asking for `n` of this kind claims
    /// `n` distinct items; an item is claimed by at most one task at a time.
    Named {
        /// Kind of the resource.
        kind: String,
        /// The item's identifier.
        value: String,
    },
}

/// Capacity of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeResources {
    /// CPU in billionths of a core (SwarmKit's NanoCPUs): 1 core = 1_000_000_000.
    pub nano_cpus: u64,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// Generic resources: discrete counts and named items.
    pub generic: Vec<GenericResource>,
}

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// Lower-case name (`tcp`, `udp`, `sctp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// A host-mode published port (`mode=host`): only one task per node may publish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostPort {
    /// Protocol.
    pub protocol: Protocol,
    /// Port number on the node.
    pub port: u16,
}

impl HostPort {
    /// A TCP port.
    pub fn tcp(port: u16) -> Self {
        Self {
            protocol: Protocol::Tcp,
            port,
        }
    }

    pub(crate) fn key(self) -> u32 {
        (u32::from(self.protocol as u8) << 16) | u32::from(self.port)
    }

    pub(crate) fn from_key(key: u32) -> Self {
        let protocol = match key >> 16 {
            0 => Protocol::Tcp,
            1 => Protocol::Udp,
            _ => Protocol::Sctp,
        };
        Self {
            protocol,
            port: (key & 0xffff) as u16,
        }
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.as_str())
    }
}

/// Everything the engine needs to know about a node. Passed in by
/// [`Delta::NodeAdded`](crate::Delta::NodeAdded) and [`Delta::NodeUpdated`](crate::Delta::NodeUpdated).
///
/// ```
/// use swarm_sched::{NodeSpec, NodeResources};
/// let node = NodeSpec::new("node1", "host-1")
///     .with_resources(NodeResources { nano_cpus: 4_000_000_000, memory_bytes: 8 << 30, generic: vec![] })
///     .with_label("zone", "eu");
/// assert_eq!(node.labels["zone"], "eu");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeSpec {
    /// Node ID.
    pub id: NodeId,
    /// Hostname.
    pub hostname: String,
    /// Role.
    pub role: Role,
    /// Address the node is reached at (`node.ip` constraints), if known.
    pub ip: Option<IpAddr>,
    /// Operator-set availability.
    pub availability: Availability,
    /// Readiness.
    pub readiness: Readiness,
    /// Platform of the node's engine.
    pub platform: Platform,
    /// Node labels (`node.labels.<k>`), set by the operator.
    pub labels: BTreeMap<String, String>,
    /// Engine labels (`engine.labels.<k>`), reported by the node's runtime.
    pub engine_labels: BTreeMap<String, String>,
    /// Capacity.
    pub resources: NodeResources,
    /// Host ports already taken on the node by something other than swarm tasks.
    pub host_ports_in_use: Vec<HostPort>,
}

impl NodeSpec {
    /// A ready, active linux/amd64 worker without resources or labels.
    pub fn new(id: impl Into<NodeId>, hostname: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            hostname: hostname.into(),
            role: Role::Worker,
            ip: None,
            availability: Availability::Active,
            readiness: Readiness::Ready,
            platform: Platform::new("linux", "amd64"),
            labels: BTreeMap::new(),
            engine_labels: BTreeMap::new(),
            resources: NodeResources::default(),
            host_ports_in_use: Vec::new(),
        }
    }

    /// Sets the capacity.
    pub fn with_resources(mut self, resources: NodeResources) -> Self {
        self.resources = resources;
        self
    }

    /// Sets CPU (in cores, may be fractional) and memory (bytes).
    pub fn with_capacity(mut self, cpus: f64, memory_bytes: u64) -> Self {
        self.resources.nano_cpus = cores_to_nanos(cpus);
        self.resources.memory_bytes = memory_bytes;
        self
    }

    /// Adds a node label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds an engine label.
    pub fn with_engine_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.engine_labels.insert(key.into(), value.into());
        self
    }

    /// Sets the role.
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// Sets the address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the platform.
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Sets the availability.
    pub fn with_availability(mut self, availability: Availability) -> Self {
        self.availability = availability;
        self
    }

    /// Sets the readiness.
    pub fn with_readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// Adds a generic resource.
    pub fn with_generic(mut self, resource: GenericResource) -> Self {
        self.resources.generic.push(resource);
        self
    }
}

/// Converts cores to NanoCPUs, rounding to the nearest nano-core; negative and NaN give 0.
///
/// ```
/// assert_eq!(swarm_sched::cores_to_nanos(0.25), 250_000_000);
/// ```
pub fn cores_to_nanos(cores: f64) -> u64 {
    if cores.is_nan() || cores <= 0.0 {
        0
    } else {
        (cores * 1e9).round() as u64
    }
}
