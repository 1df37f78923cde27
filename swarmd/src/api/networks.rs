//! `/networks`: the cluster's overlay networks (create, ls, inspect, rm). Only scope `swarm`
//! exists: swarmd has no local networks (see `docker::network`).

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::mapping_error::from_body;
use crate::docker::network::{self, DockerNetworkCreate};
use crate::query::labels_match;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /networks/create`: `{"Id": ..., "Warning": ""}` with 201.
pub(crate) async fn create(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let req: DockerNetworkCreate = from_body(&r.body)?;
    let spec = network::spec_from_docker(req)?;
    let id = d.control().await?.create_network(&spec).await?;
    reply::json(
        StatusCode::CREATED,
        &json!({ "Id": id.as_str(), "Warning": "" }),
    )
}

/// `GET /networks?filters=`: id, label, name, driver, scope, type.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&["id", "label", "name", "driver", "scope", "type"])?;
    let labels = f.labels();
    let networks = d.control().await?.networks().await?;
    let scope_ok = f.get("scope").is_empty() || f.get("scope").iter().any(|s| s == "swarm");
    let type_ok = f.get("type").is_empty() || f.get("type").iter().any(|s| s == "custom");
    let out: Vec<Value> = networks
        .iter()
        .filter(|_| scope_ok && type_ok)
        .filter(|n| {
            f.get("id").is_empty()
                || f.get("id")
                    .iter()
                    .any(|p| n.id.as_str().starts_with(p.as_str()))
        })
        .filter(|n| {
            f.get("name").is_empty()
                || f.get("name")
                    .iter()
                    .any(|p| n.spec.name.contains(p.as_str()))
        })
        .filter(|n| f.get("driver").is_empty() || f.get("driver").contains(&n.spec.driver))
        .filter(|n| labels_match(&labels, &n.spec.labels))
        .map(network::to_docker)
        .collect();
    reply::ok(&out)
}

/// `GET /networks/{id}?scope=`: by id, name or id prefix.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let control = d.control().await?;
    let n = control.network(id).await.map_err(|e| {
        let e = ApiError::from(e);
        if e.status == StatusCode::NOT_FOUND {
            ApiError::not_found(format!("network {id} not found"))
        } else {
            e
        }
    })?;
    reply::ok(&network::to_docker(&n))
}

/// `DELETE /networks/{id}`: 204.
pub(crate) async fn remove(d: &Arc<Daemon>, id: &str) -> Reply {
    d.control().await?.remove_network(id).await?;
    reply::empty(StatusCode::NO_CONTENT)
}
