//! A task template as swarm-sched's placement engine sees it, and a service's host-mode
//! published ports.

use crate::mapping::sched_conversion_error::{SchedConversionError, non_negative};
use crate::model::{
    GenericResource, PlacementPreference, PortConfig, Protocol, PublishMode, Service, TaskSpec,
};

/// What decides where a task of this template may go.
///
/// | engine field | from the template |
/// | --- | --- |
/// | `nano_cpus` | `resources.reservations.nano_cpus`: nano-CPUs (1e9 per core) on both sides |
/// | `memory_bytes` | `resources.reservations.memory_bytes`, bytes |
/// | `generic` | `resources.reservations.generic`, discrete counts (a task reserves a count of a kind; the scheduler picks named items) |
/// | `constraints` | `placement.constraints`, each read by [`swarm_sched::Constraint::parse`] |
/// | `preferences` | `placement.preferences`, each read by [`swarm_sched::SpreadPreference::parse`] |
/// | `platforms` | `placement.platforms`, architectures normalised by [`swarm_sched::normalize_arch`] |
/// | `max_replicas_per_node` | `placement.max_replicas` (0: no limit) |
/// | `host_ports` | left empty: the ports are the service's, see [`service_host_ports`] |
///
/// A template without reservations reserves nothing. Fails naming the field: a negative amount, a named
/// item reserved, a constraint or preference that does not parse.
///
/// ```
/// use swarm_core::model::{PlacementPreference, Resources, TaskSpec};
///
/// let mut spec = TaskSpec::default();
/// spec.resources.reservations = Some(Resources {
///     nano_cpus: 500_000_000,
///     memory_bytes: 256 << 20,
///     generic: vec![],
/// });
/// spec.placement.constraints = vec!["node.role==manager".into()];
/// spec.placement.preferences = vec![PlacementPreference::Spread {
///     spread_descriptor: "node.labels.zone".into(),
/// }];
/// let sched = swarm_sched::TaskSpec::try_from(&spec)?;
/// assert_eq!(sched.nano_cpus, swarm_sched::cores_to_nanos(0.5));
/// assert_eq!(sched.constraints[0].to_string(), "node.role==manager");
/// assert_eq!(sched.preferences[0].to_string(), "node.labels.zone");
/// # Ok::<(), swarm_core::mapping::SchedConversionError>(())
/// ```
impl TryFrom<&TaskSpec> for swarm_sched::TaskSpec {
    type Error = SchedConversionError;

