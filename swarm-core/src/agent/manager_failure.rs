//! How a call to a manager failed, as the agent's loop reports it.

use crate::manager::dispatcher::DispatcherError;

/// What went wrong with the call in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagerFailure {
    /// The manager could not be reached: connection refused or reset, TLS failure, transport
    /// closed. `reason` is the transport's message, for logs.
    Unreachable {
        /// The transport's message.
        reason: String,
    },
    /// No answer by the deadline of [`AgentAction::AwaitReply`](crate::agent::AgentAction).
    TimedOut,
    /// The manager answered with a refusal.
    Refused(DispatcherError),
}
