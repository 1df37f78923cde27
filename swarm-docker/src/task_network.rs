//! Sans-IO translation of a task's cluster network attachments into local Docker bridge
//! networks and the container's endpoints on them.
//!
//! On one host a cluster network becomes one bridge network of the engine, named
//! [`local_network_name`] (`swarm-<network name>`), labelled with the cluster network's id
//! ([`LABEL_NETWORK_ID`]), with the allocated subnet and its first address as gateway. A task's
//! container joins it with exactly its allocated IPv4 address and its aliases (the service name
//! first), so the engine's embedded DNS resolves the aliases between the containers of that
//! host. The name does not include the adapter's namespace: every adapter of one engine shares
//! the bridge of a cluster network (the engine refuses two bridges with overlapping subnets).

use crate::error::DockerError;
use crate::ipv4_cidr::{Ipv4Cidr, MAX_BRIDGE_PREFIX_LEN};
use crate::labels::{LABEL_MANAGED, LABEL_NAMESPACE, LABEL_NETWORK_ID, sanitize};
use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkCreateRequest, NetworkInspect,
};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use swarm_core::model::Task;

/// Prefix of the local network made for a cluster network.
const LOCAL_NETWORK_PREFIX: &str = "swarm-";

/// Longest local network name the adapter produces (names are bounded like container names).
const MAX_NETWORK_NAME_BYTES: usize = 200;

/// The driver of the local networks: a Linux bridge of this host.
const LOCAL_NETWORK_DRIVER: &str = "bridge";

/// The engine's built-in address manager.
const IPAM_DRIVER: &str = "default";

/// The name of the local Docker network that stands for the cluster network `network_name` on
/// this host: `swarm-<network name>`, with every byte outside `[a-zA-Z0-9_.-]` replaced by `_`
/// and at most 200 bytes long. Two names that map to the same local name are told apart by the
/// network's [`LABEL_NETWORK_ID`]: a task whose network finds the name taken by another
/// network is refused ([`DockerError::NetworkConflict`]).
///
/// ```
/// assert_eq!(swarm_docker::local_network_name("backend"), "swarm-backend");
/// assert_eq!(swarm_docker::local_network_name("my net"), "swarm-my_net");
/// ```
pub fn local_network_name(network_name: &str) -> String {
    let mut name = format!("{LOCAL_NETWORK_PREFIX}{}", sanitize(network_name));
    // Only ASCII is left after sanitize, so any byte index is a char boundary.
    name.truncate(MAX_NETWORK_NAME_BYTES);
    name
}

