//! The join step: a node presents a join token and a CSR, and gets a certificate and a record.

use crate::manager::ca_server::ids::{MAX_ID_DRAWS, new_node_id, new_raft_id};
use crate::manager::ca_server::issuer::{check_issuer, roots_to_trust};
use crate::manager::ca_server::join_error::JoinError;
use crate::manager::ca_server::node_record::{
    NewNode, check_advertise_addr, issue_node_certificate, new_node_record,
};
use crate::manager::ca_server::token_check::{check_join_token, current_tokens};
use crate::manager::writes::{ManagerWrite, ManagerWrites, MembershipChange};
use crate::model::{Cluster, Node, NodeAvailability, NodeDescription, NodeRole};
use crate::validate::is_dns_name;
use std::fmt;
use std::time::SystemTime;
use swarm_secrets::{ClusterCa, IssuedCertificate};
use swarm_store::MemberId;
use zeroize::Zeroizing;

/// What the join step reads: the cluster object (tokens, certificate expiry, revoked ids), the
/// cluster CA and the current nodes.
#[derive(Clone, Copy, Debug)]
pub struct JoinView<'a> {
    /// The cluster object.
    pub cluster: &'a Cluster,
    /// The root that issues node certificates now: the cluster's root CA, or during a root
    /// rotation the new root (the record
    /// [`RootCaSlot::issuing`](crate::manager::state::RootCaSlot::issuing) names).
    pub ca: &'a ClusterCa,
    /// Every node record.
    pub nodes: &'a [Node],
}

/// A node's request to join (SwarmKit's `IssueNodeCertificate` with a join token).
#[derive(Clone)]
pub struct JoinRequest {
    /// The join token text, `SWMTKN-1-...` (wiped on drop, redacted in `Debug`).
    pub token: Zeroizing<String>,
    /// A certificate signing request for the node's P-256 key (DER); only its key is used.
    pub csr_der: Vec<u8>,
    /// `host:port` where other managers reach the node if it is or becomes a manager. Required
    /// with a manager token; may be empty with a worker token.
    pub advertise_addr: String,
    /// The availability the node asks for (`docker swarm join --availability`).
    pub availability: NodeAvailability,
    /// What the node says about itself, if it sent it with the request.
    pub description: Option<NodeDescription>,
    /// The address the request came from, as the listener saw it.
    pub observed_addr: String,
}

impl fmt::Debug for JoinRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRequest")
            .field("token", &"[REDACTED]")
            .field("csr_der_bytes", &self.csr_der.len())
            .field("advertise_addr", &self.advertise_addr)
            .field("availability", &self.availability)
            .field("description", &self.description)
            .field("observed_addr", &self.observed_addr)
            .finish()
    }
}

/// An admitted node: its certificate, its record and what the loop must do.
#[derive(Clone, Debug)]
pub struct JoinDecision {
    /// The role the token granted.
    pub role: NodeRole,
    /// The new node record (also in `writes`).
    pub node: Node,
    /// The certificate to send back, with `trusted_roots`.
    pub certificate: IssuedCertificate,
    /// The root certificates (DER) the node must trust: the issuing root, and during a root
    /// rotation both roots, the old one (the one its token pins) first.
    pub trusted_roots: Vec<Vec<u8>>,
    /// The record to create and, for a manager, the Raft membership changes.
    pub writes: ManagerWrites,
}

