//! Service discovery: the addresses a name has on a network, read from the allocation.

use crate::manager::allocator::address_book::parse_addr;
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::{ControlError, ObjectRef, find_network};
use crate::model::{Network, ResolutionMode, Service, Task, TaskState};
use std::net::IpAddr;

/// The addresses `name` has on `network` (by id, name or id prefix), as the cluster's DNS
/// answers them:
/// * a service's name, or an alias its task template gives it on that network: in vip mode
///   its virtual IP there, in dnsrr mode the addresses of its running tasks there (empty while
///   none runs or nothing is allocated yet);
/// * `<service>.<slot>`: the addresses there of that replica's running tasks.
///
/// A name that is none of these on that network is [`ControlError::NameNotResolved`]; an
/// unknown network is [`ControlError::NotFound`]. Addresses come in task id order.
pub fn resolve(
    state: &ClusterState,
    network: &str,
    name: &str,
) -> Result<Vec<IpAddr>, ControlError> {
    let network = find_network(state, network)?;
    if let Some(service) = service_named(state, network, name) {
        return Ok(service_addresses(state, network, service));
    }
    if let Some((service_name, slot)) = name.rsplit_once('.') {
        let slot: Option<u64> = slot.parse().ok();
        if let (Some(service), Some(slot)) = (service_named(state, network, service_name), slot) {
            return Ok(running_addresses(
                state
                    .tasks_of_service(&service.id)
                    .filter(|t| t.slot == Some(slot)),
                network,
            ));
        }
    }
    Err(ControlError::NameNotResolved {
        network: ObjectRef::network(network),
        name: name.to_owned(),
    })
}

/// The service attached to `network` whose name, or one of whose aliases there, is `name`.
fn service_named<'a>(
    state: &'a ClusterState,
    network: &Network,
    name: &str,
) -> Option<&'a Service> {
    let on_network = |s: &&Service| {
        super::endpoint_allocation::service_networks(state, &s.spec)
            .iter()
            .any(|n| n.id == network.id)
    };
    state.service_by_name(name).filter(on_network).or_else(|| {
        state.services().values().filter(on_network).find(|s| {
            s.spec.task_template.networks.iter().any(|c| {
                (c.target == network.id.as_str() || c.target == network.spec.name)
                    && c.aliases.iter().any(|a| a == name)
            })
        })
    })
}

fn service_addresses(state: &ClusterState, network: &Network, service: &Service) -> Vec<IpAddr> {
    let mode = service
        .spec
        .endpoint_spec
        .as_ref()
        .map(|e| e.mode)
        .unwrap_or_default();
    match mode {
        ResolutionMode::Vip => service
            .endpoint
            .iter()
            .flat_map(|e| &e.virtual_ips)
            .filter(|v| v.network_id == network.id)
            .filter_map(|v| parse_addr(&v.addr))
            .collect(),
        ResolutionMode::Dnsrr => running_addresses(state.tasks_of_service(&service.id), network),
    }
}

fn running_addresses<'a>(tasks: impl Iterator<Item = &'a Task>, network: &Network) -> Vec<IpAddr> {
    tasks
        .filter(|t| t.status.state == TaskState::Running)
        .flat_map(|t| &t.networks)
        .filter(|a| a.network_id == network.id)
        .flat_map(|a| &a.addresses)
        .filter_map(|a| parse_addr(a))
        .collect()
}
