//! The engine side of a task's networks: the local bridge networks are created when a task
//! needs them (idempotent, and safe against another creation of the same network at the same
//! time), the container joins them before it starts, and a network goes with the last container
//! that uses it.
//!
//! A network of the local name that swarm made for another cluster network or subnet and that
//! no container uses (a cluster that is gone left it) is replaced; one in use, or one made by
//! someone else, is refused ([`DockerError::NetworkConflict`]).
//!
//! Within one [`DockerRuntime`](crate::DockerRuntime) the steps that create, join or start on a
//! network share the runtime's [`NetworkLock`](crate::network_lock::NetworkLock) and a removal
//! takes it alone, so a task being started never sees its network removed by another task's
//! removal, while the tasks of one network are created and started at once. Between adapters sharing an engine the engine itself
//! arbitrates: a creation that loses a race finds the winner's network and checks it, and a
//! container whose network another adapter removed gets it back when it is started again.

use crate::error::DockerError;
use crate::labels::{LABEL_MANAGED, LABEL_NAMESPACE, LABEL_NETWORK_ID};
use crate::task_network::TaskNetwork;
use bollard::Docker;
use bollard::models::{NetworkConnectRequest, NetworkInspect};
use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder};
use std::collections::HashMap;
use std::time::Duration;

/// Most networks one orphan sweep removes.
const MAX_NETWORKS_PER_SWEEP: usize = 10_000;

/// The network named `name`, or `None` when there is none.
async fn inspect(docker: &Docker, name: &str) -> Result<Option<NetworkInspect>, DockerError> {
    match docker.inspect_network(name, None).await {
        Ok(info) => Ok(Some(info)),
        Err(e) => {
            let e = DockerError::from_bollard(format!("inspect network {name}"), e);
            if e.status() == Some(404) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Creations of one network tried when the engine refuses them, [`CREATE_RETRY_BACKOFF`] apart:
/// another creation of the same network at the same time makes the engine refuse ours (its
/// subnet is taken) before the winner's network can be inspected by name. Worst case, a network
/// that cannot be created fails after this many attempts (about one second).
const MAX_CREATE_ATTEMPTS: u32 = 5;
/// Pause between two creations of one network.
const CREATE_RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// Creates `net`'s local network unless it exists. An existing network (also one created by
/// someone else at the same time) is used when it carries the cluster network's id and the
/// allocated subnet; otherwise [`DockerError::NetworkConflict`] names it.
pub(crate) async fn ensure_network(
    docker: &Docker,
    net: &TaskNetwork,
    namespace: &str,
) -> Result<(), DockerError> {
    let mut attempt = 1;
    loop {
        if let Some(existing) = inspect(docker, &net.local_name).await? {
            let refused = match net.check_existing(&existing) {
                Ok(()) => return Ok(()),
                Err(refused) => refused,
            };
            // A network swarm made for another cluster network or subnet (a cluster that is
            // gone, an allocation that changed) and that no container uses any more is stale:
            // it is replaced. One in use, or not made by swarm, is refused.
            if attempt >= MAX_CREATE_ATTEMPTS || !remove_stale(docker, &existing, net).await? {
                return Err(refused);
            }
            attempt += 1;
            continue;
        }
        match docker.create_network(net.create_request(namespace)).await {
            Ok(resp) => {
                if !resp.warning.is_empty() {
                    tracing::warn!(network = %net.local_name, warning = %resp.warning, "engine warning");
                }
                tracing::info!(network = %net.local_name, subnet = %net.subnet, "created local network");
                return Ok(());
            }
            Err(e) => {
                let e = DockerError::from_bollard(
                    format!("create network {} (subnet {})", net.local_name, net.subnet),
                    e,
                );
                // A 4xx other than a conflict ("already exists", "pool overlaps") will not
                // change by retrying.
                let settles = matches!(e.status(), Some(403 | 409)) || e.is_retryable();
                if attempt >= MAX_CREATE_ATTEMPTS || !settles {
                    // A winner's network may be visible now.
                    return match inspect(docker, &net.local_name).await? {
                        Some(existing) => net.check_existing(&existing),
                        None => Err(e),
                    };
                }
                tracing::debug!(network = %net.local_name, attempt, error = %e, "creating the network failed; checking for a concurrent creation");
                attempt += 1;
                tokio::time::sleep(CREATE_RETRY_BACKOFF).await;
            }
        }
    }
}

/// Removes `existing`, the network holding `net`'s local name, if swarm made it
/// ([`LABEL_MANAGED`]) and no container is on it; returns whether it was removed.
async fn remove_stale(
    docker: &Docker,
    existing: &NetworkInspect,
    net: &TaskNetwork,
) -> Result<bool, DockerError> {
    let labels = existing.labels.as_ref();
    let made_by_swarm = labels
        .and_then(|l| l.get(LABEL_MANAGED))
        .is_some_and(|v| v == "true");
    let Some(id) = existing.id.as_deref().filter(|_| made_by_swarm) else {
        return Ok(false);
    };
    let removed = remove_unused(docker, id, &net.local_name).await?;
    if removed {
        let was_for = labels
            .and_then(|l| l.get(LABEL_NETWORK_ID))
            .map_or("no cluster network", String::as_str);
        tracing::warn!(network = %net.local_name, was_for, now_for = %net.network_id, "replaced a stale local network no container used");
    }
    Ok(removed)
}

/// [`ensure_network`] for each of `nets`.
pub(crate) async fn ensure_networks(
    docker: &Docker,
    nets: &[TaskNetwork],
    namespace: &str,
) -> Result<(), DockerError> {
    for net in nets {
        ensure_network(docker, net, namespace).await?;
    }
    Ok(())
}

/// The first of `nets` whose local network does not exist.
pub(crate) async fn missing_network<'a>(
    docker: &Docker,
    nets: &'a [TaskNetwork],
) -> Result<Option<&'a TaskNetwork>, DockerError> {
    for net in nets {
        if inspect(docker, &net.local_name).await?.is_none() {
            return Ok(Some(net));
        }
    }
    Ok(None)
}

/// Connects `container` to those of `nets` it is not on yet, each with its allocated address and
/// aliases. The container is created with the first network, so this connects the others; for
/// an adopted container it completes what an interrupted `prepare` left.
pub(crate) async fn connect_missing(
    docker: &Docker,
    container: &str,
    nets: &[TaskNetwork],
) -> Result<(), DockerError> {
    if nets.len() < 2 {
        // The only network is the container's network mode, given at create.
        return Ok(());
    }
    let info = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| DockerError::from_bollard(format!("inspect {container}"), e))?;
    let joined = info
        .network_settings
        .and_then(|s| s.networks)
        .unwrap_or_default();
    for net in nets.iter().filter(|n| !joined.contains_key(&n.local_name)) {
        let request = NetworkConnectRequest {
            container: container.to_owned(),
            endpoint_config: Some(net.endpoint()),
        };
        docker
            .connect_network(&net.local_name, request)
            .await
            .map_err(|e| {
                DockerError::from_bollard(
                    format!("connect {container} to network {}", net.local_name),
                    e,
                )
            })?;
    }
    Ok(())
}

