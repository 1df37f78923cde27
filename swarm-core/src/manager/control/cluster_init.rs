//! `swarm init`: the cluster object and the founding manager's record and certificate.

use crate::manager::ca_server::node_record::{
    NewNode, check_advertise_addr, issue_node_certificate, new_node_record,
};
use crate::manager::ca_server::{MAX_ID_DRAWS, new_node_id, new_raft_id};
use crate::manager::control::error::ControlError;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{
    Cluster, ClusterId, ClusterJoinTokens, ClusterSpec, Meta, Node, NodeAvailability,
    NodeDescription, NodeRole, Version,
};
use crate::validate::Validate;
use std::time::SystemTime;
use swarm_secrets::{ClusterCa, IssuedCertificate, JoinTokens, Role};

/// What `swarm init` is given.
#[derive(Clone, Debug)]
pub struct InitRequest {
    /// The cluster's settings (defaults: heartbeat 5 s, task history 5, certificates 90
    /// days, Raft heartbeat 1 s and election 10 s).
    pub spec: ClusterSpec,
    /// A certificate signing request for the founding manager's P-256 key (DER).
    pub csr_der: Vec<u8>,
    /// `host:port` where other managers reach the founding manager.
    pub advertise_addr: String,
    /// The founding manager's availability.
    pub availability: NodeAvailability,
    /// What the founding manager says about itself.
    pub description: Option<NodeDescription>,
}

/// A new cluster: its object, the founding manager and its certificate.
#[derive(Clone, Debug)]
pub struct InitDecision {
    /// The cluster object (also in `writes`).
    pub cluster: Cluster,
    /// The founding manager's record (also in `writes`).
    pub node: Node,
    /// The founding manager's certificate.
    pub certificate: IssuedCertificate,
    /// Create the cluster object and the node. No membership change: the loop bootstraps the
    /// Raft group with the node's Raft id as its single voter.
    pub writes: ManagerWrites,
}

/// `swarm init`.
///
/// Contract:
/// * the spec is validated ([`ControlError::InvalidClusterSpec`], each broken rule named by
///   field) and the advertised address must be `host:port`
///   ([`ControlError::InvalidRequest`]);
/// * the cluster id is the CA's (it is in every certificate); the caller draws it with
///   [`new_cluster_id`](crate::manager::ca_server::new_cluster_id) and generates the CA for it;
/// * fresh worker and manager join tokens pin the CA (their secrets from the operating
///   system's random source); no token is retired and no node is revoked;
/// * the founding manager gets a node id and a non-zero Raft id from `rng`, a manager
///   certificate valid from `now` for the spec's certificate expiry, and a record: manager,
///   accepted, ready, leader, reachable, its certificate's expiry and issuing root (the CA's
///   digest);
/// * the writes are [`ManagerWrite::CreateCluster`] then [`ManagerWrite::CreateNode`].
pub fn init_cluster(
    ca: &ClusterCa,
    request: &InitRequest,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<InitDecision, ControlError> {
    request
        .spec
        .validate()
        .map_err(ControlError::InvalidClusterSpec)?;
    check_advertise_addr(&request.advertise_addr).map_err(|reason| {
        ControlError::InvalidRequest {
            field: "advertise_addr",
            reason,
        }
    })?;
    let tokens = JoinTokens::generate(ca.digest()).map_err(|source| ControlError::Secrets {
        what: "join tokens".to_owned(),
        source,
    })?;
    let cluster = Cluster {
        id: ClusterId::new(ca.cluster_id().as_str()),
        meta: Meta::new(Version(0), now),
        spec: request.spec.clone(),
        join_tokens: ClusterJoinTokens {
            worker: tokens.token(Role::Worker).expose().to_string(),
            manager: tokens.token(Role::Manager).expose().to_string(),
            retired: Vec::new(),
            retired_roots: Vec::new(),
        },
        revoked_nodes: Default::default(),
        unlock_key: None,
        root_rotation: None,
    };
    let mut cluster = cluster;
    super::unlock_key::settle_unlock_key(&mut cluster)?;
    let id = new_node_id(rng, &[], &cluster.revoked_nodes).ok_or(ControlError::IdsExhausted {
        what: "node id",
        draws: MAX_ID_DRAWS,
    })?;
    let raft_id = new_raft_id(rng, &[]).ok_or(ControlError::IdsExhausted {
        what: "raft id",
        draws: MAX_ID_DRAWS,
    })?;
    let certificate = issue_node_certificate(
        ca,
        &request.csr_der,
        &id,
        NodeRole::Manager,
        request.spec.ca_config.node_cert_expiry,
        now,
    )
    .map_err(|source| ControlError::Secrets {
        what: format!("certificate for the founding manager {id}"),
        source,
    })?;
    let node = new_node_record(
        NewNode {
            id,
            role: NodeRole::Manager,
            availability: request.availability,
            description: request.description.clone(),
            advertise_addr: &request.advertise_addr,
            observed_addr: &request.advertise_addr,
            raft_id: Some(raft_id),
            leader: true,
            certificate_not_after: certificate.info.not_after,
            certificate_root: ca.digest(),
        },
        now,
    );
    Ok(InitDecision {
        writes: ManagerWrites {
            writes: vec![
                ManagerWrite::CreateCluster(cluster.clone()),
                ManagerWrite::CreateNode(node.clone()),
            ],
            membership: Vec::new(),
        },
        cluster,
        node,
        certificate,
    })
}
