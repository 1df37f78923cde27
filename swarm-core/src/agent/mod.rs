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

mod backoff;
mod error;
mod manager_failure;
mod managers;
mod session;
mod session_config;
mod template;

pub use backoff::Backoff;
pub use error::AgentSessionError;
pub use manager_failure::ManagerFailure;
pub use session::{AgentAction, AgentSession};
pub use session_config::{
    AgentSessionConfig, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_REQUEST_TIMEOUT,
};
pub use template::{
    MAX_EXPANDED_BYTES, MAX_PLACEHOLDERS_PER_TEXT, MAX_REPORTED_PLACEHOLDER_BYTES,
    MAX_TEMPLATE_BYTES, TemplateContext, TemplateError, expand_task_spec,
};
