//! The manager the node's agent talks to now, shared by the agent loop with the task runner.

use crate::manager::dispatcher::SessionId;
use crate::model::NodeId;
use crate::node::error::NodeError;
use crate::node::node::NodeShared;
use crate::node::peers::link_id;
use crate::node::wire::{NodeCall, NodeReply};
use std::time::Duration;
use swarm_store::fifo_watch as watch;

/// Wait before a task runner call that failed is tried again, unless the agent moves to
/// another manager or session first.
pub const AGENT_CALL_RETRY_DELAY: Duration = Duration::from_millis(250);

/// The agent's current manager and session (the [`AgentSession`](crate::agent::AgentSession)'s
/// choice), published after every answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AgentLink {
    /// The manager's address.
    pub(crate) manager: String,
    /// Its node id.
    pub(crate) manager_node: NodeId,
    /// The session.
    pub(crate) session: SessionId,
    /// The last announced heartbeat period.
    pub(crate) period_ms: u64,
}

/// Publishes the agent's link: receivers wake when the manager or the session changed (a new
/// period alone is recorded without waking them).
pub(crate) fn publish(links: &watch::Sender<Option<AgentLink>>, link: AgentLink) {
    links.send_if_modified(|current| {
        let moved = current
            .as_ref()
            .is_none_or(|c| c.manager != link.manager || c.session != link.session);
        *current = Some(link);
        moved
    });
}

/// The current link, waiting for the first one; `None` when the node stops.
pub(crate) async fn current(
    shared: &NodeShared,
    links: &mut watch::Receiver<Option<AgentLink>>,
) -> Option<AgentLink> {
    loop {
        if let Some(link) = links.borrow_and_update().clone() {
            return Some(link);
        }
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => return None,
            changed = links.changed() => changed.ok()?,
        }
    }
}

/// Waits until the link moves, [`AGENT_CALL_RETRY_DELAY`] passed or the node stops
/// (`false`).
pub(crate) async fn retry_pause(
    shared: &NodeShared,
    links: &mut watch::Receiver<Option<AgentLink>>,
) -> bool {
    tokio::select! {
        biased;
        () = shared.stop.cancelled() => false,
        _ = links.changed() => true,
        () = tokio::time::sleep(AGENT_CALL_RETRY_DELAY) => true,
    }
}

/// One call to manager `node` at `addr`, answered within `timeout`.
pub(crate) async fn call_at(
    shared: &NodeShared,
    node: &NodeId,
    addr: &str,
    call: &NodeCall,
    timeout: Duration,
) -> Result<NodeReply, NodeError> {
    let link = shared.link();
    let id = link_id(node);
    if !link.has_peer(id) {
        link.set_peer(id, addr, node).await?;
    }
    link.call_node(id, addr, call, timeout).await
}
