//! What the dispatcher answers an agent: the next period and the managers.

use crate::manager::dispatcher::node_status_write::NodeStatusWrite;
use crate::manager::dispatcher::session_id::SessionId;
use crate::manager::dispatcher::weighted_manager::WeightedManager;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The answer to a registration or a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// When to send the next heartbeat, counted from this answer: the cluster's period with
    /// jitter. The node is marked down if none arrives within `multiplier ×` this period.
    pub period_ms: u64,
    /// The current managers (at most [`MAX_MANAGERS`](crate::manager::dispatcher::MAX_MANAGERS)),
    /// shared between answers.
    pub managers: Arc<[WeightedManager]>,
}

/// The outcome of a successful registration: the session, the first answer, and the store
/// write that marks the node ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The new session; any older session of the node is no longer valid.
    pub session_id: SessionId,
    /// The first answer: when to heartbeat and the managers.
    pub reply: HeartbeatReply,
    /// The node's status write: ready, with the description and address it registered with.
    pub write: NodeStatusWrite,
}
