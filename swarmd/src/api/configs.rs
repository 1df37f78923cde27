//! `/configs`: create, ls (filters id, label, name, names), inspect, update (labels), rm.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::config::{self, DockerConfigSpec};
use crate::docker::mapping_error::from_body;
use crate::query::labels_match;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use swarm_core::model::Version;

/// `POST /configs/create`: `{"ID": ...}` with 201.
pub(crate) async fn create(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let spec: DockerConfigSpec = from_body(&r.body)?;
    let spec = config::spec_from_docker(spec)?;
    let id = d.control().await?.create_config(&spec).await?;
    reply::json(StatusCode::CREATED, &json!({ "ID": id.as_str() }))
}

/// `GET /configs?filters=`.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&["id", "label", "name", "names"])?;
    let labels = f.labels();
    let configs = d.control().await?.configs().await?;
    let out: Vec<Value> = configs
        .iter()
        .filter(|c| {
            f.get("id").is_empty()
                || f.get("id")
                    .iter()
                    .any(|p| c.id.as_str().starts_with(p.as_str()))
        })
        .filter(|c| {
            f.get("name").is_empty()
                || f.get("name")
                    .iter()
                    .any(|n| c.spec.name.starts_with(n.as_str()))
        })
        .filter(|c| f.get("names").is_empty() || f.get("names").contains(&c.spec.name))
        .filter(|c| labels_match(&labels, &c.spec.labels))
        .map(config::to_docker)
        .collect();
    reply::ok(&out)
}

/// `GET /configs/{id}`: by id, name or id prefix.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let c = d.control().await?.config(id).await?;
    reply::ok(&config::to_docker(&c))
}

/// `POST /configs/{id}/update?version=`: the labels only, as dockerd (Docker's
/// `ConfigSpec`; `Data` may be left out, and a name or data that differs is refused with 400:
/// "only updates to Labels are allowed"). 200 with no body.
pub(crate) async fn update(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let version = r
        .query
        .number("version")?
        .ok_or_else(|| ApiError::bad_request("version: the config's version is required"))?;
    let spec: DockerConfigSpec = from_body(&r.body)?;
    let spec = config::spec_from_docker(spec)?;
    d.control()
        .await?
        .update_config(id, Version(version), &spec)
        .await?;
    reply::empty(StatusCode::OK)
}

/// `DELETE /configs/{id}`: 204.
pub(crate) async fn remove(d: &Arc<Daemon>, id: &str) -> Reply {
    d.control().await?.remove_config(id).await?;
    reply::empty(StatusCode::NO_CONTENT)
}
