//! `GET /events?since=&until=&filters=`: the swarm-scope events, one JSON document per line.
//! With `since`, the kept events from then on come first (at most
//! [`MAX_EVENT_HISTORY`](crate::event_log::MAX_EVENT_HISTORY)); the stream then follows new
//! events until `until` (none: until the client goes away). An `until` in the past ends the
//! stream after the kept events.

use crate::api::logs::parse_unix_time;
use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::event::{DockerEvent, check_filters};
use crate::query::Filters;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::StatusCode;
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast;

/// `GET /events`.
pub(crate) fn stream(d: &Arc<Daemon>, r: &ApiRequest) -> Reply {
    let since = time_param(r, "since")?;
    let until = time_param(r, "until")?;
    let filters = r.query.filters()?;
    check_filters(&filters)?;
    let (history, live) = d.events.subscribe();
    let now = SystemTime::now();
    let past: Vec<DockerEvent> = match since {
        Some(since) => history
            .into_iter()
            .filter(|e| e.time >= since && until.is_none_or(|u| e.time <= u))
            .collect(),
        None => Vec::new(),
    };
    let past = futures::stream::iter(past);
    let body = match until {
        Some(u) if u <= now => encode(past.boxed(), filters),
        Some(u) => {
            let left = u.duration_since(now).unwrap_or(Duration::ZERO);
            let live = follow(live).take_until(tokio::time::sleep(left));
            encode(past.chain(live).boxed(), filters)
        }
        None => encode(past.chain(follow(live)).boxed(), filters),
    };
    let mut response = hyper::Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// `since`/`until`: a Unix time (`1700000000` or `1700000000.123456789`, what the CLI sends
/// for `--since 10m` or a date).
fn time_param(r: &ApiRequest, key: &str) -> Result<Option<SystemTime>, ApiError> {
    match r.query.get(key) {
        None | Some("") => Ok(None),
        Some(s) => parse_unix_time(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{key}: {s:?} is not a Unix time"))),
    }
}

/// The live events, skipping those a slow reader missed.
fn follow(
    live: broadcast::Receiver<DockerEvent>,
) -> impl futures::Stream<Item = DockerEvent> + Send {
    futures::stream::unfold(live, |mut live| async move {
        loop {
            match live.recv().await {
                Ok(e) => return Some((e, live)),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "an /events reader fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

fn encode(
    events: futures::stream::BoxStream<'static, DockerEvent>,
    filters: Filters,
) -> reply::Body {
    let lines = events
        .filter(move |e| futures::future::ready(e.matches(&filters)))
        .map(|e| {
            let mut line = e.to_json().to_string().into_bytes();
            line.push(b'\n');
            Ok::<_, Infallible>(Frame::data(Bytes::from(line)))
        });
    BodyExt::boxed_unsync(StreamBody::new(lines))
}
