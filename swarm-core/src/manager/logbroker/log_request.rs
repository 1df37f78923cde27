//! What a client asks of the logs it selected (`docker service logs` options).

use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The options of a logs request, as `docker service logs` takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRequest {
    /// Keep streaming new output, of the selected tasks running now and of those started
    /// later, until the client stops reading (`--follow`).
    pub follow: bool,
    /// Only the last `tail` lines of each task's output so far (`--tail`; `None`: all).
    pub tail: Option<u64>,
    /// Only lines read at or after this time (`--since`).
    pub since: Option<SystemTime>,
    /// Print each line's timestamp (`--timestamps`; see
    /// [`LogMessage::render`](super::LogMessage::render)). Messages always carry it.
    pub timestamps: bool,
}