/// One of a task's networks, checked: the local network it needs and the container's place
/// on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskNetwork {
    /// The cluster network's id.
    pub(crate) network_id: String,
    /// The local network's name ([`local_network_name`]).
    pub(crate) local_name: String,
    /// The allocated subnet (network address and prefix length).
    pub(crate) subnet: Ipv4Cidr,
    /// The subnet's gateway, given to the bridge.
    pub(crate) gateway: Ipv4Addr,
    /// The task's address on it.
    pub(crate) address: Ipv4Addr,
    /// The names the task answers to on it: the service name, then the spec's aliases.
    pub(crate) aliases: Vec<String>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> DockerError {
    DockerError::InvalidSpec {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks `task.networks` and returns them in order; the first is the container's network
/// mode, the others are connected before it starts. Every error names its field
/// (`networks[0].addresses[0]`).
///
/// Each attachment needs a network id, a network name and exactly one IPv4 address in CIDR
/// form on a subnet of at most /30 (IPv6 addresses are refused: this adapter gives tasks IPv4
/// addresses only). The gateway is the subnet's first address, or its last when the first is
/// the task's own (an allocator that keeps the first address for the gateway, as SwarmKit's
/// does, never hands it to a task).
pub(crate) fn task_networks(task: &Task) -> Result<Vec<TaskNetwork>, DockerError> {
    let mut out: Vec<TaskNetwork> = Vec::with_capacity(task.networks.len());
    for (i, attachment) in task.networks.iter().enumerate() {
        let field = format!("networks[{i}]");
        if attachment.network_id.as_str().is_empty() {
            return Err(invalid(format!("{field}.network_id"), "empty"));
        }
        if attachment.network_name.trim().is_empty() {
            return Err(invalid(format!("{field}.network_name"), "empty"));
        }
        let local_name = local_network_name(&attachment.network_name);
        if let Some(j) = out.iter().position(|n| n.local_name == local_name) {
            return Err(invalid(
                format!("{field}.network_name"),
                format!(
                    "{:?} maps to the local network {local_name:?} of networks[{j}]: a task joins a \
                     network once",
                    attachment.network_name
                ),
            ));
        }
        let mut cidr: Option<Ipv4Cidr> = None;
        for (j, text) in attachment.addresses.iter().enumerate() {
            let field = format!("{field}.addresses[{j}]");
            let parsed = Ipv4Cidr::parse(text).map_err(|reason| invalid(&field, reason))?;
            if parsed.prefix_len() > MAX_BRIDGE_PREFIX_LEN {
                return Err(invalid(
                    field,
                    format!(
                        "{text:?}: a subnet longer than /{MAX_BRIDGE_PREFIX_LEN} leaves no room for \
                         a gateway and a task"
                    ),
                ));
            }
            if parsed.address() == parsed.network() || parsed.address() == parsed.broadcast() {
                return Err(invalid(
                    field,
                    format!("{text:?} is the subnet's network or broadcast address"),
                ));
            }
            if cidr.is_some() {
                return Err(invalid(
                    field,
                    format!("{text:?} is a second IPv4 address on one network"),
                ));
            }
            cidr = Some(parsed);
        }
        let cidr = cidr.ok_or_else(|| {
            invalid(
                format!("{field}.addresses"),
                "no address was allocated to the task on this network",
            )
        })?;
        for (k, alias) in attachment.aliases.iter().enumerate() {
            if alias.is_empty() || alias.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    format!("{field}.aliases[{k}]"),
                    format!("{alias:?} is not a DNS name"),
                ));
            }
        }
        let gateway = if cidr.first_host() == cidr.address() {
            cidr.last_host()
        } else {
            cidr.first_host()
        };
        out.push(TaskNetwork {
            network_id: attachment.network_id.to_string(),
            local_name,
            subnet: cidr.subnet(),
            gateway,
            address: cidr.address(),
            aliases: attachment.aliases.clone(),
        });
    }
    Ok(out)
}

impl TaskNetwork {
    /// The request that creates the local network, labelled as the adapter's (with the
    /// namespace of the adapter that creates it) and the cluster network's.
    pub(crate) fn create_request(&self, namespace: &str) -> NetworkCreateRequest {
        let labels = HashMap::from([
            (LABEL_MANAGED.to_owned(), "true".to_owned()),
            (LABEL_NAMESPACE.to_owned(), namespace.to_owned()),
            (LABEL_NETWORK_ID.to_owned(), self.network_id.clone()),
        ]);
        NetworkCreateRequest {
            name: self.local_name.clone(),
            driver: Some(LOCAL_NETWORK_DRIVER.to_owned()),
            ipam: Some(Ipam {
                driver: Some(IPAM_DRIVER.to_owned()),
                config: Some(vec![IpamConfig {
                    subnet: Some(self.subnet.to_string()),
                    gateway: Some(self.gateway.to_string()),
                    ..IpamConfig::default()
                }]),
                options: None,
            }),
            labels: Some(labels),
            ..NetworkCreateRequest::default()
        }
    }

