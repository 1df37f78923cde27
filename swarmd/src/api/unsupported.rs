//! What swarmd does not serve: a clear `{"message": ...}` with the right status.

use crate::api_error::ApiError;
use crate::reply::Reply;
use hyper::Method;

/// Parts of the Engine API about a local engine (containers, images, volumes...): 501.
const LOCAL_ENGINE: &[&str] = &[
    "containers",
    "images",
    "volumes",
    "build",
    "exec",
    "plugins",
    "commit",
    "auth",
    "system",
    "grpc",
];

/// The answer for a route swarmd does not serve.
pub(crate) fn answer(method: &Method, segs: &[&str]) -> Reply {
    let path = format!("/{}", segs.join("/"));
    match segs.first().copied() {
        Some("distribution") => Err(ApiError::not_implemented(format!(
            "swarmd does not resolve images on a registry ({path}); the image reference is kept as given"
        ))),
        Some(kind) if LOCAL_ENGINE.contains(&kind) => Err(ApiError::not_implemented(format!(
            "swarmd is a swarm-only daemon and runs no local engine: {method} {path} is not supported"
        ))),
        Some("swarm" | "nodes" | "services" | "tasks" | "secrets" | "configs" | "networks") => Err(
            ApiError::not_implemented(format!("{method} {path} is not supported by swarmd yet")),
        ),
        _ => Err(ApiError::not_found("page not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::StatusCode;

    #[test]
    fn local_engine_calls_are_501_with_a_message() {
        let e = answer(&Method::GET, &["containers", "json"]).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_IMPLEMENTED);
        assert!(e.message.contains("/containers/json"));
        let e = answer(&Method::GET, &["distribution", "busybox", "json"]).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            answer(&Method::GET, &["nothing"]).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }
}
