//! Service endpoints: published ports and one virtual IP per attached network.

use crate::manager::allocator::address_book::AddressBook;
use crate::manager::allocator::port_conflict::{
    DYNAMIC_PORT_END, DYNAMIC_PORT_START, published_port_conflict,
};
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::by_id_or_name;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Endpoint, EndpointSpec, Network, NetworkId, PortConfig, Protocol, PublishMode, ResolutionMode,
    Service, ServiceId, ServiceSpec, VirtualIp,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// Every service's endpoint after this call, and why a service has none.
#[derive(Debug, Default)]
pub(crate) struct ServiceEndpoints {
    /// The allocated endpoints (stored and current, or allocated in this call).
    pub(crate) ready: BTreeMap<ServiceId, Endpoint>,
    /// Why a service's endpoint could not be allocated.
    pub(crate) errors: BTreeMap<ServiceId, String>,
}

/// The networks a service's tasks attach to, in spec order, that exist: each target of its
/// task template (by id or name), then the ingress network when it publishes a port in
/// ingress mode and one exists.
pub(crate) fn service_networks<'a>(
    state: &'a ClusterState,
    spec: &ServiceSpec,
) -> Vec<&'a Network> {
    let mut out: Vec<&Network> = Vec::new();
    for target in &spec.task_template.networks {
        if let Some(n) = by_id_or_name(state.networks(), &target.target) {
            if out.iter().all(|o| o.id != n.id) {
                out.push(n);
            }
        }
    }
    if publishes_ingress(spec) {
        if let Some(ingress) = state.networks().values().find(|n| n.spec.ingress) {
            if out.iter().all(|o| o.id != ingress.id) {
                out.push(ingress);
            }
        }
    }
    out
}

/// Whether the spec publishes a port through the routing mesh.
fn publishes_ingress(spec: &ServiceSpec) -> bool {
    spec.endpoint_spec.as_ref().is_some_and(|e| {
        e.ports
            .iter()
            .any(|p| p.publish_mode == PublishMode::Ingress)
    })
}

/// Allocates the endpoint of every service whose endpoint does not match its spec, in id order.
pub(crate) fn allocate_endpoints(
    state: &ClusterState,
    book: &mut AddressBook,
    now: SystemTime,
    writes: &mut Vec<ManagerWrite>,
) -> ServiceEndpoints {
    let mut out = ServiceEndpoints {
        ready: state
            .services()
            .values()
            .filter_map(|s| s.endpoint.clone().map(|e| (s.id.clone(), e)))
            .collect(),
        errors: BTreeMap::new(),
    };
    for service in state.services().values() {
        let spec = service.spec.endpoint_spec.clone().unwrap_or_default();
        let vip_networks: Vec<NetworkId> = match spec.mode {
            ResolutionMode::Vip => service_networks(state, &service.spec)
                .into_iter()
                .map(|n| n.id.clone())
                .filter(|id| book.has_network(id))
                .collect(),
            ResolutionMode::Dnsrr => Vec::new(),
        };
        if let Some(current) = &service.endpoint {
            if is_current(current, &spec, &vip_networks, book) {
                continue;
            }
        }
        match endpoint_for(state, service, &spec, &vip_networks, &out.ready, book) {
            Ok(endpoint) => {
                let mut changed = service.clone();
                changed.endpoint = Some(endpoint.clone());
                changed.meta.updated_at = now;
                writes.push(ManagerWrite::Service(ObjectWrite::Update {
                    object: changed,
                    expected_version: service.meta.version,
                }));
                out.ready.insert(service.id.clone(), endpoint);
            }
            Err(reason) => {
                out.ready.remove(&service.id);
                out.errors.insert(service.id.clone(), reason);
            }
        }
    }
    out
}

/// Whether the stored endpoint was made for this spec and these networks, and its virtual
/// IPs still lie in their networks' subnets.
fn is_current(
    endpoint: &Endpoint,
    spec: &EndpointSpec,
    vip_networks: &[NetworkId],
    book: &AddressBook,
) -> bool {
    let have: BTreeSet<&NetworkId> = endpoint.virtual_ips.iter().map(|v| &v.network_id).collect();
    let want: BTreeSet<&NetworkId> = vip_networks.iter().collect();
    endpoint.spec == *spec
        && endpoint.ports.len() == spec.ports.len()
        && endpoint.virtual_ips.len() == vip_networks.len()
        && have == want
        && endpoint
            .virtual_ips
            .iter()
            .all(|v| book.fits(&v.network_id, &v.addr))
}

