//! The renewal step: an authenticated node sends a CSR and gets a new certificate.

use crate::manager::ca_server::certificate_role::certificate_role;
use crate::manager::ca_server::issuer::{check_issuer, roots_to_trust};
use crate::manager::ca_server::node_record::issue_node_certificate;
use crate::manager::ca_server::renew_error::RenewError;
use crate::manager::ca_server::token_check::current_tokens;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, Node, NodeId, NodeMembership, NodeRole};
use std::fmt;
use std::time::SystemTime;
use swarm_secrets::{ClusterCa, IssuedCertificate};

/// What the renewal step reads: the cluster object, the CA that issues now and the nodes.
#[derive(Clone, Copy, Debug)]
pub struct RenewView<'a> {
    /// The cluster object.
    pub cluster: &'a Cluster,
    /// The root that issues now: the cluster's root CA, or during a root rotation the new
    /// root (the record [`RootCaSlot::issuing`](crate::manager::state::RootCaSlot::issuing)
    /// names).
    pub ca: &'a ClusterCa,
    /// Every node record.
    pub nodes: &'a [Node],
}

/// A node's request for a new certificate over its mutual-TLS connection (SwarmKit's
/// `IssueNodeCertificate` without a token). The identity is the one the caller verified in
/// the node's current certificate ([`ClusterTrust::identify_certificate`] or the TLS
/// handshake): the step trusts it.
///
/// [`ClusterTrust::identify_certificate`]: swarm_secrets::tls::ClusterTrust::identify_certificate
#[derive(Clone)]
pub struct RenewRequest {
    /// The node id from the node's verified certificate.
    pub node: NodeId,
    /// The role its current certificate carries.
    pub presented_role: NodeRole,
    /// A certificate signing request for the node's P-256 key (DER); only its key is used.
    pub csr_der: Vec<u8>,
}

impl fmt::Debug for RenewRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenewRequest")
            .field("node", &self.node)
            .field("presented_role", &self.presented_role)
            .field("csr_der_bytes", &self.csr_der.len())
            .finish()
    }
}

/// A renewed certificate, the updated record and the roots the node must trust.
#[derive(Clone, Debug)]
pub struct RenewDecision {
    /// The role the new certificate carries ([`certificate_role`]).
    pub role: NodeRole,
    /// Whether it differs from the role the node presented (a promotion or a completed
    /// demotion takes effect with this certificate).
    pub role_changed: bool,
    /// The updated node record (also in `writes`).
    pub node: Node,
    /// The certificate to send back.
    pub certificate: IssuedCertificate,
    /// The root certificates (DER) the node must trust from now on: the issuing root, and
    /// during a root rotation both roots, the old one first.
    pub trusted_roots: Vec<Vec<u8>>,
    /// Exactly one [`ManagerWrite::UpdateNode`] at the version read.
    pub writes: ManagerWrites,
}

/// The manager's side of a certificate renewal (SwarmKit's `ca/server.go`
/// `IssueNodeCertificate` for an authenticated node).
///
/// The node asks when its certificate reaches its renewal time, a random point in the second
/// half of its lifetime ([`NodeCredentials::needs_renewal`]), or at once when the dispatcher
/// says so during a root rotation ([`must_renew_now`]). It keeps its old certificate, and its
/// connections, until the new one is installed: the renewal drops no connection.
///
/// Contract:
/// * a node id on the cluster's revocation list (removed with `node rm`) is refused with
///   [`RenewError::Revoked`], an id with no record with [`RenewError::UnknownNode`], a
///   pending record with [`RenewError::NotAccepted`]; each names the node and nothing is
///   issued or written;
/// * the issuing CA must be the root the cluster state names: outside a rotation the root
///   the join tokens pin, during a rotation the rotation's new root
///   ([`RenewError::ClusterState`] otherwise);
/// * the certificate keeps the node id, carries the role [`certificate_role`] gives the
///   record now (whatever role the node presented), the cluster id, and is valid from `now`
///   (backdated one hour for clock skew) for the cluster's `ca_config.node_cert_expiry`;
/// * the only write is the node record at the version read, with the new certificate's
///   expiry in `certificate_not_after`, the issuing root's digest in `certificate_root` and
///   `meta.updated_at = now`; a concurrent change of the record makes the store refuse it
///   (re-read, call again: the certificate of a refused call is discarded, never sent);
/// * the decision carries the roots the node must trust ([`trusted_roots`]' answer for the
///   node's side).
///
/// [`NodeCredentials::needs_renewal`]: swarm_secrets::NodeCredentials::needs_renewal
/// [`must_renew_now`]: crate::manager::root_rotation::must_renew_now
/// [`trusted_roots`]: crate::manager::root_rotation::trusted_roots
pub fn renew_certificate(
    view: RenewView<'_>,
    request: &RenewRequest,
    now: SystemTime,
) -> Result<RenewDecision, RenewError> {
    let id = &request.node;
    if let Some(until) = view.cluster.revoked_nodes.get(id) {
        return Err(RenewError::Revoked {
            node: id.clone(),
            until: *until,
        });
    }
    let record = view
        .nodes
        .iter()
        .find(|n| n.id == *id)
        .ok_or_else(|| RenewError::UnknownNode { node: id.clone() })?;
    if record.spec.membership != NodeMembership::Accepted {
        return Err(RenewError::NotAccepted { node: id.clone() });
    }
    let state = |reason: String| RenewError::ClusterState {
        node: id.clone(),
        reason,
    };
    let (worker, _) =
        current_tokens(&view.cluster.join_tokens).map_err(|e| state(e.to_string()))?;
    check_issuer(view.cluster, worker.ca_digest(), view.ca).map_err(state)?;

    let role = certificate_role(record);
    let certificate = issue_node_certificate(
        view.ca,
        &request.csr_der,
        id,
        role,
        view.cluster.spec.ca_config.node_cert_expiry,
        now,
    )
    .map_err(|source| RenewError::Certificate {
        node: id.clone(),
        role,
        source,
    })?;
    let mut node = record.clone();
    node.certificate_not_after = Some(certificate.info.not_after);
    node.certificate_root = Some(view.ca.digest());
    node.meta.updated_at = now;
    Ok(RenewDecision {
        role,
        role_changed: role != request.presented_role,
        writes: ManagerWrites {
            writes: vec![ManagerWrite::UpdateNode {
                node: node.clone(),
                expected_version: record.meta.version,
            }],
            membership: Vec::new(),
        },
        node,
        certificate,
        trusted_roots: roots_to_trust(view.cluster, view.ca),
    })
}
