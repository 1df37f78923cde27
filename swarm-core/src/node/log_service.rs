//! The leader's log broker as a service: clients' subscriptions and reads (control calls,
//! passed on to the leader by followers), nodes' subscription polls and publications
//! (dispatcher calls).

use crate::manager::cluster_state::ClusterState;
use crate::manager::dispatcher::SessionId;
use crate::manager::logbroker::{
    LogBatch, LogBroker, LogMessage, LogSubscriptionId, MAX_LOG_SUBSCRIPTIONS, PublishOutcome,
};
use crate::model::{NodeId, NodeRole};
use crate::node::assignment_service::dispatcher_refusal;
use crate::node::control_service::to_refusal;
use crate::node::error::NodeError;
use crate::node::manager_core::ManagerCore;
use crate::node::wire::{
    ControlCall, ControlReply, LogCall, NodeCall, NodeReply, Origin, RefusalKind, RemoteRefusal,
    refusal,
};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// Longest wait of a client's read for messages before it is answered empty (the client
/// reads again): well within a remote control call's timeout.
pub const LOGS_NEXT_WAIT: Duration = Duration::from_secs(2);

/// Longest wait of a publication for room in a subscription's buffer before the node is told
/// to send it again.
pub const LOG_PUBLISH_WAIT: Duration = Duration::from_secs(1);

/// Long-poll bounds a node's silence is measured against: a live node polls for its
/// subscriptions at least every long-poll bound plus a request timeout.
const SILENCE_POLLS: u32 = 3;

impl ManagerCore {
    /// Runs `f` on the broker, brought up to date with this manager's state and clock first
    /// (when the state has been read whole); wakes the waiting calls when the refresh or `f`
    /// (its second result) changed something.
    fn with_broker<T>(
        &self,
        f: impl FnOnce(&mut LogBroker, &ClusterState, SystemTime) -> (T, bool),
    ) -> T {
        let silence = self.assignment_wait() * SILENCE_POLLS + self.config.agent.request_timeout;
        let now = self.now();
        let whole = self.cluster_state.is_whole();
        let state = self.cluster_state.read();
        let mut broker = self.logs.lock();
        broker.set_node_silence_timeout(silence);
        let refreshed = whole && broker.refresh(&state, now);
        let (out, changed) = f(&mut broker, &state, now);
        drop(broker);
        drop(state);
        if refreshed || changed {
            self.logs.bump();
        }
        out
    }

    fn require_whole_state(&self) -> Result<(), NodeError> {
        if self.cluster_state.is_whole() {
            Ok(())
        } else {
            Err(NodeError::Remote(RemoteRefusal {
                kind: RefusalKind::Unavailable,
                message: "the leader has not read the cluster state yet".into(),
            }))
        }
    }

    /// A client's log call: served here when this manager leads, else passed on to the leader
    /// (waiting for one, as dispatcher calls do).
    pub(crate) async fn log_call(&self, call: LogCall) -> Result<ControlReply, NodeError> {
        if self.is_leader() {
            return self.exec_log_call(call).await;
        }
        let origin = Origin {
            node: self.node_id.clone(),
            role: NodeRole::Manager,
            addr: String::new(),
        };
        let call = NodeCall::Control(ControlCall::Logs(call));
        match self.serve_dispatch(origin, call, true).await {
            NodeReply::Control(reply) => Ok(reply),
            NodeReply::Refused(r) => Err(NodeError::Remote(r)),
            other => Err(NodeError::Protocol {
                peer: "the leader".into(),
                detail: format!("unexpected answer {other:?}"),
            }),
        }
    }

    /// Serves a client's log call on the leader.
    pub(crate) async fn exec_log_call(&self, call: LogCall) -> Result<ControlReply, NodeError> {
        match call {
            LogCall::Subscribe { target, request } => {
                // A linearizable read, as other control reads: the subscription sees every
                // task state acknowledged before it (this manager's followed copy may lag).
                let state = self.state.load_state().await?;
                let mut rng = || self.rng.next();
                let id = self.with_broker(|broker, _, now| {
                    let subscribed =
                        target
                            .resolve(&state)
                            .map_err(NodeError::from)
                            .and_then(|selector| {
                                broker
                                    .subscribe(&state, selector, request, now, &mut rng)
                                    .map_err(NodeError::from)
                            });
                    let changed = subscribed.is_ok();
                    (subscribed, changed)
                })?;
                tracing::debug!(subscription = %id, "log subscription opened");
                Ok(ControlReply::LogSubscribed(id))
            }
            LogCall::Next { subscription, max } => {
                let max = usize::try_from(max).unwrap_or(usize::MAX);
                self.next_logs(&subscription, max).await
            }
            LogCall::Cancel { subscription } => {
                let cancelled = self.with_broker(|broker, _, _| {
                    let cancelled = broker.cancel(&subscription);
                    (cancelled, cancelled)
                });
                if cancelled {
                    tracing::debug!(%subscription, "log subscription cancelled");
                }
                Ok(ControlReply::Done)
            }
        }
    }

