//! The dispatcher's calls on a manager: served by the leader, passed on to it by followers.

use crate::manager::dispatcher::DispatcherError;
use crate::model::{NodeDescription, NodeId, NodeRole};
use crate::node::assignment_service::dispatcher_refusal;
use crate::node::manager_core::ManagerCore;
use crate::node::wire::{
    ControlCall, LogCall, NodeCall, NodeDirective, NodeReply, Origin, RefusalKind, decode_reply,
    encode_call, refusal,
};
use std::time::Duration;
use swarm_store::transport::Transport;

/// How often a follower looks for a new leader while a dispatcher call waits for one.
pub const LEADER_POLL: Duration = Duration::from_millis(25);
/// The share of the agent's request timeout a follower spends finding the leader for a
/// dispatcher call before answering that none is available.
pub const FORWARD_SHARE: f64 = 0.8;

impl ManagerCore {
    /// Serves a registration, heartbeat, assignment call, status report, renewal or log call
    /// from `origin`: here when this manager leads, else passed on to the leader (`may_forward`; a
    /// forwarded call is never forwarded again). While no leader is known, or the one known
    /// does not answer (an election under way), the call waits for the next leader, polling
    /// every [`LEADER_POLL`], for up to [`FORWARD_SHARE`] of the agent's request timeout (plus,
    /// for a long poll, the leader's bound: assignments, log subscriptions, a log read or a
    /// publication waiting for room): an agent then finds the new
    /// leader through the manager it already talks to instead of failing and backing off.
    pub(crate) async fn serve_dispatch(
        &self,
        origin: Origin,
        call: NodeCall,
        may_forward: bool,
    ) -> NodeReply {
        let long_poll = match &call {
            NodeCall::Assignments { .. } | NodeCall::LogSubscriptions { .. } => {
                self.assignment_wait()
            }
            NodeCall::PublishLogs { .. } => crate::node::log_service::LOG_PUBLISH_WAIT,
            NodeCall::Control(ControlCall::Logs(LogCall::Next { .. })) => {
                crate::node::log_service::LOGS_NEXT_WAIT
            }
            _ => Duration::ZERO,
        };
        let budget = self.config.agent.request_timeout.mul_f64(FORWARD_SHARE) + long_poll;
        let deadline = tokio::time::Instant::now() + budget;
        let mut last = refusal(RefusalKind::Unavailable, "no leader is known right now");
        loop {
            if self.is_leader() {
                return self.dispatch_here(origin, call).await;
            }
            if !may_forward {
                return NodeReply::Refused(crate::node::wire::RemoteRefusal {
                    kind: RefusalKind::Dispatcher(DispatcherError::NotLeader { node: origin.node }),
                    message: "this manager no longer leads".into(),
                });
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return last;
            }
            if let Some(leader) = self.store.leader() {
                let forwarded = NodeCall::Forwarded {
                    origin: origin.clone(),
                    call: Box::new(call.clone()),
                };
                let request = match encode_call(&forwarded) {
                    Ok(r) => r,
                    Err(e) => return refusal(RefusalKind::Internal, e.to_string()),
                };
                match self
                    .store_transport
                    .call_within(leader, request, left)
                    .await
                {
                    Ok(bytes) => {
                        return decode_reply(&bytes).unwrap_or_else(|e| {
                            refusal(RefusalKind::Internal, format!("the leader's answer: {e}"))
                        });
                    }
                    Err(e) => {
                        last = refusal(
                            RefusalKind::Unavailable,
                            format!("the leader {leader} is not reachable: {e}"),
                        );
                    }
                }
            }
            tokio::time::sleep(LEADER_POLL.min(left)).await;
        }
    }

