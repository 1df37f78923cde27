//! Routing: the optional `/v1.NN` prefix, then method and path to a handler.

use crate::api;
use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::query::Query;
use crate::reply::{self, API_VERSION, Body, Reply};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use std::sync::Arc;

/// Largest request body read: 8 MiB (a config is at most 1000 KiB, 1.4 MB in base64; a
/// service spec a few KiB). A larger body is refused with 413.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A request as the handlers see it.
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// The path without the version prefix, split on `/` (`["services", "web", "update"]`).
    pub(crate) segments: Vec<String>,
    pub(crate) query: Query,
    pub(crate) body: Bytes,
}

/// Serves one request; every answer carries dockerd's headers.
pub(crate) async fn handle(daemon: Arc<Daemon>, req: Request<Incoming>) -> Response<Body> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let reply = match read(req).await {
        Ok(req) => route(&daemon, req).await,
        Err(e) => Err(e),
    };
    let response = match reply {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%method, %path, status = %e.status, message = %e.message, "refused");
            reply::error(&e)
        }
    };
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_ms, "served");
    reply::with_headers(response)
}

async fn read(req: Request<Incoming>) -> Result<ApiRequest, ApiError> {
    let (parts, body) = req.into_parts();
    let (version, path) = split_version(parts.uri.path());
    if let Some(v) = version {
        check_version(v)?;
    }
    let body = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            ApiError::new(
                hyper::StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body: {e}"),
            )
        })?
        .to_bytes();
    Ok(ApiRequest {
        method: parts.method,
        segments: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        query: Query::parse(parts.uri.query()),
        body,
    })
}

/// `/v1.41/nodes` → (`Some("1.41")`, `/nodes`).
pub(crate) fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let (v, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return (Some(v), if tail.is_empty() { "/" } else { tail });
        }
    }
    (None, path)
}

fn version_number(v: &str) -> (u32, u32) {
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

fn check_version(v: &str) -> Result<(), ApiError> {
    if version_number(v) > version_number(API_VERSION) {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if version_number(v) < version_number(reply::MIN_API_VERSION) {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
            reply::MIN_API_VERSION
        )));
    }
    Ok(())
}

async fn route(d: &Arc<Daemon>, r: ApiRequest) -> Reply {
    let segs: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    let m = &r.method;
    match (m.as_str(), segs.as_slice()) {
        ("GET" | "HEAD", ["_ping"]) => api::system::ping(),
        ("GET", ["version"]) => api::system::version(),
        ("GET", ["info"]) => api::system::info(d).await,
        ("GET", ["events"]) => api::events::stream(d, &r),
        ("GET", ["swarm"]) => api::swarm::inspect(d).await,
        ("POST", ["swarm", "init"]) => api::swarm::init(d, &r).await,
        ("POST", ["swarm", "join"]) => api::swarm::join(d, &r).await,
        ("POST", ["swarm", "leave"]) => api::swarm::leave(d, &r).await,
        ("POST", ["swarm", "update"]) => api::swarm::update(d, &r).await,
        ("GET", ["swarm", "unlockkey"]) => api::swarm::unlock_key(d).await,
        ("POST", ["swarm", "unlock"]) => api::swarm::unlock(d, &r).await,
        ("GET", ["nodes"]) => api::nodes::list(d, &r).await,
        ("GET", ["nodes", id]) => api::nodes::inspect(d, id).await,
        ("POST", ["nodes", id, "update"]) => api::nodes::update(d, id, &r).await,
        ("DELETE", ["nodes", id]) => api::nodes::remove(d, id, &r).await,
        ("GET", ["services"]) => api::services::list(d, &r).await,
        ("POST", ["services", "create"]) => api::services::create(d, &r).await,
        ("GET", ["services", id]) => api::services::inspect(d, id).await,
        ("POST", ["services", id, "update"]) => api::services::update(d, id, &r).await,
        ("DELETE", ["services", id]) => api::services::remove(d, id).await,
        ("GET", ["services", id, "logs"]) => api::logs::service(d, id, &r).await,
        ("GET", ["tasks"]) => api::tasks::list(d, &r).await,
        ("GET", ["tasks", id]) => api::tasks::inspect(d, id).await,
        ("GET", ["tasks", id, "logs"]) => api::logs::task(d, id, &r).await,
        ("GET", ["secrets"]) => api::secrets::list(d, &r).await,
        ("POST", ["secrets", "create"]) => api::secrets::create(d, &r).await,
        ("GET", ["secrets", id]) => api::secrets::inspect(d, id).await,
        ("POST", ["secrets", id, "update"]) => api::secrets::update(d, id, &r).await,
        ("DELETE", ["secrets", id]) => api::secrets::remove(d, id).await,
        ("GET", ["configs"]) => api::configs::list(d, &r).await,
        ("POST", ["configs", "create"]) => api::configs::create(d, &r).await,
        ("GET", ["configs", id]) => api::configs::inspect(d, id).await,
        ("POST", ["configs", id, "update"]) => api::configs::update(d, id, &r).await,
        ("DELETE", ["configs", id]) => api::configs::remove(d, id).await,
        ("GET", ["networks"]) => api::networks::list(d, &r).await,
        ("POST", ["networks", "create"]) => api::networks::create(d, &r).await,
        ("GET", ["networks", id]) => api::networks::inspect(d, id).await,
        ("DELETE", ["networks", id]) => api::networks::remove(d, id).await,
        _ => api::unsupported::answer(m, &segs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix_is_optional() {
        assert_eq!(split_version("/v1.41/nodes"), (Some("1.41"), "/nodes"));
        assert_eq!(split_version("/nodes"), (None, "/nodes"));
        assert_eq!(split_version("/v1.24"), (Some("1.24"), "/"));
        assert_eq!(split_version("/volumes"), (None, "/volumes"));
    }

    #[test]
    fn newer_clients_are_told_to_negotiate() {
        assert!(check_version("1.41").is_ok());
        assert!(check_version("1.24").is_ok());
        let e = check_version("1.47").unwrap_err();
        assert!(e.message.contains("too new"), "{}", e.message);
        assert!(check_version("1.12").is_err());
    }
}
