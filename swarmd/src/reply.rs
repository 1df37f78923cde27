//! Building responses: JSON bodies, the headers dockerd sends on every answer, errors.

use crate::api_error::ApiError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use std::convert::Infallible;

/// The API version swarmd speaks (dockerd 20.10's; newer CLIs negotiate down to it).
pub(crate) const API_VERSION: &str = "1.41";
/// The oldest API version accepted.
pub(crate) const MIN_API_VERSION: &str = "1.24";

/// A response body: a whole document or a stream (logs).
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The result of a handler.
pub(crate) type Reply = Result<Response<Body>, ApiError>;

/// A body from bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// Adds the headers dockerd sends on every answer.
pub(crate) fn with_headers(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert(
        "Server",
        HeaderValue::from_static(concat!("swarmd/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    r
}

fn response(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A JSON document.
pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    let bytes = serde_json::to_vec(value).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the answer: {e}"),
        )
    })?;
    Ok(response(status, "application/json", full(bytes)))
}

/// 200 with a JSON document.
pub(crate) fn ok(value: &impl serde::Serialize) -> Reply {
    json(StatusCode::OK, value)
}

/// A plain-text answer (`/_ping`).
pub(crate) fn text(status: StatusCode, body: &'static str) -> Reply {
    Ok(response(status, "text/plain; charset=utf-8", full(body)))
}

/// An answer without a body.
pub(crate) fn empty(status: StatusCode) -> Reply {
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = status;
    Ok(r)
}

/// A stream (Docker's multiplexed log stream).
pub(crate) fn stream(body: Body) -> Reply {
    Ok(response(
        StatusCode::OK,
        "application/vnd.docker.multiplexed-stream",
        body,
    ))
}

/// An error as dockerd answers it: the status and `{"message": "..."}`.
pub(crate) fn error(e: &ApiError) -> Response<Body> {
    let body = serde_json::json!({ "message": e.message });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    response(e.status, "application/json", full(bytes))
}
