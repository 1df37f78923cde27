//! Tasks in `New`: their network attachments, then `Pending`.

use crate::manager::allocator::address_book::AddressBook;
use crate::manager::allocator::allocate::NetworkSubnets;
use crate::manager::allocator::endpoint_allocation::ServiceEndpoints;
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::by_id_or_name;
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{Endpoint, NetworkAttachment, Service, Task, TaskState, TaskStatus};
use std::time::SystemTime;

/// The message of a task the allocator moved to `Pending` (SwarmKit's).
pub const PENDING_MESSAGE: &str = "pending task scheduling";

/// Gives every task in `New` (desired state not past `Complete`) its attachments and its
/// service's endpoint and moves it to `Pending`, or records why not in `status.err` (once per
/// reason).
pub(crate) fn allocate_tasks(
    state: &ClusterState,
    subnets: &NetworkSubnets,
    endpoints: &ServiceEndpoints,
    book: &mut AddressBook,
    now: SystemTime,
    writes: &mut Vec<ManagerWrite>,
) {
    let waiting = state
        .tasks()
        .values()
        .filter(|t| t.status.state == TaskState::New && t.desired_state <= TaskState::Complete);
    for task in waiting {
        let Some(service) = state.service(&task.service_id) else {
            // The service is gone: the orchestrators remove its tasks.
            continue;
        };
        let outcome = match (
            endpoints.errors.get(&service.id),
            endpoints.ready.get(&service.id),
        ) {
            (Some(reason), _) => Err(format!("service {:?}: {reason}", service.spec.name)),
            (None, Some(endpoint)) => attachments(state, subnets, service, endpoint, task, book),
            // Every service is either allocated or refused by the endpoint pass.
            (None, None) => continue,
        };
        let mut changed = task.clone();
        match outcome {
            Ok(networks) => {
                changed.networks = networks;
                changed.endpoint = endpoints.ready.get(&service.id).cloned();
                changed.status = TaskStatus::new(TaskState::Pending, now, PENDING_MESSAGE);
            }
            Err(reason) => {
                if task.status.err.as_deref() == Some(reason.as_str()) {
                    continue;
                }
                changed.status.err = Some(reason);
            }
        }
        changed.meta.updated_at = now;
        writes.push(ManagerWrite::Task(ObjectWrite::Update {
            object: changed,
            expected_version: task.meta.version,
        }));
    }
}

/// One attachment per network of the task's spec, then the ingress network's when the
/// service has a virtual IP there. On `Err` the book is as before.
fn attachments(
    state: &ClusterState,
    subnets: &NetworkSubnets,
    service: &Service,
    endpoint: &Endpoint,
    task: &Task,
    book: &mut AddressBook,
) -> Result<Vec<NetworkAttachment>, String> {
    let mut out: Vec<NetworkAttachment> = Vec::new();
    let mut wanted = Vec::new();
    for config in &task.spec.networks {
        let Some(network) = by_id_or_name(state.networks(), &config.target) else {
            return Err(format!("network {:?} not found", config.target));
        };
        let mut aliases = vec![service.spec.name.clone()];
        aliases.extend(config.aliases.iter().cloned());
        wanted.push((network, aliases));
    }
    for vip in &endpoint.virtual_ips {
        if let Some(network) = state.networks().get(&vip.network_id) {
            if network.spec.ingress && wanted.iter().all(|(n, _)| n.id != network.id) {
                wanted.push((network, Vec::new()));
            }
        }
    }
    for (network, aliases) in wanted {
        let failure = if !book.has_network(&network.id) {
            let why = subnets
                .errors
                .get(&network.id)
                .map_or("it is not allocated yet", String::as_str);
            Some(format!(
                "network {:?} has no subnet: {why}",
                network.spec.name
            ))
        } else {
            match book.claim(&network.id) {
                Some(addr) => {
                    out.push(NetworkAttachment {
                        network_id: network.id.clone(),
                        network_name: network.spec.name.clone(),
                        addresses: vec![addr],
                        aliases,
                    });
                    None
                }
                None => Some(format!(
                    "network {:?}: no free address in {}",
                    network.spec.name,
                    book.subnets(&network.id)
                )),
            }
        };
        if let Some(reason) = failure {
            for attachment in &out {
                for addr in &attachment.addresses {
                    book.release(&attachment.network_id, addr);
                }
            }
            return Err(reason);
        }
    }
    Ok(out)
}
