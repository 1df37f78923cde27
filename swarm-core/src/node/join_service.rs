//! The manager's side of joining: the root CA for anyone, a certificate and a node record for
//! a valid join token.

use crate::manager::ca_server::{JoinError, JoinRequest, JoinView, join};
use crate::node::error::NodeError;
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::recent_joins::RecentJoins;
use crate::node::wire::{JoinCall, NodeReply, RefusalKind, refusal};
use zeroize::Zeroizing;

impl ManagerCore {
    /// The root CA certificate (a joining node checks it against its token).
    pub(crate) fn root_ca_reply(&self) -> NodeReply {
        match self.ca() {
            Ok(ca) => NodeReply::RootCa {
                cert_der: ca.cert_der().to_vec(),
            },
            Err(e) => refusal(RefusalKind::Internal, e.to_string()),
        }
    }

    /// Admits a node presenting a join token: the join step, its record written; a new
    /// manager is then brought into the Raft group by the leader's reconcile loop.
    pub(crate) async fn serve_join(&self, call: JoinCall) -> NodeReply {
        match self.join(call).await {
            Ok(reply) => reply,
            Err(NodeError::Remote(r)) => NodeReply::Refused(r),
            Err(e) => refusal(
                if e.is_retryable() {
                    RefusalKind::Unavailable
                } else {
                    RefusalKind::Internal
                },
                e.to_string(),
            ),
        }
    }

    fn recent_joins(&self) -> std::sync::MutexGuard<'_, RecentJoins> {
        self.recent_joins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn join(&self, call: JoinCall) -> Result<NodeReply, NodeError> {
        let _serial = self.control_lock.lock().await;
        // The same request again (delivered twice): the same answer, no second node.
        if let Some(reply) = self.recent_joins().answer(&call.csr_der, &call.token) {
            return Ok(reply);
        }
        let csr_der = call.csr_der.clone();
        let call_token = Zeroizing::new(call.token.clone());
        let request = JoinRequest {
            token: Zeroizing::new(call.token.clone()),
            csr_der: call.csr_der,
            advertise_addr: call.advertise_addr,
            availability: call.availability,
            description: call.description,
            observed_addr: String::new(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let cluster = self.state.cluster().await?.ok_or(NodeError::Stopped)?;
            let nodes = self.state.nodes().await?;
            let ca = self.ca()?;
            let view = JoinView {
                cluster: &cluster,
                ca: &ca,
                nodes: &nodes,
            };
            let decision = join(view, &request, crate::clock::now(), &mut || self.rng.next())
                .map_err(|e| {
                    let kind = match e {
                        JoinError::WrongToken
                        | JoinError::RotatedToken { .. }
                        | JoinError::OtherCluster
                        | JoinError::MalformedToken { .. } => RefusalKind::BadToken,
                        JoinError::InvalidRequest { .. } => RefusalKind::Refused,
                        _ if e.is_retryable() => RefusalKind::Unavailable,
                        _ => RefusalKind::Internal,
                    };
                    NodeError::Remote(crate::node::wire::RemoteRefusal {
                        kind,
                        message: e.to_string(),
                    })
                })?;
            match self.state.apply(&decision.writes).await {
                Ok(_) => {}
                Err(e) if e.is_conflict() && attempt < MAX_CONFLICT_RETRIES => continue,
                Err(e) => return Err(e.into()),
            }
            tracing::info!(node = %decision.node.id, role = %decision.role, "node joined");
            let mut managers = self.managers().as_ref().clone();
            if let (Some(raft_id), false) = (
                decision.node.manager_status.as_ref().map(|m| m.raft_id),
                managers.iter().any(|m| m.node == decision.node.id),
            ) {
                managers.push(crate::node::wire::ManagerAddr {
                    node: decision.node.id.clone(),
                    raft_id,
                    addr: decision.node.advertise_addr.clone(),
                });
            }
            let reply = NodeReply::Joined {
                node: decision.node.id.clone(),
                role: decision.role,
                raft_id: decision.node.manager_status.as_ref().map(|m| m.raft_id),
                cert_der: decision.certificate.cert_der.to_vec(),
                ca_cert_der: ca.cert_der().to_vec(),
                trusted_roots: decision.trusted_roots.clone(),
                managers,
            };
            self.recent_joins()
                .remember(csr_der, call_token.clone(), reply.clone());
            return Ok(reply);
        }
    }
}
