//! The node's side of the log broker: it long-polls the leader (through the agent's manager
//! and session) for the subscriptions the node has a part in, and runs one publisher per
//! subscription, which reads the selected tasks' output and publishes it in bounded batches.

use crate::manager::logbroker::{
    LogMessage, LogSubscription, LogSubscriptionId, MAX_LOG_MESSAGES_PER_CALL,
    MAX_LOG_PUBLISH_BYTES,
};
use crate::model::TaskId;
use crate::node::agent_link::{self, AgentLink, call_at};
use crate::node::log_service::LOG_PUBLISH_WAIT;
use crate::node::log_sources::LogSources;
use crate::node::node::NodeShared;
use crate::node::task_log_reader::read_task_logs;
use crate::node::wire::{NodeCall, NodeReply, RefusalKind};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use swarm_store::fifo_watch as watch;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// Most lines waiting between a subscription's task readers and its publisher; a reader
/// waits when it is full. Worst case per subscription: this many lines of
/// [`MAX_LOG_LINE_BYTES`](crate::manager::logbroker::MAX_LOG_LINE_BYTES) (2 MiB).
pub const MAX_PENDING_LOG_LINES: usize = 128;

/// A running publisher; dropping it stops it and its readers.
struct Publisher(JoinHandle<()>);

impl Drop for Publisher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows the node's log subscriptions until the node stops: a publisher starts for each new
/// one and stops once the leader no longer lists it (it ended, was cancelled, or another
/// leader took over).
pub(crate) async fn log_publisher(shared: Arc<NodeShared>, sources: LogSources) {
    let mut links: watch::Receiver<Option<AgentLink>> = shared.agent_link.subscribe();
    let mut active: BTreeMap<LogSubscriptionId, Publisher> = BTreeMap::new();
    loop {
        let Some(link) = agent_link::current(&shared, &mut links).await else {
            return;
        };
        let call = NodeCall::LogSubscriptions {
            session: link.session,
            known: active.keys().cloned().collect(),
        };
        // As the assignment poll: the leader's bound, one more announced period, the request
        // timeout.
        let periods = crate::node::assignment_service::ASSIGNMENT_WAIT_PERIODS + 1;
        let timeout = Duration::from_millis(link.period_ms.saturating_mul(u64::from(periods)))
            + shared.config.agent.request_timeout;
        let answer = tokio::select! {
            biased;
            () = shared.stop.cancelled() => return,
            answer = call_at(&shared, &link.manager_node, &link.manager, &call, timeout) => answer,
        };
        match answer {
            Ok(NodeReply::LogSubscriptions(subscriptions)) => {
                let listed: BTreeSet<&LogSubscriptionId> =
                    subscriptions.iter().map(|s| &s.id).collect();
                active.retain(|id, _| listed.contains(id));
                for sub in subscriptions {
                    if active.contains_key(&sub.id) {
                        continue;
                    }
                    tracing::debug!(node = %shared.node_id, subscription = %sub.id, "publishing logs");
                    let id = sub.id.clone();
                    let task = tokio::spawn(publish(shared.clone(), sources.clone(), sub));
                    active.insert(id, Publisher(task));
                }
            }
            Ok(NodeReply::LogSubscriptionsUnchanged) => {}
            other => {
                tracing::debug!(node = %shared.node_id, manager = %link.manager, failure = %failure(&other), "log subscription poll failed");
                if !agent_link::retry_pause(&shared, &mut links).await {
                    return;
                }
            }
        }
    }
}

