//! One task's output for one log subscription: its history, trimmed as the request asks,
//! then, when following, its new lines as they come.

use crate::agent::{LogLineSplitter, is_since, select_history};
use crate::manager::logbroker::{LogMessage, LogRequest};
use crate::node::log_sources::LogSource;
use crate::runtime::{DEFAULT_LOG_BUFFER_BYTES, LogOptions};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

/// Most bytes of output read as the task's history, which `--since` and `--tail` trim:
/// twice the buffer a shipped runtime keeps per task (the buffered output, and what its
/// followers' channel may hold). Output past it is passed on as new output.
pub const MAX_LOG_HISTORY_BYTES: usize = 2 * DEFAULT_LOG_BUFFER_BYTES;

/// Sends `source`'s lines to `lines` as `request` asks, until its output ends (not
/// following: the buffered output), the receiver is gone or the reader is aborted.
///
/// The history is the whole buffered output when not following; when following, it is what
/// the controller's stream yields without waiting (a [`LogBuffer`](crate::runtime::LogBuffer)
/// yields its buffered output at once), and only it is trimmed by `tail`. A task whose
/// controller does not exist yet is waited for when following, skipped otherwise.
pub(crate) async fn read_task_logs(
    source: LogSource,
    request: LogRequest,
    lines: mpsc::Sender<LogMessage>,
) {
    let task = source.context.task.clone();
    let mut shared = source.controller.clone();
    let controller = if request.follow {
        match shared.wait_for(Option::is_some).await {
            Ok(c) => c.clone(),
            Err(_) => return,
        }
    } else {
        shared.borrow().clone()
    };
    let Some(controller) = controller else {
        return;
    };
    let options = LogOptions {
        follow: request.follow,
        tail_bytes: None,
    };
    let opened = controller.logs(options).await;
    // The stream does not need the controller: do not keep a removed task's alive.
    drop(controller);
    let mut stream = match opened {
        Ok(stream) => stream,
        Err(e) => {
            tracing::warn!(%task, error = %e, "cannot read the task's logs");
            return;
        }
    };
    let mut splitter = LogLineSplitter::new(source.context);
    let mut history = Vec::new();
    let mut history_bytes = 0usize;
    let mut ended = false;
    while history_bytes < MAX_LOG_HISTORY_BYTES {
        let next = if request.follow {
            match stream.next().now_or_never() {
                Some(next) => next,
                None => break,
            }
        } else {
            stream.next().await
        };
        let Some(chunk) = next else {
            ended = true;
            break;
        };
        history_bytes += chunk.data.len();
        history.extend(splitter.push(&chunk));
    }
    if ended {
        history.extend(splitter.finish());
    }
    for line in select_history(history, &request) {
        if lines.send(line).await.is_err() {
            return;
        }
    }
    if ended {
        return;
    }
    while let Some(chunk) = stream.next().await {
        for line in splitter.push(&chunk) {
            if is_since(&line, &request) && lines.send(line).await.is_err() {
                return;
            }
        }
    }
    for line in splitter.finish() {
        if is_since(&line, &request) && lines.send(line).await.is_err() {
            return;
        }
    }
}
