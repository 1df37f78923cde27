//! A node record as swarm-sched's placement engine sees it.

use crate::manager::ca_server::certificate_role;
use crate::mapping::sched_conversion_error::{SchedConversionError, non_negative};
use crate::model::{GenericResource, Node, NodeAvailability, NodeState};
use std::net::{IpAddr, SocketAddr};

/// The engine's view of a node record.
///
/// | engine field | from the record |
/// | --- | --- |
/// | `id` | `id` |
/// | `hostname` | `description.hostname` (empty before the node's first session) |
/// | `role` | the observed role: [`certificate_role`] (manager once promoted, still manager while a demotion removes it from the Raft group), as SwarmKit's `Node.Role` |
/// | `ip` | `status.addr`, an address or `address:port`; `None` when empty or neither |
/// | `availability` | `spec.availability` |
/// | `readiness` | `status.state`: ready → `Ready`, down or disconnected → `Down`, unknown → `Unknown` |
/// | `platform` | `description.platform`, the architecture normalised by [`swarm_sched::normalize_arch`] (`x86_64` → `amd64`); empty without a description |
/// | `labels` | `spec.labels` (`node.labels.<k>`) |
/// | `engine_labels` | `description.engine.labels` (`engine.labels.<k>`) |
/// | `resources` | `description.resources`: CPU in nano-CPUs (1e9 per core) on both sides, memory in bytes, discrete generic counts and named items |
/// | `host_ports_in_use` | empty: ports bound by tasks are charged with the tasks |
///
/// Fails with [`SchedConversionError::Negative`] when an amount is below zero, naming the
/// node and the field.
///
/// ```
/// use swarm_core::model::{Node, NodeDescription, NodeState, Platform};
///
/// let mut node = Node { id: "n1".into(), ..Node::default() };
/// node.status.state = NodeState::Ready;
/// node.description = Some(NodeDescription {
///     hostname: "host-1".into(),
///     platform: Platform::new("linux", "x86_64"),
///     ..NodeDescription::default()
/// });
/// node.description.as_mut().unwrap().resources.nano_cpus = 2_000_000_000;
/// let spec = swarm_sched::NodeSpec::try_from(&node)?;
/// assert_eq!(spec.platform.arch, "amd64");
/// assert_eq!(spec.resources.nano_cpus, swarm_sched::cores_to_nanos(2.0));
/// assert_eq!(spec.readiness, swarm_sched::Readiness::Ready);
/// # Ok::<(), swarm_core::mapping::SchedConversionError>(())
/// ```
impl TryFrom<&Node> for swarm_sched::NodeSpec {
    type Error = SchedConversionError;

    fn try_from(node: &Node) -> Result<Self, Self::Error> {
        let field = |name: &str| format!("node {}: description.resources.{name}", node.id);
        let description = node.description.as_ref();
        let mut resources = swarm_sched::NodeResources::default();
        let mut platform = swarm_sched::Platform::default();
        if let Some(d) = description {
            resources.nano_cpus = non_negative(d.resources.nano_cpus, || field("nano_cpus"))?;
            resources.memory_bytes =
                non_negative(d.resources.memory_bytes, || field("memory_bytes"))?;
            resources.generic = d
                .resources
                .generic
                .iter()
                .enumerate()
                .map(|(i, g)| match g {
                    GenericResource::Discrete { kind, value } => {
                        Ok(swarm_sched::GenericResource::Discrete {
                            kind: kind.clone(),
                            count: non_negative(*value, || field(&format!("generic[{i}]")))?,
                        })
                    }
                    GenericResource::Named { kind, value } => {
                        Ok(swarm_sched::GenericResource::Named {
                            kind: kind.clone(),
                            value: value.clone(),
                        })
                    }
                })
                .collect::<Result<_, SchedConversionError>>()?;
            platform = swarm_sched::Platform::new(
                d.platform.os.clone(),
                swarm_sched::normalize_arch(&d.platform.architecture),
            );
        }
        Ok(swarm_sched::NodeSpec {
            id: (&node.id).into(),
            hostname: description.map(|d| d.hostname.clone()).unwrap_or_default(),
            role: certificate_role(node).into(),
            ip: node_ip(&node.status.addr),
            availability: node.spec.availability.into(),
            readiness: node.status.state.into(),
            platform,
            labels: node.spec.labels.clone(),
            engine_labels: description
                .map(|d| d.engine.labels.clone())
                .unwrap_or_default(),
            resources,
            host_ports_in_use: Vec::new(),
        })
    }
}

