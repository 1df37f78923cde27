//! `/swarm`: inspect, init, join, leave, update, unlock key, unlock.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::cluster::{
    self, DockerInitRequest, DockerJoinRequest, DockerSwarmSpec, DockerUnlockRequest,
};
use crate::docker::mapping_error::from_body;
use crate::docker::tls_info::tls_info;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::json;
use std::sync::Arc;
use swarm_core::manager::control::ClusterUpdate;
use swarm_core::model::{ClusterSpec, NodeRole, Version};

/// `GET /swarm`: the cluster with its join tokens and `TLSInfo` (the root CA this node's
/// certificate comes from).
pub(crate) async fn inspect(d: &Arc<Daemon>) -> Reply {
    let c = d.control().await?.cluster().await?;
    let mut v = cluster::to_docker(&c, true);
    if let Some(tls) = d.root_ca_der().await.as_deref().and_then(tls_info) {
        v["TLSInfo"] = tls;
    }
    reply::ok(&v)
}

/// `POST /swarm/init`: the new node's id, as a JSON string. With `ForceNewCluster` on a
/// manager: the node restarts as the only manager of its cluster (its id).
pub(crate) async fn init(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let req: DockerInitRequest = from_body(&r.body)?;
    cluster::check_init(&req)?;
    if req.force_new_cluster {
        if let Some(id) = d.force_new_cluster().await? {
            // The request's spec over the cluster's, as dockerd merges it at init; autolock is
            // kept on (the CLI sends it off unless `--autolock` is given).
            let control = d.control().await?;
            let current = control.cluster().await?;
            let mut spec = cluster::spec_from_docker(&req.spec, &current.spec)?;
            spec.encryption.auto_lock_managers =
                current.spec.encryption.auto_lock_managers || req.auto_lock_managers;
            if spec != current.spec {
                control
                    .update_cluster(ClusterUpdate {
                        version: current.meta.version,
                        spec,
                    })
                    .await?;
            }
            return reply::ok(&id);
        }
    }
    let mut spec = cluster::spec_from_docker(&req.spec, &ClusterSpec::default())?;
    spec.encryption.auto_lock_managers |= req.auto_lock_managers;
    let availability = cluster::availability_from_docker(&req.availability)?;
    let addrs = d.addresses(&req.listen_addr, &req.advertise_addr)?;
    let id = d.init(addrs, availability, spec).await?;
    reply::ok(&id)
}

/// `POST /swarm/join`.
pub(crate) async fn join(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let req: DockerJoinRequest = from_body(&r.body)?;
    crate::docker::unmodeled::require_default("DataPathAddr", req.data_path_addr.as_ref(), &[])
        .map_err(ApiError::from)?;
    let availability = cluster::availability_from_docker(&req.availability)?;
    let addrs = d.addresses(&req.listen_addr, &req.advertise_addr)?;
    d.join(addrs, availability, &req.remote_addrs, &req.join_token)
        .await?;
    reply::empty(StatusCode::OK)
}

/// `POST /swarm/leave?force=`.
pub(crate) async fn leave(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    d.leave(r.query.flag("force")).await?;
    reply::empty(StatusCode::OK)
}

/// `POST /swarm/update?version=&rotateWorkerToken=&rotateManagerToken=&rotateManagerUnlockKey=`.
pub(crate) async fn update(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let version = r
        .query
        .number("version")?
        .ok_or_else(|| ApiError::bad_request("version: the cluster version is required"))?;
    let control = d.control().await?;
    let req: DockerSwarmSpec = from_body(&r.body)?;
    let current = control.cluster().await?;
    let spec = cluster::spec_from_docker(&req, &current.spec)?;
    if spec != current.spec || version != current.meta.version.index() {
        control
            .update_cluster(ClusterUpdate {
                version: Version(version),
                spec,
            })
            .await?;
    }
    if r.query.flag("rotateWorkerToken") {
        control.rotate_join_token(NodeRole::Worker).await?;
    }
    if r.query.flag("rotateManagerToken") {
        control.rotate_join_token(NodeRole::Manager).await?;
    }
    if r.query.flag("rotateManagerUnlockKey") {
        control.rotate_unlock_key().await?;
    }
    reply::empty(StatusCode::OK)
}

/// `GET /swarm/unlockkey`.
pub(crate) async fn unlock_key(d: &Arc<Daemon>) -> Reply {
    let key = d.control().await?.unlock_key().await?;
    reply::ok(&json!({ "UnlockKey": key.as_deref().map(String::as_str).unwrap_or("") }))
}

/// `POST /swarm/unlock` with `{"UnlockKey": "SWMKEY-1-..."}`: the autolocked manager starts.
pub(crate) async fn unlock(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let req: DockerUnlockRequest = from_body(&r.body)?;
    d.unlock(&req.unlock_key).await?;
    reply::empty(StatusCode::OK)
}