    /// The next messages of subscription `id`, waiting up to [`LOGS_NEXT_WAIT`] for some (or
    /// for its end).
    async fn next_logs(
        &self,
        id: &LogSubscriptionId,
        max: usize,
    ) -> Result<ControlReply, NodeError> {
        let deadline = tokio::time::Instant::now() + LOGS_NEXT_WAIT;
        let mut broker_changes = self.logs.subscribe();
        let mut state_changes = self.cluster_state.subscribe();
        loop {
            broker_changes.borrow_and_update();
            state_changes.borrow_and_update();
            let batch = self.with_broker(|broker, _, now| {
                let read = broker.next(id, max, now);
                let changed = read
                    .as_ref()
                    .is_ok_and(|b| !b.messages.is_empty() || b.end.is_some());
                (read, changed)
            })?;
            if !batch.messages.is_empty() || batch.end.is_some() {
                return Ok(ControlReply::Logs(batch));
            }
            tokio::select! {
                biased;
                changed = broker_changes.changed() => {
                    if changed.is_err() {
                        return Ok(ControlReply::Logs(LogBatch::default()));
                    }
                }
                changed = state_changes.changed() => {
                    if changed.is_err() {
                        return Ok(ControlReply::Logs(LogBatch::default()));
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return Ok(ControlReply::Logs(LogBatch::default()));
                }
            }
        }
    }

    /// Answers `node`'s poll of its log subscriptions: at once when they differ from `known`,
    /// else after the next change or [`ManagerCore::assignment_wait`].
    pub(crate) async fn serve_log_subscriptions(
        &self,
        node: &NodeId,
        session: SessionId,
        known: &[LogSubscriptionId],
    ) -> NodeReply {
        if known.len() > MAX_LOG_SUBSCRIPTIONS {
            return refusal(
                RefusalKind::Refused,
                format!(
                    "node {node} listed {} log subscriptions, more than {MAX_LOG_SUBSCRIPTIONS}",
                    known.len()
                ),
            );
        }
        let known: BTreeSet<&LogSubscriptionId> = known.iter().collect();
        let deadline = tokio::time::Instant::now() + self.assignment_wait();
        let mut broker_changes = self.logs.subscribe();
        let mut state_changes = self.cluster_state.subscribe();
        loop {
            if let Err(e) = self.dispatcher().check_session(node, session) {
                return dispatcher_refusal(e);
            }
            broker_changes.borrow_and_update();
            state_changes.borrow_and_update();
            let subscriptions =
                self.with_broker(|broker, _, now| (broker.node_subscriptions(node, now), false));
            let now_known: BTreeSet<&LogSubscriptionId> =
                subscriptions.iter().map(|s| &s.id).collect();
            if now_known != known {
                return NodeReply::LogSubscriptions(subscriptions);
            }
            tokio::select! {
                biased;
                changed = broker_changes.changed() => {
                    if changed.is_err() {
                        return refusal(RefusalKind::Unavailable, "this manager is stopping");
                    }
                }
                changed = state_changes.changed() => {
                    if changed.is_err() {
                        return refusal(RefusalKind::Unavailable, "this manager is stopping");
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return NodeReply::LogSubscriptionsUnchanged;
                }
            }
        }
    }

    /// Takes `node`'s publication for subscription `id`, waiting up to [`LOG_PUBLISH_WAIT`]
    /// for room in its buffer (`taken: false` after that: the node sends it again).
    pub(crate) async fn serve_publish_logs(
        &self,
        node: &NodeId,
        session: SessionId,
        id: &LogSubscriptionId,
        messages: Vec<LogMessage>,
        close: bool,
    ) -> NodeReply {
        if let Err(e) = self.dispatcher().check_session(node, session) {
            return dispatcher_refusal(e);
        }
        if let Err(e) = self.require_whole_state() {
            return NodeReply::Refused(to_refusal(&e));
        }
        let deadline = tokio::time::Instant::now() + LOG_PUBLISH_WAIT;
        let mut broker_changes = self.logs.subscribe();
        let mut pending = messages;
        loop {
            broker_changes.borrow_and_update();
            let outcome = self.with_broker(|broker, state, now| {
                let outcome = broker.publish(state, node, id, pending, close, now);
                let changed = matches!(outcome, Ok(PublishOutcome::Taken));
                (outcome, changed)
            });
            match outcome {
                Ok(PublishOutcome::Taken) => return NodeReply::LogsPublished { taken: true },
                Ok(PublishOutcome::Full(back)) => pending = back,
                Err(e) => {
                    tracing::warn!(%node, subscription = %id, "log publication refused: {e}");
                    return NodeReply::Refused(to_refusal(&NodeError::from(e)));
                }
            }
            tokio::select! {
                biased;
                changed = broker_changes.changed() => {
                    if changed.is_err() {
                        return NodeReply::LogsPublished { taken: false };
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return NodeReply::LogsPublished { taken: false };
                }
            }
        }
    }
}
