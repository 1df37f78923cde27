//! `/nodes`: ls with filters, inspect, update, rm.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::mapping_error::from_body;
use crate::docker::node::{self, DockerNodeSpec};
use crate::docker::tls_info::tls_info;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use hyper::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use swarm_core::manager::control::{NodeFilter, NodeUpdate};
use swarm_core::model::{NodeMembership, NodeRole, Version};

/// `GET /nodes?filters=`: id, label, membership, name, role.
pub(crate) async fn list(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let f = r.query.filters()?;
    f.only(&["id", "label", "membership", "name", "role"])?;
    let mut filter = NodeFilter {
        id_prefixes: f.get("id").to_vec(),
        names: f.get("name").to_vec(),
        labels: f.labels(),
        ..NodeFilter::default()
    };
    for role in f.get("role") {
        filter.roles.push(match role.as_str() {
            "manager" => NodeRole::Manager,
            "worker" => NodeRole::Worker,
            other => {
                return Err(ApiError::bad_request(format!(
                    "invalid filter 'role={other}'"
                )));
            }
        });
    }
    for m in f.get("membership") {
        filter.memberships.push(match m.as_str() {
            "accepted" => NodeMembership::Accepted,
            "pending" => NodeMembership::Pending,
            other => {
                return Err(ApiError::bad_request(format!(
                    "invalid filter 'membership={other}'"
                )));
            }
        });
    }
    let nodes = d.control().await?.nodes(&filter).await?;
    let tls = d.root_ca_der().await.as_deref().and_then(tls_info);
    let out: Vec<Value> = nodes
        .iter()
        .map(|n| node::to_docker(n, tls.as_ref()))
        .collect();
    reply::ok(&out)
}

/// `GET /nodes/{id}`: by id, name or id prefix.
pub(crate) async fn inspect(d: &Arc<Daemon>, id: &str) -> Reply {
    let n = d.control().await?.node(id).await?;
    let tls = d.root_ca_der().await.as_deref().and_then(tls_info);
    reply::ok(&node::to_docker(&n, tls.as_ref()))
}

/// `POST /nodes/{id}/update?version=`: the whole spec.
pub(crate) async fn update(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let version = r
        .query
        .number("version")?
        .ok_or_else(|| ApiError::bad_request("version: the node version is required"))?;
    let spec: DockerNodeSpec = from_body(&r.body)?;
    let spec = node::spec_from_docker(&spec)?;
    let control = d.control().await?;
    let current = control.node(id).await?;
    if spec.role != current.spec.role {
        // A role change goes through the promotion rules (quorum, certificate renewal).
        let mut rest = spec.clone();
        rest.role = current.spec.role;
        if rest != current.spec {
            control
                .update_node(
                    id,
                    NodeUpdate {
                        version: Version(version),
                        spec: rest,
                    },
                )
                .await?;
        }
        match spec.role {
            NodeRole::Manager => control.promote(id).await?,
            NodeRole::Worker => control.demote(id).await?,
        }
    } else {
        control
            .update_node(
                id,
                NodeUpdate {
                    version: Version(version),
                    spec,
                },
            )
            .await?;
    }
    reply::empty(StatusCode::OK)
}

/// `DELETE /nodes/{id}?force=`.
pub(crate) async fn remove(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    d.control()
        .await?
        .remove_node(id, r.query.flag("force"))
        .await?;
    reply::empty(StatusCode::OK)
}
