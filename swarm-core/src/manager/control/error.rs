//! Why a control request was refused, naming the object and the rule.

use crate::model::{Node, NodeId, NodeMembership, NodeRole, NodeState, Version};
use crate::validate::ValidationErrors;
use std::fmt;
use swarm_secrets::SecretsError;

/// A node as errors name it: its id and, when known, its hostname.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRef {
    /// The node's id.
    pub id: NodeId,
    /// Its name to show ([`Node::display_name`]), empty when it is the id itself.
    pub hostname: String,
}

impl NodeRef {
    /// How errors name `node`.
    pub fn of(node: &Node) -> Self {
        let shown = node.display_name();
        NodeRef {
            id: node.id.clone(),
            hostname: if shown == node.id.as_str() {
                String::new()
            } else {
                shown.to_owned()
            },
        }
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hostname.is_empty() {
            write!(f, "node {}", self.id)
        } else {
            write!(f, "node {} ({})", self.id, self.hostname)
        }
    }
}

/// Names in an error message: `items` joined by commas, then "and N more" for those left
/// out (errors name a bounded number of nodes and count the rest).
pub(crate) fn named_list<T: fmt::Display>(items: &[T], more: usize) -> String {
    let mut out = items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

/// A refused control request. Every variant names the node (id and hostname) or the cluster,
/// and the rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No node has this id, name or id prefix.
    #[error("no node matches {query:?} (by id, name or id prefix)")]
    NodeNotFound {
        /// What was asked for.
        query: String,
    },
    /// Several nodes match a name or an id prefix.
    #[error("{query:?} is ambiguous: it matches {}", named_list(.candidates, *.more))]
    AmbiguousNode {
        /// What was asked for.
        query: String,
        /// The first matches (at most [`MAX_NAMED_CANDIDATES`](super::MAX_NAMED_CANDIDATES)).
        candidates: Vec<NodeRef>,
        /// Matches not named.
        more: usize,
    },
    /// The node changed since the caller read it.
    #[error(
        "{node} was changed: the update is for version {expected}, the node is at version {current}; read it again"
    )]
    NodeVersionConflict {
        /// The node.
        node: NodeRef,
        /// The version the caller read.
        expected: Version,
        /// The stored version.
        current: Version,
    },
    /// The cluster object changed since the caller read it.
    #[error(
        "cluster {cluster:?} was changed: the update is for version {expected}, the cluster is at version {current}; read it again"
    )]
    ClusterVersionConflict {
        /// The cluster's name.
        cluster: String,
        /// The version the caller read.
        expected: Version,
        /// The stored version.
        current: Version,
    },
    /// The new node spec breaks a rule.
    #[error("{node}: {source}")]
    InvalidNodeSpec {
        /// The node.
        node: NodeRef,
        /// Every broken rule, each naming its field.
        source: ValidationErrors,
    },
    /// An accepted node cannot go back to pending.
    #[error("{node}: spec.membership cannot change from {from} to {to}")]
    MembershipChange {
        /// The node.
        node: NodeRef,
        /// The current membership.
        from: NodeMembership,
        /// The requested one.
        to: NodeMembership,
    },
    /// The new cluster spec breaks a rule.
    #[error(transparent)]
    InvalidClusterSpec(ValidationErrors),
    /// The cluster's name is how managers find the cluster object; it cannot change.
    #[error("cluster {current:?}: name cannot change (to {requested:?})")]
    ClusterNameImmutable {
        /// The name.
        current: String,
        /// The requested name.
        requested: String,
    },
    /// A request field is invalid (init).
    #[error("{field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Demoting this manager would leave the cluster without a manager.
    #[error("{node} is the last manager of the cluster and cannot be demoted")]
    LastManager {
        /// The node.
        node: NodeRef,
    },
    /// The role change would leave fewer reachable voters than a quorum.
    #[error(
        "{to} {node} refused: it would leave {reachable_after} reachable of {members_after} Raft members, below the quorum of {quorum_after}"
    )]
    QuorumLoss {
        /// The node.
        node: NodeRef,
        /// `promoting` or `demoting`.
        to: &'static str,
        /// Reachable members after the change.
        reachable_after: usize,
        /// Members after the change.
        members_after: usize,
        /// The quorum of the members after the change.
        quorum_after: usize,
    },
    /// A node that is not known to be down is removed only with force.
    #[error("{node} is {state}, not down: stop it first or remove it with force")]
    NodeNotDown {
        /// The node.
        node: NodeRef,
        /// Its state.
        state: NodeState,
    },
    /// A manager must be demoted before it is removed or leaves.
    #[error(
        "{node} is a manager ({role}, Raft member: {raft_member}): demote it before it can {action}"
    )]
    ManagerNotDemoted {
        /// The node.
        node: NodeRef,
        /// Its desired role.
        role: NodeRole,
        /// Whether it is still in the Raft group.
        raft_member: bool,
        /// `be removed` or `leave` (without force).
        action: &'static str,
    },
    /// A node cannot be promoted without an address for the Raft group.
    #[error("{node} cannot be promoted: it advertised no address for other managers to reach it")]
    NoAdvertiseAddr {
        /// The node.
        node: NodeRef,
    },
    /// The revocation list is full of certificates that have not expired yet.
    #[error(
        "{node} cannot be removed: the revocation list holds {limit} unexpired entries; retry once some expire"
    )]
    RevocationListFull {
        /// The node.
        node: NodeRef,
        /// [`MAX_REVOKED_NODES`](crate::model::MAX_REVOKED_NODES).
        limit: usize,
    },
    /// No free id was found in the random draws allowed (the random source repeats itself).
    #[error("no unused {what} after {draws} random draws")]
    IdsExhausted {
        /// `node id` or `raft id`.
        what: &'static str,
        /// Draws made.
        draws: usize,
    },
    /// A certificate or token could not be made (e.g. the CSR is invalid or the system random
    /// source failed).
    #[error("{what}: {source}")]
    Secrets {
        /// What was being made.
        what: String,
        /// The failure.
        source: SecretsError,
    },
    /// The cluster object is not usable (e.g. its join tokens do not parse): a fault of the
    /// managers' state, not of the request.
    #[error("the cluster state is inconsistent: {reason}")]
    ClusterState {
        /// What is inconsistent.
        reason: String,
    },
}

impl ControlError {
    /// Whether the same request may succeed later without being changed: when managers
    /// become reachable again ([`ControlError::QuorumLoss`]), the node goes down
    /// ([`ControlError::NodeNotDown`]), revocations expire, a fresh random draw, or a
    /// transient failure of the system random source. A version conflict is not: the caller
    /// re-reads and builds a new request ([`ControlError::is_conflict`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            ControlError::QuorumLoss { .. }
            | ControlError::NodeNotDown { .. }
            | ControlError::RevocationListFull { .. }
            | ControlError::IdsExhausted { .. } => true,
            ControlError::Secrets { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether the object changed since the caller read it (re-read, then retry).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ControlError::NodeVersionConflict { .. } | ControlError::ClusterVersionConflict { .. }
        )
    }
}