/// The manager's side of a join.
///
/// Contract:
/// * the token is checked by [`check_join_token`]: a wrong, rotated, retired-root or
///   other-cluster token is refused with [`JoinError::WrongToken`],
///   [`JoinError::RotatedToken`], [`JoinError::RootRotated`] or [`JoinError::OtherCluster`],
///   and nothing is issued or written;
/// * the cluster's tokens must pin `view.ca`, or during a root rotation the rotation's old
///   root while `view.ca` is its new root ([`JoinError::ClusterState`] otherwise): joins
///   issue from the new root as soon as a rotation starts;
/// * the advertised address must be `host:port` with a manager token, and empty or
///   `host:port` with a worker token; a description's hostname must be a DNS name
///   ([`JoinError::InvalidRequest`] naming the field);
/// * the node id is 25 lowercase base-36 characters drawn from `rng`, used by no node and
///   not revoked; a manager's Raft id is a non-zero `u64` drawn from `rng`, used by no
///   manager ([`JoinError::IdsExhausted`] if the source repeats itself);
/// * the certificate carries that id, the token's role and the cluster id, valid from
///   `now` (backdated one hour for clock skew) for the cluster's `ca_config.node_cert_expiry`
///   (its serial number comes from the operating system's random source, never from `rng`);
/// * the writes are exactly one [`ManagerWrite::CreateNode`]: role from the token, accepted,
///   status unknown until the first heartbeat, the requested availability, description and
///   addresses, the certificate's expiry and issuing root; for a manager token also a manager status (Raft id,
///   not leader, reachability unknown) and the membership changes
///   [`MembershipChange::AddLearner`] then [`MembershipChange::Promote`].
pub fn join(
    view: JoinView<'_>,
    request: &JoinRequest,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<JoinDecision, JoinError> {
    let tokens = &view.cluster.join_tokens;
    let role = check_join_token(tokens, &request.token)?;
    let (worker, _) = current_tokens(tokens)?;
    check_issuer(view.cluster, worker.ca_digest(), view.ca)
        .map_err(|reason| JoinError::ClusterState { reason })?;
    check_request(request, role)?;

    let id = new_node_id(rng, view.nodes, &view.cluster.revoked_nodes).ok_or(
        JoinError::IdsExhausted {
            what: "node id",
            draws: MAX_ID_DRAWS,
        },
    )?;
    let raft_id = match role {
        NodeRole::Manager => Some(new_raft_id(rng, view.nodes).ok_or(JoinError::IdsExhausted {
            what: "raft id",
            draws: MAX_ID_DRAWS,
        })?),
        NodeRole::Worker => None,
    };
    let certificate = issue_node_certificate(
        view.ca,
        &request.csr_der,
        &id,
        role,
        view.cluster.spec.ca_config.node_cert_expiry,
        now,
    )
    .map_err(|source| JoinError::Certificate {
        node: id.clone(),
        role,
        source,
    })?;
    let node = new_node_record(
        NewNode {
            id: id.clone(),
            role,
            availability: request.availability,
            description: request.description.clone(),
            advertise_addr: &request.advertise_addr,
            observed_addr: &request.observed_addr,
            raft_id,
            leader: false,
            certificate_not_after: certificate.info.not_after,
            certificate_root: view.ca.digest(),
        },
        now,
    );
    let membership = match raft_id {
        Some(raw) => vec![
            MembershipChange::AddLearner {
                member: MemberId(raw),
                node: id.clone(),
                addr: request.advertise_addr.clone(),
            },
            MembershipChange::Promote {
                member: MemberId(raw),
                node: id,
            },
        ],
        None => Vec::new(),
    };
    Ok(JoinDecision {
        role,
        writes: ManagerWrites {
            writes: vec![ManagerWrite::CreateNode(node.clone())],
            membership,
        },
        node,
        certificate,
        trusted_roots: roots_to_trust(view.cluster, view.ca),
    })
}

fn check_request(request: &JoinRequest, role: NodeRole) -> Result<(), JoinError> {
    if role == NodeRole::Manager || !request.advertise_addr.is_empty() {
        check_advertise_addr(&request.advertise_addr).map_err(|reason| {
            JoinError::InvalidRequest {
                field: "advertise_addr",
                reason,
            }
        })?;
    }
    match &request.description {
        Some(d) if !d.hostname.is_empty() && !is_dns_name(&d.hostname) => {
            Err(JoinError::InvalidRequest {
                field: "description.hostname",
                reason: format!("{:?} is not a DNS name", d.hostname),
            })
        }
        _ => Ok(()),
    }
}