/// The address `node.ip` constraints compare: `addr` as an IP address, or the address of an
/// `address:port`.
fn node_ip(addr: &str) -> Option<IpAddr> {
    addr.parse::<IpAddr>()
        .ok()
        .or_else(|| addr.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

impl From<NodeAvailability> for swarm_sched::Availability {
    fn from(availability: NodeAvailability) -> Self {
        match availability {
            NodeAvailability::Active => swarm_sched::Availability::Active,
            NodeAvailability::Pause => swarm_sched::Availability::Pause,
            NodeAvailability::Drain => swarm_sched::Availability::Drain,
        }
    }
}

impl From<swarm_sched::Availability> for NodeAvailability {
    fn from(availability: swarm_sched::Availability) -> Self {
        match availability {
            swarm_sched::Availability::Active => NodeAvailability::Active,
            swarm_sched::Availability::Pause => NodeAvailability::Pause,
            swarm_sched::Availability::Drain => NodeAvailability::Drain,
        }
    }
}

/// Ready is ready; a node down or disconnected is `Down` (SwarmKit places only on ready
/// nodes); not heard from yet is `Unknown`.
impl From<NodeState> for swarm_sched::Readiness {
    fn from(state: NodeState) -> Self {
        match state {
            NodeState::Ready => swarm_sched::Readiness::Ready,
            NodeState::Down | NodeState::Disconnected => swarm_sched::Readiness::Down,
            NodeState::Unknown => swarm_sched::Readiness::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        EngineDescription, ManagerStatus, NodeDescription, NodeRole, Platform, Resources,
    };
    use std::collections::BTreeMap;

    fn described() -> Node {
        let mut node = Node {
            id: "n1".into(),
            ..Node::default()
        };
        node.description = Some(NodeDescription {
            hostname: "host-1".into(),
            platform: Platform::new("linux", "aarch64"),
            resources: Resources {
                nano_cpus: 1_500_000_000,
                memory_bytes: 8 << 30,
                generic: vec![
                    GenericResource::Discrete {
                        kind: "ssd".into(),
                        value: 3,
                    },
                    GenericResource::Named {
                        kind: "gpu".into(),
                        value: "GPU-1".into(),
                    },
                ],
            },
            engine: EngineDescription {
                engine_version: "28.0".into(),
                labels: BTreeMap::from([("storage".into(), "zfs".into())]),
            },
            seal_public_key: None,
        });
        node.spec.labels = BTreeMap::from([("zone".into(), "eu".into())]);
        node
    }

    #[test]
    fn identity_labels_and_platform_are_carried() {
        let spec = swarm_sched::NodeSpec::try_from(&described()).unwrap();
        assert_eq!(spec.id.as_str(), "n1");
        assert_eq!(spec.hostname, "host-1");
        assert_eq!(spec.platform, swarm_sched::Platform::new("linux", "arm64"));
        assert_eq!(spec.labels["zone"], "eu");
        assert_eq!(spec.engine_labels["storage"], "zfs");
        assert!(spec.host_ports_in_use.is_empty());
    }

    #[test]
    fn resources_keep_their_units() {
        let spec = swarm_sched::NodeSpec::try_from(&described()).unwrap();
        assert_eq!(spec.resources.nano_cpus, swarm_sched::cores_to_nanos(1.5));
        assert_eq!(spec.resources.memory_bytes, 8 << 30);
        assert_eq!(
            spec.resources.generic,
            vec![
                swarm_sched::GenericResource::Discrete {
                    kind: "ssd".into(),
                    count: 3
                },
                swarm_sched::GenericResource::Named {
                    kind: "gpu".into(),
                    value: "GPU-1".into()
                },
            ]
        );
    }

    #[test]
    fn negative_amounts_are_refused_naming_node_and_field() {
        let mut node = described();
        let res = &mut node.description.as_mut().unwrap().resources;
        res.generic[0] = GenericResource::Discrete {
            kind: "ssd".into(),
            value: -1,
        };
        let err = swarm_sched::NodeSpec::try_from(&node).unwrap_err();
        assert_eq!(
            err.to_string(),
            "node n1: description.resources.generic[0] is -1, below zero"
        );
        node.description.as_mut().unwrap().resources.memory_bytes = -5;
        assert_eq!(
            swarm_sched::NodeSpec::try_from(&node).unwrap_err(),
            SchedConversionError::Negative {
                field: "node n1: description.resources.memory_bytes".into(),
                value: -5
            }
        );
        node.description.as_mut().unwrap().resources.nano_cpus = -2;
        assert!(
            swarm_sched::NodeSpec::try_from(&node)
                .unwrap_err()
                .to_string()
                .contains("nano_cpus is -2")
        );
    }

    #[test]
    fn observed_role_is_the_role_held_now() {
        let mut node = described();
        let role = |n: &Node| swarm_sched::NodeSpec::try_from(n).unwrap().role;
        assert_eq!(role(&node), swarm_sched::Role::Worker);
        node.spec.role = NodeRole::Manager;
        assert_eq!(role(&node), swarm_sched::Role::Manager);
        // Demoted but still a Raft member: still a manager.
        node.spec.role = NodeRole::Worker;
        node.manager_status = Some(ManagerStatus {
            raft_id: 3,
            ..ManagerStatus::default()
        });
        assert_eq!(role(&node), swarm_sched::Role::Manager);
    }

    #[test]
    fn availability_and_readiness_follow_spec_and_status() {
        let mut node = described();
        node.spec.availability = NodeAvailability::Drain;
        let spec = swarm_sched::NodeSpec::try_from(&node).unwrap();
        assert_eq!(spec.availability, swarm_sched::Availability::Drain);
        assert_eq!(spec.readiness, swarm_sched::Readiness::Unknown);
        for (state, readiness) in [
            (NodeState::Ready, swarm_sched::Readiness::Ready),
            (NodeState::Down, swarm_sched::Readiness::Down),
            (NodeState::Disconnected, swarm_sched::Readiness::Down),
        ] {
            node.status.state = state;
            assert_eq!(
                swarm_sched::NodeSpec::try_from(&node).unwrap().readiness,
                readiness
            );
        }
        for a in [
            NodeAvailability::Active,
            NodeAvailability::Pause,
            NodeAvailability::Drain,
        ] {
            assert_eq!(
                NodeAvailability::from(swarm_sched::Availability::from(a)),
                a
            );
        }
    }

    #[test]
    fn address_is_read_with_or_without_port() {
        let ip = |addr: &str| {
            let mut node = described();
            node.status.addr = addr.into();
            swarm_sched::NodeSpec::try_from(&node).unwrap().ip
        };
        assert_eq!(ip("10.0.0.7"), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(ip("10.0.0.7:4789"), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(ip("[fd00::1]:2377"), Some("fd00::1".parse().unwrap()));
        assert_eq!(ip(""), None);
        assert_eq!(ip("host.example"), None);
    }

    #[test]
    fn a_node_without_description_has_nothing_to_offer() {
        let node = Node {
            id: "bare".into(),
            ..Node::default()
        };
        let spec = swarm_sched::NodeSpec::try_from(&node).unwrap();
        assert_eq!(spec.hostname, "");
        assert_eq!(spec.platform, swarm_sched::Platform::default());
        assert_eq!(spec.resources, swarm_sched::NodeResources::default());
    }
}
