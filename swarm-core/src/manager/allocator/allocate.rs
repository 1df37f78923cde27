//! The allocator step: networks, then service endpoints, then the tasks waiting in `New`.

use crate::manager::allocator::address_book::AddressBook;
use crate::manager::allocator::endpoint_allocation::{ServiceEndpoints, allocate_endpoints};
use crate::manager::allocator::network_ipam::{network_ipam, subnets_of};
use crate::manager::allocator::task_allocation::allocate_tasks;
use crate::manager::cluster_state::ClusterState;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{IpamConfig, NetworkId, Task, TaskState};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The subnets of every network after this call, and why a network has none.
#[derive(Debug, Default)]
pub(crate) struct NetworkSubnets {
    /// Each allocated network's subnets (stored, or allocated in this call).
    pub(crate) ipam: BTreeMap<NetworkId, Vec<IpamConfig>>,
    /// Why a network could not get a subnet.
    pub(crate) errors: BTreeMap<NetworkId, String>,
}

/// The allocator (SwarmKit's `manager/allocator`), contract step 2: one pass over `state`
/// that returns the writes to make, at most one per object.
///
/// Contract:
/// * a network without `allocated_ipam` gets its spec's subnets (each with a gateway) or a
///   free subnet of the default pool ([`network_ipam`]);
/// * a service whose `endpoint` does not match its spec (none yet, another endpoint spec, or
///   other networks) gets one: its published ports, an ingress port published as 0 given the
///   lowest free port of [`DYNAMIC_PORT_START`](super::DYNAMIC_PORT_START)..=
///   [`DYNAMIC_PORT_END`](super::DYNAMIC_PORT_END) (a port it had keeps its number), and in
///   vip mode one virtual IP per attached network (a virtual IP it had on a network still
///   attached is kept). Ports that conflict with another service's allocated ports
///   ([`published_port_conflict`](super::published_port_conflict)) leave it unallocated;
/// * a task in `New` whose desired state is not past `Complete` gets one address per network
///   of its spec (plus the ingress network when its service has a virtual IP there), unique
///   on the network, with the aliases `[service name, ...aliases]`, and a copy of its
///   service's endpoint (`Task::endpoint`, the published ports its runtime opens), and moves
///   to `Pending` ("pending task scheduling") once its service's endpoint is allocated. A task that
///   cannot (its network is missing or has no subnet or no free address, its service's ports
///   conflict) stays `New` with `status.err` saying why, written only when the reason changes;
/// * addresses in use are recomputed from `state` at every call: gateways, virtual IPs, and the
///   addresses of tasks past `New` that are not ended and past `Running` in desired state too
///   (SwarmKit's rule: a task that ended and is not wanted running gives its addresses back,
///   and a deleted task holds none);
/// * pure: no clock (`now` stamps `meta.updated_at` and new task statuses), no randomness, no
///   state kept between calls; the same state gives the same writes, in network, service,
///   task order (each by id).
pub fn allocate(state: &ClusterState, now: SystemTime) -> Vec<ManagerWrite> {
    let mut writes = Vec::new();
    let subnets = allocate_networks(state, now, &mut writes);
    let mut book = address_book(state, &subnets);
    let endpoints: ServiceEndpoints = allocate_endpoints(state, &mut book, now, &mut writes);
    allocate_tasks(state, &subnets, &endpoints, &mut book, now, &mut writes);
    writes
}

/// Gives every network without subnets its subnets.
fn allocate_networks(
    state: &ClusterState,
    now: SystemTime,
    writes: &mut Vec<ManagerWrite>,
) -> NetworkSubnets {
    let mut subnets = NetworkSubnets::default();
    for network in state.networks().values() {
        if !network.allocated_ipam.is_empty() {
            subnets
                .ipam
                .insert(network.id.clone(), network.allocated_ipam.clone());
        }
    }
    for network in state.networks().values() {
        if !network.allocated_ipam.is_empty() {
            continue;
        }
        let taken: Vec<String> = subnets
            .ipam
            .values()
            .flat_map(|c| subnets_of(c))
            .chain(
                state
                    .networks()
                    .values()
                    .filter(|n| n.id != network.id)
                    .flat_map(|n| subnets_of(&n.spec.ipam.configs)),
            )
            .collect();
        match network_ipam(&network.spec, &taken) {
            Ok(ipam) => {
                let mut changed = network.clone();
                changed.allocated_ipam = ipam.clone();
                changed.meta.updated_at = now;
                writes.push(ManagerWrite::Network(ObjectWrite::Update {
                    object: changed,
                    expected_version: network.meta.version,
                }));
                subnets.ipam.insert(network.id.clone(), ipam);
            }
            Err(reason) => {
                subnets.errors.insert(network.id.clone(), reason);
            }
        }
    }
    subnets
}

/// The addresses in use: gateways, every service's virtual IPs, the addresses of tasks that
/// hold theirs ([`holds_addresses`]).
fn address_book(state: &ClusterState, subnets: &NetworkSubnets) -> AddressBook {
    let mut book = AddressBook::new(&subnets.ipam);
    for service in state.services().values() {
        for vip in service.endpoint.iter().flat_map(|e| &e.virtual_ips) {
            book.take(&vip.network_id, &vip.addr);
        }
    }
    for task in state.tasks().values().filter(|t| holds_addresses(t)) {
        for attachment in &task.networks {
            for addr in &attachment.addresses {
                book.take(&attachment.network_id, addr);
            }
        }
    }
    book
}

/// Whether a task's addresses are in use: it left `New` (the allocator gave them) and has not
/// both ended and stopped being wanted running.
pub(crate) fn holds_addresses(task: &Task) -> bool {
    task.status.state != TaskState::New
        && !(task.status.state > TaskState::Running && task.desired_state > TaskState::Running)
}
