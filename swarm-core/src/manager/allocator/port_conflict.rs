//! Published ports: the one rule of which ports two services cannot both publish, and the
//! range the cluster picks ports from.

use crate::manager::control::ObjectRef;
use crate::model::{PortConfig, Protocol, PublishMode, Service};
use std::collections::BTreeSet;
use std::fmt;

/// First port the cluster picks for a port published as 0 (SwarmKit's dynamic range).
pub const DYNAMIC_PORT_START: u32 = 30000;
/// Last port the cluster picks for a port published as 0. The range holds 2,768 ports per
/// protocol; once every one is taken, a service asking for one more stays unallocated (its
/// tasks say why) until a port is freed.
pub const DYNAMIC_PORT_END: u32 = 32767;

/// A published port of a service that another service already uses.
///
/// ```
/// use swarm_core::manager::allocator::{PortConflict, published_port_conflict};
/// use swarm_core::model::{PortConfig, PublishMode, Service, ServiceSpec};
///
/// let port = PortConfig { target_port: 80, published_port: 8080, ..PortConfig::default() };
/// let web = Service { id: "w1".into(), spec: ServiceSpec::new("web", "nginx"), ..Service::default() };
/// let conflict = published_port_conflict(&[port.clone()], [(&web, &[port][..])]).unwrap();
/// assert_eq!(
///     conflict.to_string(),
///     r#"port 8080/tcp is already in use by service "web" (w1) as an ingress port"#,
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PortConflict {
    /// The published port.
    pub port: u32,
    /// Its protocol.
    pub protocol: Protocol,
    /// How the other service publishes it.
    pub other_mode: PublishMode,
    /// The other service.
    pub other: ObjectRef,
}

impl fmt::Display for PortConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.other_mode {
            PublishMode::Ingress => "an ingress port",
            PublishMode::Host => "a host-published port",
        };
        write!(
            f,
            "port {}/{} is already in use by {} as {how}",
            self.port, self.protocol, self.other
        )
    }
}

/// The first published port of `ports` that a port of another service in `others` conflicts
/// with, SwarmKit's rule: an ingress port conflicts with any other service publishing the
/// same number and protocol (ingress or host); two host-published ports do not conflict (the
/// scheduler keeps their tasks on different nodes). Ports published as 0 never conflict
/// (the cluster picks a free one). `others` yields each other service with a list of its
/// ports (its spec's, or what the allocator gave it); a service may appear several times.
///
/// The control steps check a new or updated spec against the other services' spec and
/// allocated ports; the allocator checks what it allocates against the ports it allocated
/// to the other services.
pub fn published_port_conflict<'a>(
    ports: &[PortConfig],
    others: impl IntoIterator<Item = (&'a Service, &'a [PortConfig])>,
) -> Option<PortConflict> {
    let ours = |mode: PublishMode| -> BTreeSet<(Protocol, u32)> {
        ports
            .iter()
            .filter(|p| p.published_port != 0 && p.publish_mode == mode)
            .map(|p| (p.protocol, p.published_port))
            .collect()
    };
    let ingress = ours(PublishMode::Ingress);
    let host = ours(PublishMode::Host);
    if ingress.is_empty() && host.is_empty() {
        return None;
    }
    for (service, their) in others {
        for p in their.iter().filter(|p| p.published_port != 0) {
            let key = (p.protocol, p.published_port);
            let conflicts = match p.publish_mode {
                PublishMode::Host => ingress.contains(&key),
                PublishMode::Ingress => ingress.contains(&key) || host.contains(&key),
            };
            if conflicts {
                return Some(PortConflict {
                    port: p.published_port,
                    protocol: p.protocol,
                    other_mode: p.publish_mode,
                    other: ObjectRef::service(service),
                });
            }
        }
    }
    None
}

/// The spec's and the allocated published ports of every service but `except`, as
/// [`published_port_conflict`] reads them.
pub(crate) fn ports_of_others<'a>(
    services: impl Iterator<Item = &'a Service> + 'a,
    except: Option<&'a crate::model::ServiceId>,
) -> impl Iterator<Item = (&'a Service, &'a [PortConfig])> + 'a {
    services
        .filter(move |s| Some(&s.id) != except)
        .flat_map(|s| {
            let spec = s
                .spec
                .endpoint_spec
                .as_ref()
                .map_or(&[][..], |e| e.ports.as_slice());
            let allocated = s.endpoint.as_ref().map_or(&[][..], |e| e.ports.as_slice());
            [(s, spec), (s, allocated)]
        })
}