/// Publishes the node's part of `sub`: the selected tasks' output (and, when following, that
/// of tasks started later), then, when not following, closes the part.
async fn publish(shared: Arc<NodeShared>, sources: LogSources, sub: LogSubscription) {
    let (lines, mut incoming) = mpsc::channel::<LogMessage>(MAX_PENDING_LOG_LINES);
    let mut readers = JoinSet::new();
    let mut attached: BTreeSet<TaskId> = BTreeSet::new();
    let mut changes = sources.subscribe();
    changes.borrow_and_update();
    attach(&sources, &sub, &mut attached, &mut readers, &lines);
    // Not following, the channel closes once every reader has sent its task's output.
    let following = sub.request.follow.then_some(lines);
    let mut links = shared.agent_link.subscribe();
    let mut carry: Option<LogMessage> = None;
    loop {
        let first = match carry.take() {
            Some(line) => Some(line),
            None => tokio::select! {
                biased;
                () = shared.stop.cancelled() => return,
                changed = changes.changed(), if following.is_some() => {
                    if changed.is_ok() {
                        if let Some(lines) = &following {
                            attach(&sources, &sub, &mut attached, &mut readers, lines);
                        }
                    }
                    continue;
                }
                line = incoming.recv() => line,
            },
        };
        let Some(first) = first else {
            // Every task's output was sent: close the part.
            send(&shared, &mut links, &sub.id, Vec::new(), true).await;
            return;
        };
        let mut bytes = first.cost_bytes();
        let mut batch = vec![first];
        while batch.len() < MAX_LOG_MESSAGES_PER_CALL {
            let Ok(line) = incoming.try_recv() else {
                break;
            };
            if bytes + line.cost_bytes() > MAX_LOG_PUBLISH_BYTES {
                carry = Some(line);
                break;
            }
            bytes += line.cost_bytes();
            batch.push(line);
        }
        match send(&shared, &mut links, &sub.id, batch, false).await {
            Sent::Taken => {}
            Sent::Gone => return,
            Sent::Refused => {
                // End the part rather than leave the client waiting for it.
                send(&shared, &mut links, &sub.id, Vec::new(), true).await;
                return;
            }
        }
    }
}

/// Starts a reader for each selected task not read yet.
fn attach(
    sources: &LogSources,
    sub: &LogSubscription,
    attached: &mut BTreeSet<TaskId>,
    readers: &mut JoinSet<()>,
    lines: &mpsc::Sender<LogMessage>,
) {
    while readers.try_join_next().is_some() {}
    for source in sources.selected(&sub.selector) {
        if attached.insert(source.context.task.clone()) {
            readers.spawn(read_task_logs(source, sub.request.clone(), lines.clone()));
        }
    }
}

/// How a publication went.
enum Sent {
    /// The leader took it.
    Taken,
    /// The subscription is gone (or the node stops): stop publishing.
    Gone,
    /// The leader refused it (a rule, logged).
    Refused,
}

/// Publishes `messages` to subscription `id` through the agent's current manager, sending
/// them again while the subscription's buffer is full or the leader cannot be reached (until
/// the subscription ends or the node stops).
async fn send(
    shared: &NodeShared,
    links: &mut watch::Receiver<Option<AgentLink>>,
    id: &LogSubscriptionId,
    messages: Vec<LogMessage>,
    close: bool,
) -> Sent {
    loop {
        let Some(link) = agent_link::current(shared, links).await else {
            return Sent::Gone;
        };
        let call = NodeCall::PublishLogs {
            session: link.session,
            subscription: id.clone(),
            messages: messages.clone(),
            close,
        };
        let timeout = shared.config.agent.request_timeout + LOG_PUBLISH_WAIT;
        let answer = tokio::select! {
            biased;
            () = shared.stop.cancelled() => return Sent::Gone,
            answer = call_at(shared, &link.manager_node, &link.manager, &call, timeout) => answer,
        };
        match answer {
            Ok(NodeReply::LogsPublished { taken: true }) => return Sent::Taken,
            // The leader waited for room already: send again.
            Ok(NodeReply::LogsPublished { taken: false }) => {}
            Ok(NodeReply::Refused(r)) if r.kind == RefusalKind::NotFound => return Sent::Gone,
            Ok(NodeReply::Refused(r))
                if matches!(r.kind, RefusalKind::PermissionDenied | RefusalKind::Refused) =>
            {
                tracing::warn!(node = %shared.node_id, subscription = %id, "log publication refused: {r}");
                return Sent::Refused;
            }
            other => {
                tracing::debug!(node = %shared.node_id, subscription = %id, failure = %failure(&other), "log publication not taken; sent again");
                if !agent_link::retry_pause(shared, links).await {
                    return Sent::Gone;
                }
            }
        }
    }
}

/// Why a call did not get the answer it expected, for the logs.
fn failure(answer: &Result<NodeReply, crate::node::error::NodeError>) -> String {
    match answer {
        Ok(NodeReply::Refused(r)) => r.message.clone(),
        Ok(_) => "unexpected answer".to_owned(),
        Err(e) => e.to_string(),
    }
}
