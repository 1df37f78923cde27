//! Sans-IO: the routing mesh's table, made from the engine's running containers that carry
//! swarm-docker's [`LABEL_INGRESS_PORTS`]: for each published TCP port, the addresses of the
//! task containers serving it (their address on the engine network, at the target port).

use bollard::models::ContainerSummary;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use swarm_core::model::Protocol;
use swarm_docker::{IngressPort, LABEL_INGRESS_PORTS};

/// The backends of each published TCP port, each list sorted (so the round robin's order
/// does not depend on the engine's listing order).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MeshRoutes {
    /// Published port → the task containers' `address:target port`.
    pub(crate) tcp: BTreeMap<u16, Vec<SocketAddr>>,
}

/// The container's address on the engine: the first network (in name order) that gave it an
/// address. Containers of one host reach each other and the host on these bridges.
fn container_ip(c: &ContainerSummary) -> Option<IpAddr> {
    let networks = c.network_settings.as_ref()?.networks.as_ref()?;
    let mut names: Vec<&String> = networks.keys().collect();
    names.sort();
    names.into_iter().find_map(|name| {
        networks[name]
            .ip_address
            .as_deref()
            .and_then(|ip| ip.parse().ok())
    })
}

impl MeshRoutes {
    /// The table of `containers` (running ones: the caller lists those). A container without
    /// an address or whose label does not read is left out (logged at debug).
    pub(crate) fn from_containers(containers: &[ContainerSummary]) -> MeshRoutes {
        let mut routes = MeshRoutes::default();
        for c in containers {
            let Some(value) = c.labels.as_ref().and_then(|l| l.get(LABEL_INGRESS_PORTS)) else {
                continue;
            };
            let ports = match IngressPort::parse_label(value) {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(container = ?c.id, error = %e, "not routed");
                    continue;
                }
            };
            let Some(ip) = container_ip(c) else {
                tracing::debug!(container = ?c.id, "not routed: no address on the engine");
                continue;
            };
            for p in ports.iter().filter(|p| p.protocol == Protocol::Tcp) {
                let backends = routes.tcp.entry(p.published_port).or_default();
                let addr = SocketAddr::new(ip, p.target_port);
                if !backends.contains(&addr) {
                    backends.push(addr);
                }
            }
        }
        for backends in routes.tcp.values_mut() {
            backends.sort();
        }
        routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerSummaryNetworkSettings, EndpointSettings};
    use std::collections::HashMap;

    fn container(label: Option<&str>, networks: &[(&str, &str)]) -> ContainerSummary {
        ContainerSummary {
            id: Some("c".into()),
            labels: Some(
                label
                    .map(|v| HashMap::from([(LABEL_INGRESS_PORTS.to_owned(), v.to_owned())]))
                    .unwrap_or_default(),
            ),
            network_settings: Some(ContainerSummaryNetworkSettings {
                networks: Some(
                    networks
                        .iter()
                        .map(|(name, ip)| {
                            (
                                (*name).to_owned(),
                                EndpointSettings {
                                    ip_address: Some((*ip).to_owned()),
                                    ..EndpointSettings::default()
                                },
                            )
                        })
                        .collect(),
                ),
            }),
            ..ContainerSummary::default()
        }
    }

    #[test]
    fn each_published_tcp_port_routes_to_the_containers_at_their_target_port() {
        let routes = MeshRoutes::from_containers(&[
            container(
                Some("8080:80/tcp,5353:53/udp"),
                &[("swarm-web", "10.0.9.4")],
            ),
            // Two networks: the first by name gives the address; an empty one is skipped.
            container(
                Some("8080:80/tcp,30000:443/tcp"),
                &[
                    ("swarm-web", "10.0.9.3"),
                    ("a-none", ""),
                    ("swarm-zz", "10.0.8.2"),
                ],
            ),
            // No label, a label that does not read, no address: not routed.
            container(None, &[("bridge", "172.17.0.2")]),
            container(Some("8080:80"), &[("bridge", "172.17.0.3")]),
            container(Some("9090:90/tcp"), &[("none", "")]),
        ]);
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            routes.tcp.get(&8080).unwrap(),
            &[addr("10.0.9.3:80"), addr("10.0.9.4:80")]
        );
        assert_eq!(routes.tcp.get(&30000).unwrap(), &[addr("10.0.9.3:443")]);
        assert_eq!(routes.tcp.len(), 2, "{routes:?}");
    }
}
