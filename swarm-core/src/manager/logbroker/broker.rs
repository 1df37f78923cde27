//! The log broker: subscriptions, their parts per node, their bounded buffers.

use super::subscription::{Part, Subscription};
use super::{
    LogBatch, LogBrokerError, LogMessage, LogRequest, LogSelector, LogSubscription,
    LogSubscriptionId, MAX_LOG_LINE_BYTES, MAX_LOG_SELECTOR_IDS, PublishOutcome,
};
use crate::manager::ca_server::{MAX_ID_DRAWS, random_id};
use crate::manager::cluster_state::ClusterState;
use crate::model::{NodeId, NodeState, Task, TaskState};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Most subscriptions the broker holds at once. Worst case memory: this many times
/// [`MAX_BUFFERED_LOG_BYTES`] (32 MiB).
pub const MAX_LOG_SUBSCRIPTIONS: usize = 128;

/// Most bytes (lines plus [`LOG_MESSAGE_OVERHEAD_BYTES`](super::LOG_MESSAGE_OVERHEAD_BYTES)
/// each) a subscription buffers for its client: 256 KiB. A publication that does not fit
/// waits.
pub const MAX_BUFFERED_LOG_BYTES: usize = 256 * 1024;

/// Most messages a subscription buffers for its client (as many as the byte bound allows at
/// the smallest message).
pub const MAX_BUFFERED_LOG_MESSAGES: usize =
    MAX_BUFFERED_LOG_BYTES / super::LOG_MESSAGE_OVERHEAD_BYTES;

/// Most messages one publication carries.
pub const MAX_LOG_MESSAGES_PER_CALL: usize = 256;

/// Most bytes (counted as in [`MAX_BUFFERED_LOG_BYTES`]) one publication carries: 64 KiB,
/// room for four lines of the longest kind.
pub const MAX_LOG_PUBLISH_BYTES: usize = 64 * 1024;

/// Most messages one read returns (its bytes are bounded by the buffer's).
pub const MAX_LOG_MESSAGES_PER_READ: usize = 1024;

/// Most reasons an end lists; the rest are counted in one more line.
pub const MAX_LOG_END_REASONS: usize = 16;

/// The shortest silence after which a node's open part fails: a node polls for its
/// subscriptions at least every long-poll bound (1 s by default), so a live node is never this
/// silent. The leader raises it with a longer heartbeat period
/// ([`LogBroker::set_node_silence_timeout`]).
pub const LOG_NODE_SILENCE_TIMEOUT: Duration = Duration::from_secs(5);

/// A subscription whose client has not read for this long is dropped (a client that went
/// away without cancelling; a reader polls at least every few seconds).
pub const LOG_READER_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

// A publication always fits an empty buffer, and the longest line fits a publication.
const _: () = assert!(MAX_LOG_PUBLISH_BYTES <= MAX_BUFFERED_LOG_BYTES);
const _: () = assert!(MAX_LOG_MESSAGES_PER_CALL <= MAX_BUFFERED_LOG_MESSAGES);
const _: () =
    assert!(MAX_LOG_LINE_BYTES + super::LOG_MESSAGE_OVERHEAD_BYTES <= MAX_LOG_PUBLISH_BYTES);

/// The leader's log subscriptions (SwarmKit's `LogBroker`), without I/O: time and randomness
/// come in, the cluster state is read, answers go out.
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::manager::cluster_state::ClusterState;
/// use swarm_core::manager::logbroker::{LogBroker, LogRequest, LogSelector};
///
/// let state = ClusterState::new();
/// let mut broker = LogBroker::new();
/// let mut seed = 7u64;
/// let mut rng = || {
///     seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
///     seed
/// };
/// let selector = LogSelector {
///     services: vec!["web".into()],
///     ..LogSelector::default()
/// };
/// let now = SystemTime::now();
/// let id = broker
///     .subscribe(&state, selector, LogRequest::default(), now, &mut rng)
///     .unwrap();
/// // No node runs a task of the service: the subscription ends at the first read.
/// let batch = broker.next(&id, 100, now).unwrap();
/// assert!(batch.messages.is_empty());
/// assert!(batch.end.unwrap().is_complete());
/// ```
#[derive(Debug)]
pub struct LogBroker {
    subscriptions: BTreeMap<LogSubscriptionId, Subscription>,
    node_silence: Duration,
}

