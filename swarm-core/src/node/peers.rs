//! Who is calling: certificates mapped to transport ids and roles.
//!
//! The transport gives a handler the caller's id as a [`MemberId`]. On a manager's listener a
//! manager that is a store member is its Raft id (so the store sees its members as they are);
//! any other node of the cluster gets a [`link_id`] derived from its node id, with the top bit
//! set (Raft ids never have it); a client without a certificate (a
//! joining node) is [`ANONYMOUS_PEER`]. The [`PeerTable`] remembers the node id and role the
//! certificate behind each id carries, so every call is authorised by the caller's role.

use crate::mapping::MAX_RAFT_ID;
use crate::model::{NodeId, NodeRole};
use rustls_pki_types::CertificateDer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use swarm_secrets::Role;
use swarm_secrets::tls::{ClusterTrust, LiveTrust};
use swarm_store::MemberId;
use swarm_store::transport::tcp::{MemberNames, PeerIdentifier, PeerRefused};

/// The transport id of a client without a certificate (a joining node).
pub(crate) const ANONYMOUS_PEER: MemberId = MemberId(u64::MAX);
/// The id a joining node's transport gives the manager it joins through.
pub(crate) const JOIN_TARGET: MemberId = MemberId(MAX_RAFT_ID + 1);
/// The most distinct peers a listener remembers (every node of the cluster, managers counted
/// twice while they move into the Raft group); a certificate beyond it is refused.
pub const MAX_PEERS: usize = 2 * crate::manager::dispatcher::MAX_NODES;

/// Whether `id` can be a store member's (a Raft id).
#[cfg(test)]
pub(crate) fn is_member_id(id: MemberId) -> bool {
    (1..=MAX_RAFT_ID).contains(&id.0)
}

/// The transport id of a node that is not (yet) a store member: FNV-1a of its node id with the
/// top bit set, never [`ANONYMOUS_PEER`] or [`JOIN_TARGET`].
pub(crate) fn link_id(node: &NodeId) -> MemberId {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.as_str().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let id = hash | (MAX_RAFT_ID + 1);
    if id == ANONYMOUS_PEER.0 || id == JOIN_TARGET.0 {
        MemberId(id ^ 2)
    } else {
        MemberId(id)
    }
}

/// A caller as its certificate says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerInfo {
    pub(crate) node: NodeId,
    pub(crate) role: NodeRole,
}

/// The listener's memory of who each transport id is, and the trust it checks certificates
/// against.
#[derive(Clone)]
pub(crate) struct PeerTable {
    trust: LiveTrust,
    names: MemberNames,
    peers: Arc<Mutex<HashMap<MemberId, PeerInfo>>>,
}

impl PeerTable {
    pub(crate) fn new(trust: LiveTrust, names: MemberNames) -> Self {
        PeerTable {
            trust,
            names,
            peers: Arc::default(),
        }
    }

    /// The trust in force.
    pub(crate) fn trust(&self) -> ClusterTrust {
        self.trust.current()
    }

    /// The shared trust cell (replaced in a root rotation).
    pub(crate) fn live_trust(&self) -> &LiveTrust {
        &self.trust
    }

    /// Raft ids ↔ node ids of the store members.
    pub(crate) fn names(&self) -> &MemberNames {
        &self.names
    }

    /// Who `id` is, if a certificate mapped to it was seen.
    pub(crate) fn get(&self, id: MemberId) -> Option<PeerInfo> {
        self.peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    fn verify(&self, cert: &CertificateDer<'_>, roles: &[Role]) -> Result<PeerInfo, PeerRefused> {
        let peer = self
            .trust
            .current()
            .authorize_certificate(cert, roles)
            .map_err(|e| PeerRefused::new(e.to_string()))?;
        Ok(PeerInfo {
            node: NodeId::from(&peer.node_id),
            role: NodeRole::from(peer.role),
        })
    }

    /// The identifier of a manager's listener: any node of the cluster, a store member by its
    /// Raft id.
    pub(crate) fn server_identifier(&self) -> PeerIdentifier {
        let table = self.clone();
        Arc::new(move |cert: &CertificateDer<'_>| {
            let info = table.verify(cert, &[Role::Manager, Role::Worker])?;
            let id = match info.role {
                NodeRole::Manager => table
                    .names
                    .member(info.node.as_str())
                    .unwrap_or_else(|| link_id(&info.node)),
                NodeRole::Worker => link_id(&info.node),
            };
            let mut peers = table.peers.lock().unwrap_or_else(PoisonError::into_inner);
            if peers.len() >= MAX_PEERS && !peers.contains_key(&id) {
                return Err(PeerRefused::new(format!(
                    "this manager already tracks {MAX_PEERS} peers"
                )));
            }
            peers.insert(id, info);
            Ok(id)
        })
    }

    /// The identifier of the store's transport: managers that are store members, by Raft id.
    pub(crate) fn store_identifier(&self) -> PeerIdentifier {
        let table = self.clone();
        Arc::new(move |cert: &CertificateDer<'_>| {
            let info = table.verify(cert, &[Role::Manager])?;
            table.names.member(info.node.as_str()).ok_or_else(|| {
                PeerRefused::new(format!("manager {} is not a store member", info.node))
            })
        })
    }

    /// The identifier of a node's calls to managers (dispatcher, control): any manager, by
    /// [`link_id`].
    pub(crate) fn manager_link_identifier(&self) -> PeerIdentifier {
        let table = self.clone();
        Arc::new(move |cert: &CertificateDer<'_>| {
            let info = table.verify(cert, &[Role::Manager])?;
            Ok(link_id(&info.node))
        })
    }
}

/// The identifier a joining node uses before it trusts anything: every server is the manager
/// it meant, [`JOIN_TARGET`]. Only the root CA is fetched this way, then checked against the
/// token.
pub(crate) fn any_server_identifier() -> PeerIdentifier {
    Arc::new(|_: &CertificateDer<'_>| Ok(JOIN_TARGET))
}

/// The identifier a joining node uses once it trusts the root CA: a manager of the cluster.
pub(crate) fn join_identifier(trust: ClusterTrust) -> PeerIdentifier {
    Arc::new(move |cert: &CertificateDer<'_>| {
        trust
            .authorize_certificate(cert, &[Role::Manager])
            .map(|_| JOIN_TARGET)
            .map_err(|e| PeerRefused::new(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ids_are_never_member_ids_nor_reserved() {
        for i in 0..10_000 {
            let id = link_id(&NodeId::new(format!("node{i}")));
            assert!(!is_member_id(id));
            assert_ne!(id, ANONYMOUS_PEER);
            assert_ne!(id, JOIN_TARGET);
        }
        assert_eq!(link_id(&NodeId::new("a")), link_id(&NodeId::new("a")));
        assert!(!is_member_id(ANONYMOUS_PEER));
        assert!(is_member_id(MemberId(1)));
        assert!(!is_member_id(MemberId(0)));
    }
}
