//! Certificate renewal on the leader: a new certificate for the caller's key, with the role
//! the cluster gives the node now.

use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::NodeRole;
use crate::node::manager_core::ManagerCore;
use crate::node::wire::{NodeReply, Origin, RefusalKind, refusal};
use std::time::SystemTime;

impl ManagerCore {
    /// Renews `origin`'s certificate. The role is the node record's desired role, except that
    /// a node becomes a manager only once it has a Raft id (a promotion recorded); the record's
    /// certificate expiry is updated. A node without a record (removed) is refused.
    pub(crate) async fn serve_renew(&self, origin: &Origin, csr_der: &[u8]) -> NodeReply {
        let _serial = self.control_lock.lock().await;
        let node = match self.state.node(&origin.node).await {
            Ok(Some(node)) => node,
            Ok(None) => {
                return refusal(
                    RefusalKind::NotFound,
                    format!("node {} is not in the cluster (removed)", origin.node),
                );
            }
            Err(e) => return refusal(RefusalKind::Unavailable, e.to_string()),
        };
        let role = match node.spec.role {
            NodeRole::Manager if node.manager_status.is_some() => NodeRole::Manager,
            _ => NodeRole::Worker,
        };
        let cluster = match self.state.cluster().await {
            Ok(Some(c)) => c,
            Ok(None) => return refusal(RefusalKind::Internal, "no cluster object"),
            Err(e) => return refusal(RefusalKind::Unavailable, e.to_string()),
        };
        let ca = match self.ca() {
            Ok(ca) => ca,
            Err(e) => return refusal(RefusalKind::Internal, e.to_string()),
        };
        let issued = match crate::manager::ca_server::issue_node_certificate(
            &ca,
            csr_der,
            &node.id,
            role,
            cluster.spec.ca_config.node_cert_expiry,
            SystemTime::now(),
        ) {
            Ok(c) => c,
            Err(e) => return refusal(RefusalKind::Refused, e.to_string()),
        };
        let mut changed = node.clone();
        changed.certificate_not_after = Some(issued.info.not_after);
        changed.meta.updated_at = SystemTime::now();
        let writes = ManagerWrites {
            writes: vec![ManagerWrite::UpdateNode {
                node: changed,
                expected_version: node.meta.version,
            }],
            membership: Vec::new(),
        };
        if let Err(e) = self.apply(&writes).await {
            return refusal(RefusalKind::Unavailable, e.to_string());
        }
        NodeReply::Renewed {
            cert_der: issued.cert_der.to_vec(),
            ca_cert_der: ca.cert_der().to_vec(),
            role,
        }
    }
}
