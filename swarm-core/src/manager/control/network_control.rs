//! `network create`, `ls`, `inspect` and `rm` (SwarmKit's controlapi networks).

use crate::manager::allocator::{holds_addresses, network_ipam};
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::{
    Created, check_name_free, check_unused, find_object, fresh_id,
};
use crate::manager::control::object_ref::ObjectRef;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{DEFAULT_NETWORK_DRIVER, Meta, Network, NetworkId, NetworkSpec, Version};
use crate::validate::Validate;
use crate::validate::cidr::Cidr;
use std::time::SystemTime;

/// `network create`.
///
/// Contract:
/// * the spec is validated ([`ControlError::InvalidSpec`]) and its driver is
///   [`DEFAULT_NETWORK_DRIVER`] (`overlay`; [`ControlError::UnsupportedNetworkDriver`]);
/// * the name is unused by other networks ([`ControlError::NameInUse`]); at most one network
///   is the ingress network ([`ControlError::SecondIngress`]);
/// * a subnet of the spec overlaps no subnet of another network
///   ([`ControlError::SubnetOverlap`] naming it);
/// * the network gets a fresh id from `rng` and its subnets at once: the spec's, each with a
///   gateway, or a free subnet of the default pool
///   ([`network_ipam`](crate::manager::allocator::network_ipam); [`ControlError::NoSubnet`]
///   when the pool is used up). The one write creates it.
pub fn create_network(
    state: &ClusterState,
    spec: &NetworkSpec,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<Created<NetworkId>, ControlError> {
    spec.validate().map_err(ControlError::InvalidSpec)?;
    if spec.driver != DEFAULT_NETWORK_DRIVER {
        return Err(ControlError::UnsupportedNetworkDriver {
            network: spec.name.clone(),
            driver: spec.driver.clone(),
        });
    }
    check_name_free(state.networks(), &spec.name)?;
    if spec.ingress {
        if let Some(existing) = state.networks().values().find(|n| n.spec.ingress) {
            return Err(ControlError::SecondIngress {
                network: spec.name.clone(),
                existing: ObjectRef::network(existing),
            });
        }
    }
    let mut taken = Vec::new();
    for other in state.networks().values() {
        for subnet in subnets_of(other) {
            for config in &spec.ipam.configs {
                let overlaps = match (Cidr::parse(&config.subnet), Cidr::parse(&subnet)) {
                    (Some(ours), Some(theirs)) => ours.overlaps(&theirs),
                    _ => false,
                };
                if overlaps {
                    return Err(ControlError::SubnetOverlap {
                        network: spec.name.clone(),
                        subnet: config.subnet.clone(),
                        other: Box::new(ObjectRef::network(other)),
                        other_subnet: subnet,
                    });
                }
            }
            taken.push(subnet);
        }
    }
    let allocated_ipam = network_ipam(spec, &taken).map_err(|reason| ControlError::NoSubnet {
        network: spec.name.clone(),
        reason,
    })?;
    let id = NetworkId::new(fresh_id(state.networks(), "network id", rng)?);
    let network = Network {
        id: id.clone(),
        meta: Meta::new(Version(0), now),
        spec: spec.clone(),
        allocated_ipam,
    };
    Ok(Created {
        id,
        writes: ManagerWrites {
            writes: vec![ManagerWrite::Network(ObjectWrite::Create(network))],
            membership: Vec::new(),
        },
    })
}

/// Every subnet a network holds or asks for.
fn subnets_of(network: &Network) -> Vec<String> {
    let mut out: Vec<String> = network
        .allocated_ipam
        .iter()
        .map(|c| c.subnet.clone())
        .collect();
    for config in &network.spec.ipam.configs {
        if !out.contains(&config.subnet) {
            out.push(config.subnet.clone());
        }
    }
    out
}

/// `network ls`: every network, in id order.
pub fn list_networks(state: &ClusterState) -> Vec<&Network> {
    state.networks().values().collect()
}

/// `network inspect`: the network `query` names (id, name or id prefix).
pub fn find_network<'a>(state: &'a ClusterState, query: &str) -> Result<&'a Network, ControlError> {
    find_object(state.networks(), query)
}

/// `network rm`: deletes the network `query` names at the version read; refused with
/// [`ControlError::InUse`] naming the services attached to it (by their task template, or
/// by a virtual IP there: the ingress network) and then the tasks that still hold an address
/// on it.
pub fn remove_network(state: &ClusterState, query: &str) -> Result<ManagerWrites, ControlError> {
    let network = find_network(state, query)?;
    let mut users: Vec<ObjectRef> = state
        .services()
        .values()
        .filter(|s| {
            s.spec
                .task_template
                .networks
                .iter()
                .any(|c| c.target == network.id.as_str() || c.target == network.spec.name)
                || s.endpoint
                    .iter()
                    .flat_map(|e| &e.virtual_ips)
                    .any(|v| v.network_id == network.id)
        })
        .map(ObjectRef::service)
        .collect();
    users.extend(
        state
            .tasks()
            .values()
            .filter(|t| holds_addresses(t) && t.networks.iter().any(|a| a.network_id == network.id))
            .map(ObjectRef::task),
    );
    check_unused(ObjectRef::network(network), users)?;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::Network(ObjectWrite::Delete {
            id: network.id.as_str().to_owned(),
            expected_version: network.meta.version,
        })],
        membership: Vec::new(),
    })
}