impl Default for LogBroker {
    fn default() -> Self {
        LogBroker::new()
    }
}

impl LogBroker {
    /// An empty broker with [`LOG_NODE_SILENCE_TIMEOUT`].
    pub fn new() -> Self {
        LogBroker {
            subscriptions: BTreeMap::new(),
            node_silence: LOG_NODE_SILENCE_TIMEOUT,
        }
    }

    /// Sets how long an open part may go without news from its node before it fails (never
    /// below [`LOG_NODE_SILENCE_TIMEOUT`]).
    pub fn set_node_silence_timeout(&mut self, timeout: Duration) {
        self.node_silence = timeout.max(LOG_NODE_SILENCE_TIMEOUT);
    }

    /// How many subscriptions are held.
    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    /// Whether no subscription is held.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    /// The nodes with an open part in subscription `id` (`None`: no such subscription).
    pub fn open_nodes(&self, id: &LogSubscriptionId) -> Option<Vec<NodeId>> {
        self.subscriptions.get(id).map(|s| {
            s.parts
                .iter()
                .filter(|(_, p)| matches!(p, Part::Open { .. }))
                .map(|(n, _)| n.clone())
                .collect()
        })
    }

    /// Messages waiting for the client of subscription `id`.
    pub fn buffered(&self, id: &LogSubscriptionId) -> usize {
        self.subscriptions.get(id).map_or(0, |s| s.buffer.len())
    }

    /// A new subscription: a part for every node running a selected task (not following:
    /// tasks that have started, `running` or later; following: every task with a node, and
    /// later ones through [`LogBroker::refresh`]) and for every node named. A part on a node
    /// that is down fails at once; a named task without a node is reported at the end.
    pub fn subscribe(
        &mut self,
        state: &ClusterState,
        selector: LogSelector,
        request: LogRequest,
        now: SystemTime,
        rng: &mut dyn FnMut() -> u64,
    ) -> Result<LogSubscriptionId, LogBrokerError> {
        if selector.is_empty() {
            return Err(LogBrokerError::EmptySelector);
        }
        if selector.len() > MAX_LOG_SELECTOR_IDS {
            return Err(LogBrokerError::SelectorTooLarge {
                ids: selector.len(),
                max: MAX_LOG_SELECTOR_IDS,
            });
        }
        if self.subscriptions.len() >= MAX_LOG_SUBSCRIPTIONS {
            return Err(LogBrokerError::TooManySubscriptions {
                max: MAX_LOG_SUBSCRIPTIONS,
            });
        }
        let id = (0..MAX_ID_DRAWS)
            .map(|_| LogSubscriptionId(random_id(rng)))
            .find(|id| !self.subscriptions.contains_key(id))
            .ok_or(LogBrokerError::TooManySubscriptions {
                max: MAX_LOG_SUBSCRIPTIONS,
            })?;
        let mut sub = Subscription::new(selector, request, now);
        for node in sub.selector.nodes.clone() {
            sub.add_part(&node, now);
        }
        for task_id in sub.selector.tasks.clone() {
            match state.task(&task_id) {
                Some(Task {
                    node_id: Some(node),
                    ..
                }) => {
                    sub.add_part(node, now);
                }
                _ => {
                    sub.unscheduled.insert(task_id);
                }
            }
        }
        let follow = sub.request.follow;
        for service in sub.selector.services.clone() {
            for task in state.tasks_of_service(&service) {
                let started = task.status.state >= TaskState::Running;
                if let (Some(node), true) = (&task.node_id, follow || started) {
                    sub.add_part(node, now);
                }
            }
        }
        check_parts(&mut sub, state, now, self.node_silence);
        self.subscriptions.insert(id.clone(), sub);
        Ok(id)
    }