    async fn dispatch_here(&self, origin: Origin, call: NodeCall) -> NodeReply {
        let random = self.rng.next();
        let now_ms = self.now_ms();
        match call {
            NodeCall::Register { description } => {
                self.register(&origin, description, now_ms, random).await
            }
            NodeCall::Heartbeat { session } => {
                let answer = self
                    .dispatcher()
                    .heartbeat(&origin.node, session, now_ms, random);
                match answer {
                    Ok(reply) => {
                        self.repair_node_record(&origin.node).await;
                        NodeReply::Heartbeat {
                            reply,
                            directive: self.directive(&origin.node),
                        }
                    }
                    Err(e) => dispatcher_refusal(e),
                }
            }
            NodeCall::Assignments {
                session,
                known_generation,
                held,
            } => {
                self.serve_assignments(&origin.node, session, known_generation, &held)
                    .await
            }
            NodeCall::UpdateTaskStatus { session, updates } => {
                self.serve_task_status(&origin.node, session, updates).await
            }
            NodeCall::Renew { csr_der } => self.serve_renew(&origin, &csr_der).await,
            NodeCall::LogSubscriptions { session, known } => {
                self.serve_log_subscriptions(&origin.node, session, &known)
                    .await
            }
            NodeCall::PublishLogs {
                session,
                subscription,
                messages,
                close,
            } => {
                self.serve_publish_logs(&origin.node, session, &subscription, messages, close)
                    .await
            }
            // A manager's log call, passed on by the follower it reached.
            NodeCall::Control(ControlCall::Logs(call)) if origin.role == NodeRole::Manager => {
                match self.exec_log_call(call).await {
                    Ok(reply) => NodeReply::Control(reply),
                    Err(e) => NodeReply::Refused(crate::node::control_service::to_refusal(&e)),
                }
            }
            _ => refusal(RefusalKind::Refused, "not a dispatcher call"),
        }
    }

    async fn register(
        &self,
        origin: &Origin,
        description: NodeDescription,
        now_ms: u64,
        random: u64,
    ) -> NodeReply {
        let attempt = |core: &Self| {
            core.dispatcher().register(
                &origin.node,
                description.clone(),
                &origin.addr,
                now_ms,
                random,
            )
        };
        let mut registered = attempt(self);
        if let Err(DispatcherError::NodeNotFound { .. }) = registered {
            // A node that has just joined may register before this manager's sync saw its
            // record: look in the store (linearizable) before refusing.
            if let Ok(Some(node)) = self.state.node(&origin.node).await {
                let _ = self.dispatcher().node_added(&node, now_ms, self.rng.next());
                registered = attempt(self);
            }
        }
        match registered {
            Ok(registration) => {
                if let Err(e) = self.apply_status(&registration.write).await {
                    return refusal(RefusalKind::Unavailable, e.to_string());
                }
                NodeReply::Registered {
                    session: registration.session_id,
                    reply: registration.reply,
                    directive: self.directive(&origin.node),
                }
            }
            Err(e) => dispatcher_refusal(e),
        }
    }

    /// Writes `node` ready again if its record says otherwise while its session here is live
    /// ([`Dispatcher::repair_write`](crate::manager::dispatcher::Dispatcher::repair_write)); a
    /// failed write is tried again at the next heartbeat.
    async fn repair_node_record(&self, node: &NodeId) {
        let Ok(Some(record)) = self.local_node(node) else {
            return;
        };
        let repair = self.dispatcher().repair_write(node, record.status.state);
        if let Some(write) = repair {
            tracing::info!(%node, from = %record.status.state, "node record said not ready during a live session; written ready again");
            if let Err(e) = self.apply_status(&write).await {
                tracing::debug!(%node, error = %e, "repairing the node record failed; next heartbeat");
            }
        }
    }

    /// What the cluster wants of `node`: its role, Raft id and the managers.
    pub(crate) fn directive(&self, node: &NodeId) -> NodeDirective {
        let record = self.local_node(node).ok().flatten();
        let trusted_roots = self
            .trusted_roots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        // Two roots are trusted only while a rotation runs: read the cluster object then only.
        let rotating = trusted_roots.len() > 1;
        let renew_now = match (&record, rotating) {
            (Some(node), true) => self.local_cluster().ok().flatten().is_some_and(|cluster| {
                crate::manager::root_rotation::must_renew_now(node, &cluster)
            }),
            _ => false,
        };
        NodeDirective {
            renew_now,
            trusted_roots: trusted_roots.as_ref().clone(),
            role: record.as_ref().map(|n| n.spec.role).unwrap_or_default(),
            raft_id: record
                .as_ref()
                .and_then(|n| n.manager_status.as_ref())
                .map(|m| m.raft_id),
            managers: self.managers().as_ref().clone(),
        }
    }
}
