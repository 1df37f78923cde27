//! Certificate renewal on the leader: the renewal step, its record written.

use crate::manager::ca_server::{RenewRequest, RenewView, renew_certificate};
use crate::node::manager_core::ManagerCore;
use crate::node::wire::{NodeReply, Origin, RefusalKind, refusal};

impl ManagerCore {
    /// Renews `origin`'s certificate with the role the cluster gives the node now
    /// ([`certificate_role`](crate::manager::ca_server::certificate_role)); a removed or
    /// unknown node is refused, naming it.
    pub(crate) async fn serve_renew(&self, origin: &Origin, csr_der: &[u8]) -> NodeReply {
        let _serial = self.control_lock.lock().await;
        let (cluster, nodes) = match (self.state.cluster().await, self.state.nodes().await) {
            (Ok(Some(c)), Ok(n)) => (c, n),
            (Ok(None), _) => return refusal(RefusalKind::Internal, "no cluster object"),
            (Err(e), _) | (_, Err(e)) => return refusal(RefusalKind::Unavailable, e.to_string()),
        };
        let ca = match self.ca() {
            Ok(ca) => ca,
            Err(e) => return refusal(RefusalKind::Internal, e.to_string()),
        };
        let view = RenewView {
            cluster: &cluster,
            ca: &ca,
            nodes: &nodes,
        };
        let request = RenewRequest {
            node: origin.node.clone(),
            presented_role: origin.role,
            csr_der: csr_der.to_vec(),
        };
        let decision = match renew_certificate(view, &request, crate::clock::now()) {
            Ok(d) => d,
            Err(e) => {
                let kind = if e.is_retryable() {
                    RefusalKind::Unavailable
                } else {
                    RefusalKind::Refused
                };
                return refusal(kind, e.to_string());
            }
        };
        if let Err(e) = self.apply(&decision.writes).await {
            return refusal(RefusalKind::Unavailable, e.to_string());
        }
        NodeReply::Renewed {
            cert_der: decision.certificate.cert_der.to_vec(),
            ca_cert_der: ca.cert_der().to_vec(),
            trusted_roots: decision.trusted_roots,
            role: decision.role,
        }
    }
}