    /// The container's endpoint on the network: its allocated address and its aliases.
    pub(crate) fn endpoint(&self) -> EndpointSettings {
        EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(self.address.to_string()),
                ..EndpointIpamConfig::default()
            }),
            aliases: Some(self.aliases.clone()),
            ..EndpointSettings::default()
        }
    }

    /// Whether an existing network of the local name can serve: it must be labelled with this
    /// cluster network's id and have the allocated subnet.
    pub(crate) fn check_existing(&self, existing: &NetworkInspect) -> Result<(), DockerError> {
        let conflict = |reason: String| DockerError::NetworkConflict {
            network: self.local_name.clone(),
            reason,
        };
        let label = existing
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_NETWORK_ID));
        if label.map(String::as_str) != Some(self.network_id.as_str()) {
            return Err(conflict(match label {
                Some(other) => format!(
                    "it stands for cluster network {other}, not {} ({LABEL_NETWORK_ID})",
                    self.network_id
                ),
                None => format!(
                    "it was not made by swarm for cluster network {} (no {LABEL_NETWORK_ID} label)",
                    self.network_id
                ),
            }));
        }
        let subnets: Vec<&str> = existing
            .ipam
            .as_ref()
            .and_then(|i| i.config.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| c.subnet.as_deref())
            .collect();
        let same = subnets.iter().any(|s| {
            Ipv4Cidr::parse(s)
                .is_ok_and(|c| c.subnet() == self.subnet && c.address() == c.network())
        });
        if same {
            Ok(())
        } else {
            Err(conflict(format!(
                "its subnet is {} but the task's address {} is allocated on {}",
                if subnets.is_empty() {
                    "unset".to_owned()
                } else {
                    subnets.join(", ")
                },
                self.address,
                self.subnet
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use swarm_core::model::{NetworkAttachment, ServiceId, TaskId, TaskSpec};

    fn attachment(name: &str, address: &str, aliases: &[&str]) -> NetworkAttachment {
        NetworkAttachment {
            network_id: format!("id-{name}").as_str().into(),
            network_name: name.to_owned(),
            addresses: vec![address.to_owned()],
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    fn task_on(networks: Vec<NetworkAttachment>) -> Task {
        let mut t = Task::new(
            TaskId::new("t1"),
            ServiceId::new("svc1"),
            TaskSpec::default(),
            SystemTime::UNIX_EPOCH,
        );
        t.networks = networks;
        t
    }

    #[test]
    fn attachments_become_bridge_networks_with_the_allocated_address() {
        let t = task_on(vec![
            attachment("backend", "10.0.1.5/24", &["api", "api-v2"]),
            attachment("front end", "10.0.2.1/24", &["api"]),
        ]);
        let nets = task_networks(&t).unwrap();
        assert_eq!(nets.len(), 2);
        let n = &nets[0];
        assert_eq!(n.local_name, "swarm-backend");
        assert_eq!(n.subnet.to_string(), "10.0.1.0/24");
        assert_eq!(n.gateway, Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(n.address, Ipv4Addr::new(10, 0, 1, 5));
        // The task holds the first address: the gateway takes the last one.
        assert_eq!(nets[1].local_name, "swarm-front_end");
        assert_eq!(nets[1].gateway, Ipv4Addr::new(10, 0, 2, 254));

        let req = n.create_request("ns1");
        assert_eq!(req.name, "swarm-backend");
        assert_eq!(req.driver.as_deref(), Some("bridge"));
        let labels = req.labels.unwrap();
        assert_eq!(labels[LABEL_NETWORK_ID], "id-backend");
        assert_eq!(labels[LABEL_MANAGED], "true");
        assert_eq!(labels[LABEL_NAMESPACE], "ns1");
        let pool = &req.ipam.unwrap().config.unwrap()[0];
        assert_eq!(pool.subnet.as_deref(), Some("10.0.1.0/24"));
        assert_eq!(pool.gateway.as_deref(), Some("10.0.1.1"));

        let ep = n.endpoint();
        assert_eq!(
            ep.ipam_config.unwrap().ipv4_address.as_deref(),
            Some("10.0.1.5")
        );
        assert_eq!(ep.aliases.unwrap(), ["api", "api-v2"]);
    }

    #[test]
    fn invalid_attachments_name_their_field() {
        let field_of = |networks: Vec<NetworkAttachment>| match task_networks(&task_on(networks)) {
            Err(DockerError::InvalidSpec { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let ok = attachment("a", "10.0.1.2/24", &["x"]);
        for (address, field) in [
            ("10.0.1.300/24", "networks[1].addresses[0]"),
            ("10.0.1.2", "networks[1].addresses[0]"),
            ("fd00::2/64", "networks[1].addresses[0]"),
            ("10.0.1.2/31", "networks[1].addresses[0]"),
            ("10.0.1.0/24", "networks[1].addresses[0]"),
            ("10.0.1.255/24", "networks[1].addresses[0]"),
        ] {
            let bad = attachment("b", address, &[]);
            assert_eq!(field_of(vec![ok.clone(), bad]), field, "{address}");
        }
        let mut two = attachment("b", "10.0.3.2/24", &[]);
        two.addresses.push("10.0.3.3/24".into());
        assert_eq!(field_of(vec![two]), "networks[0].addresses[1]");
        let mut none = attachment("b", "10.0.3.2/24", &[]);
        none.addresses.clear();
        assert_eq!(field_of(vec![none]), "networks[0].addresses");
        let mut no_id = attachment("b", "10.0.3.2/24", &[]);
        no_id.network_id = "".into();
        assert_eq!(field_of(vec![no_id]), "networks[0].network_id");
        assert_eq!(
            field_of(vec![attachment(" ", "10.0.3.2/24", &[])]),
            "networks[0].network_name"
        );
        assert_eq!(
            field_of(vec![attachment("b", "10.0.3.2/24", &["ok", "two words"])]),
            "networks[0].aliases[1]"
        );
        // Two names for one local network.
        assert_eq!(
            field_of(vec![
                attachment("a b", "10.0.3.2/24", &[]),
                attachment("a_b", "10.0.4.2/24", &[])
            ]),
            "networks[1].network_name"
        );
    }

    #[test]
    fn an_existing_network_must_be_the_same_cluster_network_and_subnet() {
        let t = task_on(vec![attachment("backend", "10.0.1.5/24", &[])]);
        let n = &task_networks(&t).unwrap()[0];
        let existing = |label: Option<&str>, subnet: &str| NetworkInspect {
            name: Some(n.local_name.clone()),
            labels: label.map(|l| HashMap::from([(LABEL_NETWORK_ID.to_owned(), l.to_owned())])),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(subnet.to_owned()),
                    ..IpamConfig::default()
                }]),
                ..Ipam::default()
            }),
            ..NetworkInspect::default()
        };
        n.check_existing(&existing(Some("id-backend"), "10.0.1.0/24"))
            .unwrap();
        for (label, subnet, words) in [
            (Some("id-backend"), "10.0.9.0/24", "10.0.9.0/24"),
            (Some("id-backend"), "10.0.0.0/16", "10.0.0.0/16"),
            (Some("id-other"), "10.0.1.0/24", "id-other"),
            (None, "10.0.1.0/24", "no com.swarm.network.id"),
        ] {
            let e = n.check_existing(&existing(label, subnet)).unwrap_err();
            assert!(matches!(e, DockerError::NetworkConflict { .. }), "{e}");
            let text = e.to_string();
            assert!(
                text.contains("swarm-backend") && text.contains(words),
                "{text}"
            );
        }
    }

    #[test]
    fn local_names_are_bounded_docker_names() {
        assert_eq!(local_network_name("a/b:c"), "swarm-a_b_c");
        assert_eq!(
            local_network_name(&"n".repeat(500)).len(),
            MAX_NETWORK_NAME_BYTES
        );
    }
}