/// Whether any container (running or not) is on the network `name`. A created container that
/// never ran is on it too, so a network is never taken from a task about to start.
async fn has_containers(docker: &Docker, name: &str) -> Result<bool, DockerError> {
    let filters = HashMap::from([("network", vec![name.to_owned()])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .limit(1)
        .filters(&filters)
        .build();
    let list = docker
        .list_containers(Some(opts))
        .await
        .map_err(|e| DockerError::from_bollard(format!("list containers on network {name}"), e))?;
    Ok(!list.is_empty())
}

/// Removes the network `id` (named `name`) unless a container is on it. A network that is gone
/// already, or that the engine finds in use (a container joined it meanwhile), is left alone.
/// Returns whether it was removed.
async fn remove_unused(docker: &Docker, id: &str, name: &str) -> Result<bool, DockerError> {
    if has_containers(docker, name).await? {
        return Ok(false);
    }
    match docker.remove_network(id).await {
        Ok(()) => {
            tracing::info!(network = %name, "removed local network: no container uses it");
            Ok(true)
        }
        Err(e) => {
            let e = DockerError::from_bollard(format!("remove network {name}"), e);
            match e.status() {
                // Gone already; in use ("has active endpoints": 403 before API 1.44, 409 since).
                Some(404 | 403 | 409) => {
                    tracing::debug!(network = %name, error = %e, "network not removed");
                    Ok(false)
                }
                _ => Err(e),
            }
        }
    }
}

/// Removes `net`'s local network if it is the cluster network's (by its label) and no container
/// uses it any more.
pub(crate) async fn remove_if_unused(
    docker: &Docker,
    net: &TaskNetwork,
) -> Result<(), DockerError> {
    let Some(info) = inspect(docker, &net.local_name).await? else {
        return Ok(());
    };
    let ours = info
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_NETWORK_ID))
        .is_some_and(|id| *id == net.network_id);
    let Some(id) = info.id.filter(|_| ours) else {
        return Ok(());
    };
    remove_unused(docker, &id, &net.local_name).await?;
    Ok(())
}

/// Removes every local network `namespace` created that no container uses any more; returns
/// their names.
pub(crate) async fn remove_unused_networks(
    docker: &Docker,
    namespace: &str,
) -> Result<Vec<String>, DockerError> {
    let filters = HashMap::from([(
        "label",
        vec![
            format!("{LABEL_MANAGED}=true"),
            format!("{LABEL_NAMESPACE}={namespace}"),
            LABEL_NETWORK_ID.to_owned(),
        ],
    )]);
    let opts = ListNetworksOptionsBuilder::default()
        .filters(&filters)
        .build();
    let networks = docker
        .list_networks(Some(opts))
        .await
        .map_err(|e| DockerError::from_bollard("list networks", e))?;
    let mut removed = Vec::new();
    for n in networks.into_iter().take(MAX_NETWORKS_PER_SWEEP) {
        let labels = n.labels.unwrap_or_default();
        // The filter already matched; check again rather than trust it blindly.
        if labels.get(LABEL_NAMESPACE).map(String::as_str) != Some(namespace)
            || !labels.contains_key(LABEL_NETWORK_ID)
        {
            continue;
        }
        let (Some(id), Some(name)) = (n.id, n.name) else {
            continue;
        };
        if remove_unused(docker, &id, &name).await? {
            removed.push(name);
        }
    }
    Ok(removed)
}
