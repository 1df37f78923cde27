//! The node's agent: a dispatcher session with the managers, and the role the cluster gives
//! the node.
//!
//! The loop asks [`AgentSession`] what to do, makes the call over the node's transport to
//! the managers' listeners, and reports the outcome. Every answer carries the managers (the
//! node keeps them in its state file, to reconnect after a restart) and the role the cluster
//! wants the node to have: when it differs from the role of the node's certificate, the node
//! renews its certificate, then starts or stops its manager part.
//!
//! The agent remembers every manager it learned of ([`KnownManagers`]): when its current
//! managers all fail ([`AgentSessionError::NoManagerReachable`]), the next session tries the
//! ones it knew before as well, since every current manager may have been demoted while the
//! node was cut off (and the new ones are announced only by managers).

use crate::agent::{AgentAction, AgentSession, AgentSessionError, ManagerFailure};
use crate::manager::state::ManagerDataDir;
use crate::model::NodeRole;
use crate::node::agent_link::{self, AgentLink, call_at};
use crate::node::error::NodeError;
use crate::node::known_managers::KnownManagers;
use crate::node::node::{MANAGER_DIR, NodeShared};
use crate::node::wire::{NodeCall, NodeDirective, NodeReply, RefusalKind};
use std::sync::Arc;
use std::time::Duration;

/// Wait before retrying when the node knows no manager at all.
const NO_MANAGER_RETRY: Duration = Duration::from_secs(1);

/// The agent loop of a node, until the node stops.
pub(crate) async fn agent_loop(shared: Arc<NodeShared>) {
    let mut addrs = KnownManagers::default();
    let mut widen = false;
    loop {
        let managers = shared.state().managers.clone();
        addrs.remember(&managers);
        let list: Vec<String> = if widen {
            addrs.widened(&managers)
        } else {
            managers.iter().map(|m| m.addr.clone()).collect()
        };
        let session = AgentSession::new(
            &shared.config.agent,
            &list,
            shared.now_ms(),
            shared.rng.next(),
        );
        match session {
            Ok(session) => match run_session(&shared, session, &mut addrs).await {
                Ok(SessionEnd::NoManagerReachable) => widen = true,
                Err(()) => {
                    // No session any more: the task runner stops calling.
                    shared.agent_link.send_replace(None);
                    return;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "no manager to talk to");
                tokio::select! {
                    biased;
                    () = shared.stop.cancelled() => return,
                    () = tokio::time::sleep(NO_MANAGER_RETRY) => {}
                }
            }
        }
        if shared.stop.is_cancelled() {
            return;
        }
    }
}

/// Why a session ended without the node stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SessionEnd {
    /// [`AgentSessionConfig::max_attempts`](crate::agent::AgentSessionConfig) calls in a row
    /// failed: the next session tries every manager known.
    NoManagerReachable,
}