    /// Brings every subscription up to `state` and `now`: a following subscription gains a
    /// part on each node that runs a newly selected task; an open part fails when its node is
    /// down, or silent past the silence timeout (a node the state does not show is judged by
    /// its silence alone); a subscription whose client has not
    /// read for [`LOG_READER_IDLE_TIMEOUT`] is dropped. Returns whether anything changed.
    pub fn refresh(&mut self, state: &ClusterState, now: SystemTime) -> bool {
        let before = self.subscriptions.len();
        self.subscriptions.retain(|id, s| {
            let idle = now
                .duration_since(s.last_read)
                .is_ok_and(|d| d > LOG_READER_IDLE_TIMEOUT);
            if idle {
                tracing::debug!(subscription = %id, "log subscription dropped: its client stopped reading");
            }
            !idle
        });
        let mut changed = self.subscriptions.len() != before;
        for sub in self.subscriptions.values_mut() {
            if sub.request.follow {
                changed |= follow_new_tasks(sub, state, now);
            }
            changed |= check_parts(sub, state, now, self.node_silence);
        }
        changed
    }

    /// The subscriptions `node` has an open part in (what its agent is to publish), in id
    /// order; being asked counts as news from the node.
    pub fn node_subscriptions(&mut self, node: &NodeId, now: SystemTime) -> Vec<LogSubscription> {
        let mut out = Vec::new();
        for (id, sub) in &mut self.subscriptions {
            if let Some(Part::Open { last_heard }) = sub.parts.get_mut(node) {
                *last_heard = now;
                out.push(LogSubscription {
                    id: id.clone(),
                    selector: sub.selector.clone(),
                    request: sub.request.clone(),
                });
            }
        }
        out
    }

    /// Takes a publication of `node` for subscription `id`: every message must name `node`,
    /// be about one of its tasks (as `state` records it) and be selected; the publication is
    /// bounded by [`MAX_LOG_MESSAGES_PER_CALL`], [`MAX_LOG_PUBLISH_BYTES`] and
    /// [`MAX_LOG_LINE_BYTES`]. A refused publication changes nothing. When the buffer has no
    /// room for all of it, nothing is taken ([`PublishOutcome::Full`] hands it back); else it is taken and,
    /// with `close`, the node's part is closed.
    pub fn publish(
        &mut self,
        state: &ClusterState,
        node: &NodeId,
        id: &LogSubscriptionId,
        messages: Vec<LogMessage>,
        close: bool,
        now: SystemTime,
    ) -> Result<PublishOutcome, LogBrokerError> {
        if messages.len() > MAX_LOG_MESSAGES_PER_CALL {
            return Err(LogBrokerError::TooManyMessages {
                node: node.clone(),
                count: messages.len(),
                max: MAX_LOG_MESSAGES_PER_CALL,
            });
        }
        let bytes: usize = messages.iter().map(LogMessage::cost_bytes).sum();
        if bytes > MAX_LOG_PUBLISH_BYTES {
            return Err(LogBrokerError::TooManyBytes {
                node: node.clone(),
                bytes,
                max: MAX_LOG_PUBLISH_BYTES,
            });
        }
        let sub = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| LogBrokerError::UnknownSubscription { id: id.clone() })?;
        if !sub.is_open_for(node) {
            return Err(LogBrokerError::NotSubscribed {
                node: node.clone(),
                id: id.clone(),
            });
        }
        for m in &messages {
            check_message(state, &sub.selector, node, id, m)?;
        }
        sub.parts
            .insert(node.clone(), Part::Open { last_heard: now });
        let fits = sub.buffer.len() + messages.len() <= MAX_BUFFERED_LOG_MESSAGES
            && sub.buffered_bytes + bytes <= MAX_BUFFERED_LOG_BYTES;
        if !fits {
            return Ok(PublishOutcome::Full(messages));
        }
        sub.buffered_bytes += bytes;
        sub.buffer.extend(messages);
        if close {
            sub.parts.insert(node.clone(), Part::Closed);
        }
        Ok(PublishOutcome::Taken)
    }

    /// The next messages of subscription `id` (at most `max`, at most
    /// [`MAX_LOG_MESSAGES_PER_READ`], at least one when any wait). Once the buffer is empty and
    /// no part is open (never, when following), the batch carries the [`LogEnd`] and the
    /// subscription is gone.
    ///
    /// [`LogEnd`]: super::LogEnd
    pub fn next(
        &mut self,
        id: &LogSubscriptionId,
        max: usize,
        now: SystemTime,
    ) -> Result<LogBatch, LogBrokerError> {
        let sub = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| LogBrokerError::UnknownSubscription { id: id.clone() })?;
        sub.last_read = now;
        let take = max
            .clamp(1, MAX_LOG_MESSAGES_PER_READ)
            .min(sub.buffer.len());
        let messages: Vec<LogMessage> = sub.buffer.drain(..take).collect();
        let freed: usize = messages.iter().map(LogMessage::cost_bytes).sum();
        sub.buffered_bytes = sub.buffered_bytes.saturating_sub(freed);
        let end = (sub.buffer.is_empty() && sub.is_finished()).then(|| sub.end());
        if end.is_some() {
            self.subscriptions.remove(id);
        }
        Ok(LogBatch { messages, end })
    }

    /// Drops subscription `id` (the client stopped reading); `false` if there was none.
    pub fn cancel(&mut self, id: &LogSubscriptionId) -> bool {
        self.subscriptions.remove(id).is_some()
    }
}

