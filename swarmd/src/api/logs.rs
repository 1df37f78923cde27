//! `/services/{id}/logs` and `/tasks/{id}/logs`: Docker's multiplexed stream (an 8-byte
//! header per frame: stream 1 stdout or 2 stderr, three zero bytes, the length as a
//! big-endian u32), each line prefixed with its timestamp and details when asked.

use crate::api_error::ApiError;
use crate::daemon::Daemon;
use crate::docker::time_text::rfc3339;
use crate::reply::{self, Reply};
use crate::router::ApiRequest;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use swarm_core::manager::logbroker::{LogMessage, LogRequest};
use swarm_core::runtime::LogStreamKind;

/// `GET /services/{id}/logs`.
pub(crate) async fn service(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let (request, options) = read_options(r)?;
    let messages = d.control().await?.service_logs(id, &request).await?;
    answer(messages, options)
}

/// `GET /tasks/{id}/logs`.
pub(crate) async fn task(d: &Arc<Daemon>, id: &str, r: &ApiRequest) -> Reply {
    let (request, options) = read_options(r)?;
    let messages = d.control().await?.task_logs(id, &request).await?;
    answer(messages, options)
}

/// How each line is written.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LineOptions {
    stdout: bool,
    stderr: bool,
    timestamps: bool,
    details: bool,
}

fn read_options(r: &ApiRequest) -> Result<(LogRequest, LineOptions), ApiError> {
    let q = &r.query;
    let tail = match q.get("tail") {
        None | Some("" | "all") => None,
        Some(_) => q.number("tail")?,
    };
    let since = match q.get("since") {
        None | Some("" | "0") => None,
        Some(s) => Some(
            parse_unix_time(s)
                .ok_or_else(|| ApiError::bad_request(format!("since: {s:?} is not a Unix time")))?,
        ),
    };
    let options = LineOptions {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        timestamps: q.flag("timestamps"),
        details: q.flag("details"),
    };
    if !options.stdout && !options.stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let request = LogRequest {
        follow: q.flag("follow"),
        tail,
        since,
        timestamps: options.timestamps,
    };
    Ok((request, options))
}

/// `1700000000.123456789` (what the CLI sends for `--since`).
pub(crate) fn parse_unix_time(s: &str) -> Option<std::time::SystemTime> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let secs: u64 = secs.parse().ok()?;
    let frac = format!("{frac:0<9}");
    let nanos: u32 = frac.get(..9)?.parse().ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// One frame of the multiplexed stream.
pub(crate) fn frame(message: &LogMessage, options: LineOptions) -> Option<Bytes> {
    let stream_byte = match message.stream {
        LogStreamKind::Stdout if options.stdout => 1,
        LogStreamKind::Stderr if options.stderr => 2,
        _ => return None,
    };
    let mut payload = Vec::with_capacity(message.line.len() + 160);
    if options.timestamps {
        payload.extend_from_slice(rfc3339(message.timestamp).as_bytes());
        payload.push(b' ');
    }
    if options.details {
        let c = &message.context;
        payload.extend_from_slice(
            format!(
                "com.docker.swarm.node.id={},com.docker.swarm.service.id={},com.docker.swarm.task.id={} ",
                c.node, c.service, c.task
            )
            .as_bytes(),
        );
    }
    payload.extend_from_slice(&message.line);
    payload.push(b'\n');
    let len = u32::try_from(payload.len()).ok()?;
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[stream_byte, 0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    Some(Bytes::from(out))
}

fn answer(messages: swarm_core::node::LogMessages, options: LineOptions) -> Reply {
    let frames = messages
        .take_while(|m| {
            if let Err(e) = m {
                tracing::debug!(error = %e, "log stream ended");
            }
            futures::future::ready(m.is_ok())
        })
        .filter_map(move |m| futures::future::ready(m.ok().and_then(|m| frame(&m, options))))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    reply::stream(BodyExt::boxed_unsync(StreamBody::new(frames)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::manager::logbroker::LogContext;

    #[test]
    fn frames_carry_the_details_the_cli_needs() {
        let m = LogMessage {
            context: LogContext {
                node: "n1".into(),
                service: "s1".into(),
                task: "t1".into(),
            },
            stream: LogStreamKind::Stderr,
            timestamp: UNIX_EPOCH,
            line: b"hello".to_vec(),
        };
        let opts = LineOptions {
            stdout: true,
            stderr: true,
            timestamps: false,
            details: true,
        };
        let f = frame(&m, opts).unwrap();
        assert_eq!(f[0], 2);
        let len = u32::from_be_bytes([f[4], f[5], f[6], f[7]]) as usize;
        assert_eq!(len, f.len() - 8);
        let text = std::str::from_utf8(&f[8..]).unwrap();
        assert_eq!(
            text,
            "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello\n"
        );
        let only_stdout = LineOptions {
            stderr: false,
            ..opts
        };
        assert!(frame(&m, only_stdout).is_none());
    }

    #[test]
    fn since_is_a_unix_time() {
        assert_eq!(
            parse_unix_time("1700000000.5"),
            Some(UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000))
        );
        assert_eq!(parse_unix_time("x"), None);
    }
}