/// A new endpoint for `service`: its ports (dynamic ones kept or picked), then its virtual
/// IPs (kept or claimed). On `Err` the book is as before.
fn endpoint_for(
    state: &ClusterState,
    service: &Service,
    spec: &EndpointSpec,
    vip_networks: &[NetworkId],
    allocated: &BTreeMap<ServiceId, Endpoint>,
    book: &mut AddressBook,
) -> Result<Endpoint, String> {
    let others = || {
        allocated
            .iter()
            .filter(|(id, _)| **id != service.id)
            .filter_map(|(id, e)| state.service(id).map(|s| (s, e.ports.as_slice())))
    };
    if let Some(conflict) = published_port_conflict(&spec.ports, others()) {
        return Err(conflict.to_string());
    }
    let ports = ports_for(state, service, spec, others())?;
    let old = service.endpoint.as_ref();
    let mut virtual_ips = Vec::new();
    let mut claimed = Vec::new();
    for network in vip_networks {
        let kept = old.and_then(|e| {
            e.virtual_ips
                .iter()
                .find(|v| v.network_id == *network && book.fits(network, &v.addr))
        });
        if let Some(vip) = kept {
            virtual_ips.push(vip.clone());
            continue;
        }
        match book.claim(network) {
            Some(addr) => {
                claimed.push((network.clone(), addr.clone()));
                virtual_ips.push(VirtualIp {
                    network_id: network.clone(),
                    addr,
                });
            }
            None => {
                for (n, a) in &claimed {
                    book.release(n, a);
                }
                let name = state
                    .networks()
                    .get(network)
                    .map_or(network.as_str(), |n| n.spec.name.as_str());
                return Err(format!(
                    "no free address for a virtual IP on network {name:?} ({})",
                    book.subnets(network)
                ));
            }
        }
    }
    for vip in old.iter().flat_map(|e| &e.virtual_ips) {
        if !virtual_ips.contains(vip) {
            book.release(&vip.network_id, &vip.addr);
        }
    }
    Ok(Endpoint {
        spec: spec.clone(),
        ports,
        virtual_ips,
    })
}

/// The published ports of `spec`: given ports as they are; an ingress port published as 0
/// keeps the port it had in the old endpoint (same port config) when still free, or gets the
/// lowest free port of the dynamic range for its protocol. Taken: every published port of the
/// other services (spec and allocated) and this spec's own.
fn ports_for<'a>(
    state: &ClusterState,
    service: &Service,
    spec: &EndpointSpec,
    others: impl Iterator<Item = (&'a Service, &'a [PortConfig])>,
) -> Result<Vec<PortConfig>, String> {
    let mut taken: BTreeSet<(Protocol, u32)> = BTreeSet::new();
    for (_, ports) in others {
        taken.extend(published(ports));
    }
    for other in state.services().values().filter(|s| s.id != service.id) {
        if let Some(e) = &other.spec.endpoint_spec {
            taken.extend(published(&e.ports));
        }
    }
    taken.extend(published(&spec.ports));
    let old = service.endpoint.as_ref();
    let mut reused = BTreeSet::new();
    let mut out = Vec::with_capacity(spec.ports.len());
    for port in &spec.ports {
        let mut port = port.clone();
        if port.published_port == 0 && port.publish_mode == PublishMode::Ingress {
            let kept = old.and_then(|e| {
                e.spec
                    .ports
                    .iter()
                    .zip(&e.ports)
                    .enumerate()
                    .find(|(j, (was, given))| {
                        !reused.contains(j)
                            && **was == port
                            && (DYNAMIC_PORT_START..=DYNAMIC_PORT_END)
                                .contains(&given.published_port)
                            && !taken.contains(&(given.protocol, given.published_port))
                    })
                    .map(|(j, (_, given))| (j, given.published_port))
            });
            let number = match kept {
                Some((j, number)) => {
                    reused.insert(j);
                    number
                }
                None => (DYNAMIC_PORT_START..=DYNAMIC_PORT_END)
                    .find(|n| !taken.contains(&(port.protocol, *n)))
                    .ok_or_else(|| {
                        format!(
                            "no free published port in {DYNAMIC_PORT_START}-{DYNAMIC_PORT_END}/{}",
                            port.protocol
                        )
                    })?,
            };
            taken.insert((port.protocol, number));
            port.published_port = number;
        }
        out.push(port);
    }
    Ok(out)
}

fn published(ports: &[PortConfig]) -> impl Iterator<Item = (Protocol, u32)> + '_ {
    ports
        .iter()
        .filter(|p| p.published_port != 0)
        .map(|p| (p.protocol, p.published_port))
}