    fn try_from(spec: &TaskSpec) -> Result<Self, Self::Error> {
        let mut out = swarm_sched::TaskSpec::default();
        if let Some(r) = &spec.resources.reservations {
            let field = |name: &str| format!("resources.reservations.{name}");
            out.nano_cpus = non_negative(r.nano_cpus, || field("nano_cpus"))?;
            out.memory_bytes = non_negative(r.memory_bytes, || field("memory_bytes"))?;
            out.generic = r
                .generic
                .iter()
                .enumerate()
                .map(|(i, g)| generic_request(g, || field(&format!("generic[{i}]"))))
                .collect::<Result<_, _>>()?;
        }
        let placement = &spec.placement;
        out.constraints = placement
            .constraints
            .iter()
            .enumerate()
            .map(|(i, text)| {
                swarm_sched::Constraint::parse(text).map_err(|source| {
                    SchedConversionError::Constraint {
                        field: format!("placement.constraints[{i}]"),
                        source,
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        out.preferences = placement
            .preferences
            .iter()
            .enumerate()
            .map(|(i, pref)| match pref {
                PlacementPreference::Spread { spread_descriptor } => {
                    swarm_sched::SpreadPreference::parse(spread_descriptor).map_err(|source| {
                        SchedConversionError::Preference {
                            field: format!("placement.preferences[{i}].spread_descriptor"),
                            source,
                        }
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        out.platforms = placement
            .platforms
            .iter()
            .map(|p| {
                swarm_sched::Platform::new(
                    p.os.clone(),
                    swarm_sched::normalize_arch(&p.architecture),
                )
            })
            .collect();
        out.max_replicas_per_node = placement.max_replicas;
        Ok(out)
    }
}

/// A reserved generic resource as the engine's request: a discrete count of a kind.
pub(crate) fn generic_request(
    g: &GenericResource,
    field: impl FnOnce() -> String,
) -> Result<swarm_sched::GenericRequest, SchedConversionError> {
    match g {
        GenericResource::Discrete { kind, value } => Ok(swarm_sched::GenericRequest {
            kind: kind.clone(),
            count: non_negative(*value, field)?,
        }),
        GenericResource::Named { kind, value } => Err(SchedConversionError::NamedReservation {
            field: field(),
            kind: kind.clone(),
            item: value.clone(),
        }),
    }
}

/// The host-mode published ports every task of `service` binds on its node: the ports the
/// allocator recorded in `service.endpoint` (or, before allocation, those of
/// `spec.endpoint_spec`) published in host mode with a fixed port. A host-mode port
/// published as 0 is picked by the node when the task starts, so it cannot conflict and
/// is left out (as SwarmKit's host-port filter does). Ingress ports are published on every
/// node by the routing mesh and take no host port here.
///
/// Fails with [`SchedConversionError::Port`] for a published port above 65535.
///
/// ```
/// use swarm_core::mapping::service_host_ports;
/// use swarm_core::model::{EndpointSpec, PortConfig, PublishMode, Service};
///
/// let mut service = Service::default();
/// service.spec.endpoint_spec = Some(EndpointSpec {
///     ports: vec![
///         PortConfig { target_port: 80, published_port: 8080, publish_mode: PublishMode::Host, ..PortConfig::default() },
///         PortConfig { target_port: 443, published_port: 443, ..PortConfig::default() }, // ingress
///     ],
///     ..EndpointSpec::default()
/// });
/// assert_eq!(service_host_ports(&service)?, vec![swarm_sched::HostPort::tcp(8080)]);
/// # Ok::<(), swarm_core::mapping::SchedConversionError>(())
/// ```
pub fn service_host_ports(
    service: &Service,
) -> Result<Vec<swarm_sched::HostPort>, SchedConversionError> {
    let (ports, path): (&[PortConfig], &str) =
        match (&service.endpoint, &service.spec.endpoint_spec) {
            (Some(endpoint), _) => (&endpoint.ports, "endpoint.ports"),
            (None, Some(spec)) => (&spec.ports, "spec.endpoint_spec.ports"),
            (None, None) => (&[], ""),
        };
    ports
        .iter()
        .enumerate()
        .filter(|(_, p)| p.publish_mode == PublishMode::Host && p.published_port != 0)
        .map(|(i, p)| {
            let port = u16::try_from(p.published_port).map_err(|_| SchedConversionError::Port {
                field: format!("service {}: {path}[{i}].published_port", service.id),
                value: p.published_port,
            })?;
            Ok(swarm_sched::HostPort {
                protocol: p.protocol.into(),
                port,
            })
        })
        .collect()
}

impl From<Protocol> for swarm_sched::Protocol {
    fn from(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Tcp => swarm_sched::Protocol::Tcp,
            Protocol::Udp => swarm_sched::Protocol::Udp,
            Protocol::Sctp => swarm_sched::Protocol::Sctp,
        }
    }
}

impl From<swarm_sched::Protocol> for Protocol {
    fn from(protocol: swarm_sched::Protocol) -> Self {
        match protocol {
            swarm_sched::Protocol::Tcp => Protocol::Tcp,
            swarm_sched::Protocol::Udp => Protocol::Udp,
            swarm_sched::Protocol::Sctp => Protocol::Sctp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, EndpointSpec, Platform, Resources};

    fn spec_with(f: impl FnOnce(&mut TaskSpec)) -> TaskSpec {
        let mut spec = TaskSpec::default();
        f(&mut spec);
        spec
    }

    #[test]
    fn no_reservation_reserves_nothing() {
        let sched = swarm_sched::TaskSpec::try_from(&TaskSpec::default()).unwrap();
        assert_eq!(sched, swarm_sched::TaskSpec::default());
    }

    #[test]
    fn reservations_keep_their_units() {
        let spec = spec_with(|s| {
            s.resources.reservations = Some(Resources {
                nano_cpus: 250_000_000,
                memory_bytes: 64 << 20,
                generic: vec![GenericResource::Discrete {
                    kind: "gpu".into(),
                    value: 2,
                }],
            });
            // Limits do not reserve anything.
            s.resources.limits = Some(Resources {
                nano_cpus: 4_000_000_000,
                ..Resources::default()
            });
        });
        let sched = swarm_sched::TaskSpec::try_from(&spec).unwrap();
        assert_eq!(sched.nano_cpus, swarm_sched::cores_to_nanos(0.25));
        assert_eq!(sched.memory_bytes, 64 << 20);
        assert_eq!(
            sched.generic,
            vec![swarm_sched::GenericRequest {
                kind: "gpu".into(),
                count: 2
            }]
        );
    }

    #[test]
    fn bad_reservations_name_the_field() {
        let negative = spec_with(|s| {
            s.resources.reservations = Some(Resources {
                memory_bytes: -1,
                ..Resources::default()
            });
        });
        assert_eq!(
            swarm_sched::TaskSpec::try_from(&negative)
                .unwrap_err()
                .to_string(),
            "resources.reservations.memory_bytes is -1, below zero"
        );
        let named = spec_with(|s| {
            s.resources.reservations = Some(Resources {
                generic: vec![GenericResource::Named {
                    kind: "gpu".into(),
                    value: "GPU-0".into(),
                }],
                ..Resources::default()
            });
        });
        assert_eq!(
            swarm_sched::TaskSpec::try_from(&named).unwrap_err(),
            SchedConversionError::NamedReservation {
                field: "resources.reservations.generic[0]".into(),
                kind: "gpu".into(),
                item: "GPU-0".into()
            }
        );
    }

    #[test]
    fn constraints_and_preferences_go_through_the_one_parser() {
        let spec = spec_with(|s| {
            s.placement.constraints = vec![
                "node.role==manager".into(),
                "node.labels.disk != hdd".into(),
            ];
            s.placement.preferences = vec![PlacementPreference::Spread {
                spread_descriptor: "engine.labels.rack".into(),
            }];
        });
        let sched = swarm_sched::TaskSpec::try_from(&spec).unwrap();
        let parsed =
            swarm_sched::Constraint::parse_all(["node.role==manager", "node.labels.disk!=hdd"])
                .unwrap();
        assert_eq!(sched.constraints, parsed);
        assert_eq!(
            sched.preferences,
            vec![swarm_sched::SpreadPreference::parse("engine.labels.rack").unwrap()]
        );

        let bad_pref = spec_with(|s| {
            s.placement.preferences = vec![PlacementPreference::Spread {
                spread_descriptor: "node.hostname".into(),
            }];
        });
        let err = swarm_sched::TaskSpec::try_from(&bad_pref).unwrap_err();
        assert!(
            matches!(err, SchedConversionError::Preference { ref field, .. }
            if field == "placement.preferences[0].spread_descriptor")
        );
        let bad_constraint = spec_with(|s| {
            s.placement.constraints = vec!["node.role==manager".into(), "zone".into()];
        });
        let err = swarm_sched::TaskSpec::try_from(&bad_constraint).unwrap_err();
        assert!(err.to_string().starts_with("placement.constraints[1]: "));
        assert!(!err.is_retryable());
    }

    #[test]
    fn platforms_and_max_replicas_are_carried() {
        let spec = spec_with(|s| {
            s.placement.platforms =
                vec![Platform::new("linux", "x86_64"), Platform::new("linux", "")];
            s.placement.max_replicas = 2;
        });
        let sched = swarm_sched::TaskSpec::try_from(&spec).unwrap();
        assert_eq!(
            sched.platforms,
            vec![
                swarm_sched::Platform::new("linux", "amd64"),
                swarm_sched::Platform::new("linux", "")
            ]
        );
        assert_eq!(sched.max_replicas_per_node, 2);
        assert!(sched.host_ports.is_empty());
    }

    fn port(published: u32, mode: PublishMode, protocol: Protocol) -> PortConfig {
        PortConfig {
            target_port: 80,
            published_port: published,
            publish_mode: mode,
            protocol,
            ..PortConfig::default()
        }
    }

    #[test]
    fn host_ports_are_the_fixed_host_mode_ports_of_the_allocated_endpoint() {
        let mut service = Service {
            id: "web".into(),
            ..Service::default()
        };
        assert_eq!(service_host_ports(&service).unwrap(), vec![]);
        service.spec.endpoint_spec = Some(EndpointSpec {
            ports: vec![port(81, PublishMode::Host, Protocol::Udp)],
            ..EndpointSpec::default()
        });
        assert_eq!(
            service_host_ports(&service).unwrap(),
            vec![swarm_sched::HostPort {
                protocol: swarm_sched::Protocol::Udp,
                port: 81
            }]
        );
        // Once allocated, the endpoint's ports are the ones that count.
        service.endpoint = Some(Endpoint {
            ports: vec![
                port(8080, PublishMode::Host, Protocol::Tcp),
                port(0, PublishMode::Host, Protocol::Tcp),
                port(30000, PublishMode::Ingress, Protocol::Tcp),
                port(53, PublishMode::Host, Protocol::Sctp),
            ],
            ..Endpoint::default()
        });
        assert_eq!(
            service_host_ports(&service).unwrap(),
            vec![
                swarm_sched::HostPort::tcp(8080),
                swarm_sched::HostPort {
                    protocol: swarm_sched::Protocol::Sctp,
                    port: 53
                }
            ]
        );
        service.endpoint = Some(Endpoint {
            ports: vec![port(70_000, PublishMode::Host, Protocol::Tcp)],
            ..Endpoint::default()
        });
        assert_eq!(
            service_host_ports(&service).unwrap_err().to_string(),
            "service web: endpoint.ports[0].published_port is 70000, not a port number (1 to 65535)"
        );
        for p in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
            assert_eq!(Protocol::from(swarm_sched::Protocol::from(p)), p);
        }
    }
}