/// Runs one session; `Err` when the node must stop (it was removed, or it is stopping).
async fn run_session(
    shared: &Arc<NodeShared>,
    mut session: AgentSession,
    addrs: &mut KnownManagers,
) -> Result<SessionEnd, ()> {
    loop {
        let now_ms = shared.now_ms();
        let (manager, call) = match session.poll(now_ms) {
            AgentAction::Register { manager } => (
                manager,
                NodeCall::Register {
                    description: shared.description.clone(),
                },
            ),
            AgentAction::Heartbeat {
                manager,
                session_id,
            } => (
                manager,
                NodeCall::Heartbeat {
                    session: session_id,
                },
            ),
            AgentAction::Wait { until_ms } => {
                if until_ms == u64::MAX {
                    tracing::error!(node = %shared.node_id, "the cluster refused this node for good; the agent stops");
                    return Err(());
                }
                let wait = Duration::from_millis(until_ms.saturating_sub(now_ms));
                tokio::select! {
                    biased;
                    () = shared.stop.cancelled() => return Err(()),
                    () = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            AgentAction::AwaitReply { timeout_at_ms } => {
                let wait = Duration::from_millis(timeout_at_ms.saturating_sub(now_ms));
                tokio::select! {
                    biased;
                    () = shared.stop.cancelled() => return Err(()),
                    () = tokio::time::sleep(wait) => {}
                }
                let _ = session.on_failure(
                    shared.now_ms(),
                    ManagerFailure::TimedOut,
                    shared.rng.next(),
                );
                continue;
            }
        };
        let outcome = tokio::select! {
            biased;
            () = shared.stop.cancelled() => return Err(()),
            outcome = call_manager(shared, addrs, &manager, &call) => outcome,
        };
        let now_ms = shared.now_ms();
        let failure = match outcome {
            Ok(NodeReply::Registered {
                session: id,
                reply,
                directive,
            }) => {
                if session.on_registered(now_ms, id, &reply) {
                    publish_link(shared, addrs, &manager, &session);
                }
                follow(shared, addrs, &manager, directive).await;
                continue;
            }
            Ok(NodeReply::Heartbeat { reply, directive }) => {
                if session.on_heartbeat(now_ms, &reply) {
                    publish_link(shared, addrs, &manager, &session);
                }
                follow(shared, addrs, &manager, directive).await;
                continue;
            }
            Ok(NodeReply::Refused(r)) => match r.kind {
                RefusalKind::Dispatcher(e) => ManagerFailure::Refused(e),
                _ => ManagerFailure::Unreachable { reason: r.message },
            },
            Ok(other) => ManagerFailure::Unreachable {
                reason: format!("unexpected answer {other:?}"),
            },
            Err(e) => ManagerFailure::Unreachable {
                reason: e.to_string(),
            },
        };
        tracing::debug!(%manager, ?failure, "dispatcher call failed");
        match session.on_failure(now_ms, failure, shared.rng.next()) {
            Ok(()) => {}
            Err(AgentSessionError::Refused { error, .. }) => {
                tracing::error!(node = %shared.node_id, %error, "refused by the cluster");
                return Err(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "no manager reachable yet; trying every manager known");
                return Ok(SessionEnd::NoManagerReachable);
            }
        }
    }
}

/// Tells the task runner which manager and session the agent uses now.
fn publish_link(shared: &NodeShared, addrs: &KnownManagers, manager: &str, session: &AgentSession) {
    let (Some(manager_node), Some(id), Some(period_ms)) = (
        addrs.node_of(manager),
        session.session_id(),
        session.period_ms(),
    ) else {
        return;
    };
    agent_link::publish(
        &shared.agent_link,
        AgentLink {
            manager: manager.to_owned(),
            manager_node: manager_node.clone(),
            session: id,
            period_ms,
        },
    );
}

/// One call to the manager at `addr`.
async fn call_manager(
    shared: &NodeShared,
    addrs: &KnownManagers,
    addr: &str,
    call: &NodeCall,
) -> Result<NodeReply, NodeError> {
    let node = addrs.node_of(addr).ok_or_else(|| NodeError::Config {
        field: "managers",
        reason: format!("no node id known for manager {addr}"),
    })?;
    call_at(
        shared,
        node,
        addr,
        call,
        shared.config.agent.request_timeout,
    )
    .await
}

/// Follows what the cluster says: the managers (kept in the state file) and the role.
async fn follow(
    shared: &Arc<NodeShared>,
    addrs: &mut KnownManagers,
    answered_by: &str,
    directive: NodeDirective,
) {
    addrs.remember(&directive.managers);
    let changed = {
        let mut state = shared.state();
        let changed = state.managers != directive.managers && !directive.managers.is_empty();
        if changed {
            state.managers = directive.managers.clone();
        }
        changed
    };
    if changed {
        if let Err(e) = shared.save_state() {
            tracing::warn!(error = %e, "cannot save the manager list");
        }
    }
    follow_roots(shared, &directive.trusted_roots);
    let current = shared.state().role;
    // A node is a manager while it has a Raft id: from the recorded promotion until the
    // leader has removed it from the group after a demotion (its store must answer until then).
    let wanted = if directive.raft_id.is_some() {
        NodeRole::Manager
    } else {
        NodeRole::Worker
    };
    let due = shared.creds.needs_renewal(crate::clock::now());
    if wanted != current || directive.renew_now || due {
        if let Err(e) = renew(shared, addrs, answered_by, wanted, directive.raft_id).await {
            tracing::warn!(error = %e, ?wanted, "certificate renewal failed; retried at the next answer");
        }
    }
}

/// Trusts the roots the cluster names (both during a root rotation), kept in the state file.
fn follow_roots(shared: &NodeShared, roots: &[Vec<u8>]) {
    if roots.is_empty() {
        return;
    }
    let changed = {
        let mut state = shared.state();
        let extra: Vec<Vec<u8>> = roots
            .iter()
            .filter(|r| **r != state.ca_cert_der)
            .cloned()
            .collect();
        let changed = extra != state.extra_roots;
        if changed {
            state.extra_roots = extra;
        }
        changed
    };
    if changed {
        match shared
            .install_credentials()
            .and_then(|()| shared.save_state())
        {
            Ok(()) => {
                tracing::info!(node = %shared.node_id, roots = roots.len(), "trusted roots changed")
            }
            Err(e) => tracing::warn!(error = %e, "cannot install the trusted roots"),
        }
    }
}

/// Renews the certificate (for the role the cluster gives the node now), then starts or
/// stops the manager part when the role changed. Open connections are kept: the next
/// handshakes present the new certificate.
async fn renew(
    shared: &Arc<NodeShared>,
    addrs: &KnownManagers,
    manager: &str,
    wanted: NodeRole,
    raft_id: Option<u64>,
) -> Result<(), NodeError> {
    let key = {
        let state = shared.state();
        swarm_secrets::NodeKey::from_pkcs8_der(&state.key_pkcs8)
            .map_err(crate::node::error::secrets("the node key"))?
    };
    let csr_der = key
        .csr_der()
        .map_err(crate::node::error::secrets("a certificate request"))?;
    // The manager that has just answered: the node's own listener is not up yet.
    let reply = call_manager(shared, addrs, manager, &NodeCall::Renew { csr_der }).await?;
    let (cert_der, ca_cert_der, trusted_roots, role) = match reply {
        NodeReply::Renewed {
            cert_der,
            ca_cert_der,
            trusted_roots,
            role,
        } => (cert_der, ca_cert_der, trusted_roots, role),
        NodeReply::Refused(r) => return Err(NodeError::Remote(r)),
        other => {
            return Err(NodeError::Protocol {
                peer: manager.to_owned(),
                detail: format!("unexpected answer {other:?}"),
            });
        }
    };
    let previous = shared.state().role;
    if role != wanted {
        tracing::debug!(
            ?role,
            ?wanted,
            "the cluster's view of this node changed meanwhile"
        );
    }
    if previous == NodeRole::Manager && role == NodeRole::Worker {
        shared.stop_manager().await;
    }
    {
        let mut state = shared.state();
        state.extra_roots = trusted_roots
            .into_iter()
            .filter(|r| *r != ca_cert_der)
            .collect();
        state.cert_der = cert_der;
        state.ca_cert_der = ca_cert_der;
        state.role = role;
        state.raft_id = if role == NodeRole::Manager {
            raft_id
        } else {
            None
        };
    }
    shared.save_state()?;
    // Every next handshake presents the new certificate; open connections stay.
    shared.install_credentials()?;
    tracing::info!(node = %shared.node_id, %role, "certificate renewed");
    if previous == role {
        return Ok(());
    }
    // A fresh sending side (an in-process endpoint dies with the node's stopped listener).
    let link = shared.new_link()?;
    *shared
        .link
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = link;
    let dir = shared.config.data_dir.join(MANAGER_DIR);
    if role == NodeRole::Manager {
        // A former manager's data belongs to another Raft id: start afresh.
        let _ = std::fs::remove_dir_all(&dir);
        let data = ManagerDataDir::create(&dir, None)?;
        let advertised = shared.state().advertise_addr.clone();
        let (listener, advertise) =
            crate::node::node::bind(&shared.config, Some(&advertised)).await?;
        shared.state().advertise_addr = advertise;
        shared.save_state()?;
        shared.start_manager(data, listener, None, false).await?;
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
