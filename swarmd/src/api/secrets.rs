//! `/secrets`: create, ls (filters id, label, name, names), inspect, update (labels), rm. Data never leaves.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::mapping_error::from_body;
use crate::docker::secret::{self, DockerSecretSpec};
use crate::query::labels_match;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use swarm_core::model::Version;

/// `POST /secrets/create`: `{"ID": ...}` with 201.
pub(crate) async fn create(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let spec: DockerSecretSpec = from_body(&r.body)?;
    let spec = secret::spec_from_docker(spec)?;
    let id = d.control().await?.create_secret(&spec).await?;
    reply::json(StatusCode::CREATED, &json!({ "ID": id.as_str() }))
}

/// `GET /secrets?filters=`.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&["id", "label", "name", "names"])?;
    let labels = f.labels();
    let secrets = d.control().await?.secrets().await?;
    let out: Vec<Value> = secrets
        .iter()
        .filter(|s| {
            f.get("id").is_empty()
                || f.get("id")
                    .iter()
                    .any(|p| s.id.as_str().starts_with(p.as_str()))
        })
        .filter(|s| {
            f.get("name").is_empty() || f.get("name").iter().any(|n| s.name.starts_with(n.as_str()))
        })
        .filter(|s| f.get("names").is_empty() || f.get("names").contains(&s.name))
        .filter(|s| labels_match(&labels, &s.labels))
        .map(secret::to_docker)
        .collect();
    reply::ok(&out)
}

/// `GET /secrets/{id}`: by id, name or id prefix.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let s = d.control().await?.secret(id).await?;
    reply::ok(&secret::to_docker(&s))
}

/// `POST /secrets/{id}/update?version=`: the labels only, as dockerd (Docker's
/// `SecretSpec`; `Data` may be left out, and a name or data that differs is refused with 400:
/// "only updates to Labels are allowed"). 200 with no body.
pub(crate) async fn update(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let version = r
        .query
        .number("version")?
        .ok_or_else(|| ApiError::bad_request("version: the secret's version is required"))?;
    let spec: DockerSecretSpec = from_body(&r.body)?;
    let spec = secret::spec_from_docker(spec)?;
    d.control()
        .await?
        .update_secret(id, Version(version), &spec)
        .await?;
    reply::empty(StatusCode::OK)
}

/// `DELETE /secrets/{id}`: 204.
pub(crate) async fn remove(d: &Arc<Daemon>, id: &str) -> Reply {
    d.control().await?.remove_secret(id).await?;
    reply::empty(StatusCode::NO_CONTENT)
}