/// A following subscription gains a part on the node of each selected task it does not know
/// yet; named tasks that got a node leave the unscheduled list.
fn follow_new_tasks(sub: &mut Subscription, state: &ClusterState, now: SystemTime) -> bool {
    let mut changed = false;
    let mut nodes: Vec<NodeId> = Vec::new();
    for service in &sub.selector.services {
        nodes.extend(
            state
                .tasks_of_service(service)
                .filter(|t| t.desired_state <= TaskState::Running)
                .filter_map(|t| t.node_id.clone()),
        );
    }
    for task in &sub.selector.tasks {
        if let Some(node) = state.task(task).and_then(|t| t.node_id.clone()) {
            changed |= sub.unscheduled.remove(task);
            nodes.push(node);
        }
    }
    for node in nodes {
        let up = state
            .node(&node)
            .is_some_and(|n| n.status.state != NodeState::Down);
        if up {
            changed |= sub.add_part(&node, now);
        }
    }
    changed
}

/// Fails the open parts whose node is down, or silent for longer than `silence`.
fn check_parts(
    sub: &mut Subscription,
    state: &ClusterState,
    now: SystemTime,
    silence: Duration,
) -> bool {
    let mut failures: Vec<(NodeId, String)> = Vec::new();
    for (node, part) in &sub.parts {
        let Part::Open { last_heard } = part else {
            continue;
        };
        // A node the state does not show (removed, or not seen yet by a copy that lags) is
        // judged by its silence alone.
        let record = state.node(node);
        let name = record.map_or("", hostname);
        let reason = match record {
            Some(n) if n.status.state == NodeState::Down => {
                Some(format!("node {node} ({name}) is down"))
            }
            _ => now
                .duration_since(*last_heard)
                .is_ok_and(|d| d > silence)
                .then(|| {
                    format!(
                        "node {node} ({name}) did not answer within {} ms",
                        silence.as_millis()
                    )
                }),
        };
        if let Some(reason) = reason {
            failures.push((node.clone(), reason));
        }
    }
    let changed = !failures.is_empty();
    for (node, reason) in failures {
        sub.fail_part(&node, reason);
    }
    changed
}

fn hostname(node: &crate::model::Node) -> &str {
    node.description
        .as_ref()
        .map_or("", |d| d.hostname.as_str())
}

/// Checks one published message: it names `node`, is about one of its tasks and is selected.
fn check_message(
    state: &ClusterState,
    selector: &LogSelector,
    node: &NodeId,
    id: &LogSubscriptionId,
    m: &LogMessage,
) -> Result<(), LogBrokerError> {
    if m.context.node != *node {
        return Err(LogBrokerError::ForeignNode {
            node: node.clone(),
            claimed: m.context.node.clone(),
        });
    }
    if m.line.len() > MAX_LOG_LINE_BYTES {
        return Err(LogBrokerError::LineTooLong {
            node: node.clone(),
            task: m.context.task.clone(),
            bytes: m.line.len(),
            max: MAX_LOG_LINE_BYTES,
        });
    }
    let task = state
        .task(&m.context.task)
        .filter(|t| t.node_id.as_ref() == Some(node) && t.service_id == m.context.service)
        .ok_or_else(|| LogBrokerError::NotNodeTask {
            node: node.clone(),
            task: m.context.task.clone(),
        })?;
    if !selector.selects_task(task) {
        return Err(LogBrokerError::NotSelected {
            id: id.clone(),
            task: task.id.clone(),
        });
    }
    Ok(())
}
