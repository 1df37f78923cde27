//! The agent's side of the cluster (SwarmKit's `agent/`), as sans-IO steps.
//!
//! [`AgentSession`] decides which manager to talk to, when to register and heartbeat, and what
//! to do when a manager fails: move to another one (weighted random choice, never the one that
//! just failed if another exists) after a bounded exponential backoff with jitter, and report
//! [`AgentSessionError::NoManagerReachable`], naming the managers tried, after
//! [`AgentSessionConfig::max_attempts`] failures in a row. Time and randomness are passed in;
//! the loop that sends the calls is separate.

mod backoff;
mod error;
mod manager_failure;
mod managers;
mod session;
mod session_config;

pub use backoff::Backoff;
pub use error::AgentSessionError;
pub use manager_failure::ManagerFailure;
pub use session::{AgentAction, AgentSession};
pub use session_config::{
    AgentSessionConfig, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_REQUEST_TIMEOUT,
};
