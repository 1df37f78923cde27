//! The agent's side of the cluster (SwarmKit's `agent/`), as sans-IO steps.
//!
//! [`AgentSession`] decides which manager to talk to, when to register and heartbeat, and what
//! to do when a manager fails: move to another one (weighted random choice, never the one that
//! just failed if another exists) after a bounded exponential backoff with jitter, and report
//! [`AgentSessionError::NoManagerReachable`], naming the managers tried, after
//! [`AgentSessionConfig::max_attempts`] failures in a row. Time and randomness are passed in;
//! the loop that sends the calls is separate.
//!
//! [`expand_task_spec`] expands the Go-template placeholders of a task spec (`{{.Task.Slot}}`,
//! `{{.Node.Hostname}}`, ...) from a [`TemplateContext`] before the task reaches the runtime.
//! [`Worker`] decides what to do with the node's assignment set (start a task once its
//! secrets and configs are held, stop one desired shut down, remove one no longer assigned,
//! reject one whose secret cannot be delivered) and [`items_to_drop`] which held secrets and
//! configs no task needs any more; [`StatusQueue`] holds the task status reports until the
//! leader acknowledged them, coalesced per task. [`LogLineSplitter`] cuts a task's output
//! into log lines for the log broker; [`select_history`] keeps what `--since` and `--tail`
//! ask of the output so far.

mod assigned_set;
mod backoff;
mod error;
mod log_lines;
mod manager_failure;
mod managers;
mod session;
mod session_config;
mod status_queue;
mod template;
mod worker;

pub use assigned_set::{AssignedSet, AssignedSetError};
pub use backoff::Backoff;
pub use error::AgentSessionError;
pub use log_lines::{LogLineSplitter, is_since, select_history};
pub use manager_failure::ManagerFailure;
pub use session::{AgentAction, AgentSession};
pub use session_config::{
    AgentSessionConfig, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_REQUEST_TIMEOUT,
};
pub use status_queue::{MAX_PENDING_STATUSES, StatusQueue, StatusSend};
pub use template::{
    MAX_EXPANDED_BYTES, MAX_PLACEHOLDERS_PER_TEXT, MAX_REPORTED_PLACEHOLDER_BYTES,
    MAX_TEMPLATE_BYTES, TemplateContext, TemplateError, expand_task_spec,
};
pub use worker::{MESSAGE_TASK_LOST, Worker, WorkerAction, items_to_drop, task_items};
