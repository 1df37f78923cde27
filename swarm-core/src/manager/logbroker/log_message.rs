//! One line of a task's output, with what `docker service logs` prints beside it.

use crate::model::{NodeId, ServiceId, TaskId};
use crate::runtime::LogStreamKind;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::SystemTime;

/// Longest line a message carries: a longer line arrives as several messages (Docker splits
/// its log lines at 16 KiB too).
pub const MAX_LOG_LINE_BYTES: usize = 16 * 1024;

/// What a message costs besides its line in the broker's byte accounting (its ids, stream and
/// timestamp; an over-estimate of their size).
pub const LOG_MESSAGE_OVERHEAD_BYTES: usize = 128;

/// Where a line comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogContext {
    /// The node that ran the task.
    pub node: NodeId,
    /// The task's service.
    pub service: ServiceId,
    /// The task.
    pub task: TaskId,
}

/// One line of a task's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMessage {
    /// Where it comes from.
    pub context: LogContext,
    /// Standard output or standard error.
    pub stream: LogStreamKind,
    /// When the runtime read it (the first piece of the line).
    pub timestamp: SystemTime,
    /// The line, without its newline (at most [`MAX_LOG_LINE_BYTES`]).
    pub line: Vec<u8>,
}

impl LogMessage {
    /// The line as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.line)
    }

    /// The bytes the broker counts for this message.
    pub fn cost_bytes(&self) -> usize {
        self.line.len() + LOG_MESSAGE_OVERHEAD_BYTES
    }

    /// The line as `docker service logs` prints it, ids in place of names:
    /// `<task>@<node>    | <line>`, after the RFC 3339 timestamp when `timestamps`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use swarm_core::manager::logbroker::{LogContext, LogMessage};
    /// use swarm_core::runtime::LogStreamKind;
    ///
    /// let message = LogMessage {
    ///     context: LogContext {
    ///         node: "n1".into(),
    ///         service: "s1".into(),
    ///         task: "t1".into(),
    ///     },
    ///     stream: LogStreamKind::Stdout,
    ///     timestamp: SystemTime::UNIX_EPOCH + Duration::from_millis(1_500),
    ///     line: b"ready".to_vec(),
    /// };
    /// assert_eq!(message.render(false), "t1@n1    | ready");
    /// assert_eq!(
    ///     message.render(true),
    ///     "1970-01-01T00:00:01.500000000Z t1@n1    | ready"
    /// );
    /// ```
    pub fn render(&self, timestamps: bool) -> String {
        let body = format!(
            "{}@{}    | {}",
            self.context.task,
            self.context.node,
            self.text()
        );
        if timestamps {
            format!("{} {body}", super::rfc3339_nanos(self.timestamp))
        } else {
            body
        }
    }
}
