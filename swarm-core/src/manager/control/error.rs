//! Why a control request was refused, naming the object and the rule.

use crate::manager::allocator::PortConflict;
use crate::manager::control::object_ref::{ObjectRef, ObjectType};
use crate::model::{Node, NodeId, NodeMembership, NodeRole, NodeState, ServiceMode, Version};
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

/// A refused control request. Every variant names the node (id and hostname), the cluster or
/// the object (its type, id and name), and the rule.
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
        /// Which id (`node id`, `raft id`, `service id`...).
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
    /// No service, task, secret, config or network has this id, name or id prefix.
    #[error("no {kind} matches {query:?} (by id, name or id prefix)")]
    NotFound {
        /// The type looked for.
        kind: ObjectType,
        /// What was asked for.
        query: String,
    },
    /// Several objects match a name or an id prefix.
    #[error("{query:?} is ambiguous: it matches {}", named_list(.candidates, *.more))]
    Ambiguous {
        /// The type looked for.
        kind: ObjectType,
        /// What was asked for.
        query: String,
        /// The first matches (at most [`MAX_NAMED_CANDIDATES`](super::MAX_NAMED_CANDIDATES)).
        candidates: Vec<ObjectRef>,
        /// Matches not named.
        more: usize,
    },
    /// A service, secret, config or network spec breaks a rule (the errors name the object and
    /// every broken rule by its field).
    #[error(transparent)]
    InvalidSpec(ValidationErrors),
    /// Another object of the same type has this name.
    #[error("{kind} name {name:?} is already used by {existing}")]
    NameInUse {
        /// The type.
        kind: ObjectType,
        /// The name asked for.
        name: String,
        /// The object that has it.
        existing: ObjectRef,
    },
    /// A service spec refers to a network, secret or config that does not exist.
    #[error("service {service:?}: {field}: no {kind} matches {target:?}")]
    MissingReference {
        /// The service's name.
        service: String,
        /// The field of the reference (`task_template.networks[0].target`).
        field: String,
        /// The type referred to.
        kind: ObjectType,
        /// The id or name given.
        target: String,
    },
    /// The service changed since the caller read it.
    #[error(
        "{service} was changed: the update is for version {expected}, the service is at version {current}; read it again"
    )]
    ServiceVersionConflict {
        /// The service.
        service: ObjectRef,
        /// The version the caller read.
        expected: Version,
        /// The stored version.
        current: Version,
    },
    /// A secret or config changed since the caller read it.
    #[error(
        "{object} was changed: the update is for version {expected}, it is at version {current}; read it again"
    )]
    ObjectVersionConflict {
        /// The secret or config.
        object: ObjectRef,
        /// The version the caller read.
        expected: Version,
        /// The stored version.
        current: Version,
    },
    /// Only the labels of a secret or config may change (its name and data are what tasks
    /// were given; a new value is a new object of another name), as SwarmKit refuses.
    #[error("{object}: only updates to Labels are allowed (the name and the data cannot change)")]
    OnlyLabelsMayChange {
        /// The secret or config.
        object: ObjectRef,
    },
    /// A service's mode cannot change (replicated, global and the job modes are different
    /// services; the number of replicas can change).
    #[error("{service}: the mode cannot change from {from} to {to}; create a new service")]
    ServiceModeChange {
        /// The service.
        service: ObjectRef,
        /// The current mode.
        from: ServiceMode,
        /// The requested mode.
        to: ServiceMode,
    },
    /// A service cannot be renamed.
    #[error("{service}: the name cannot change (to {requested:?})")]
    ServiceRename {
        /// The service.
        service: ObjectRef,
        /// The requested name.
        requested: String,
    },
    /// A rollback needs a previous spec: the service was never updated, or an automatic
    /// rollback already went back to it.
    #[error("{service} does not have a previous spec to roll back to")]
    NoPreviousSpec {
        /// The service.
        service: ObjectRef,
    },
    /// Only replicated services and replicated jobs can be scaled.
    #[error("{service} is {mode}: only replicated services and replicated jobs can be scaled")]
    NotScalable {
        /// The service.
        service: ObjectRef,
        /// Its mode.
        mode: ServiceMode,
    },
    /// A secret, config or network cannot be removed while services (or, for a network,
    /// running tasks) use it.
    #[error("{object} is in use by {}: remove or update them first", named_list(.users, *.more))]
    InUse {
        /// The object.
        object: ObjectRef,
        /// The first users (at most [`MAX_NAMED_CANDIDATES`](super::MAX_NAMED_CANDIDATES)).
        users: Vec<ObjectRef>,
        /// Users not named.
        more: usize,
    },
    /// A published port of the service is used by another service.
    #[error("service {service:?}: {conflict}")]
    PortInUse {
        /// The service's name.
        service: String,
        /// The port and the service that uses it.
        conflict: PortConflict,
    },
    /// Only overlay networks are cluster networks.
    #[error("network {network:?}: driver {driver:?} is not supported (use \"overlay\")")]
    UnsupportedNetworkDriver {
        /// The network's name.
        network: String,
        /// The driver asked for.
        driver: String,
    },
    /// A network's subnet overlaps another network's.
    #[error("network {network:?}: subnet {subnet} overlaps {other_subnet} of {other}")]
    SubnetOverlap {
        /// The network's name.
        network: String,
        /// Its subnet.
        subnet: String,
        /// The other network (boxed: the error stays small).
        other: Box<ObjectRef>,
        /// The other network's subnet.
        other_subnet: String,
    },
    /// No subnet of the address pool is free.
    #[error("network {network:?}: {reason}")]
    NoSubnet {
        /// The network's name.
        network: String,
        /// Why (the pool and the subnet size).
        reason: String,
    },
    /// At most one ingress network exists.
    #[error("network {network:?}: {existing} is already the ingress network")]
    SecondIngress {
        /// The network's name.
        network: String,
        /// The ingress network.
        existing: ObjectRef,
    },
    /// No service, alias or task of a service answers to the name on the network.
    #[error("{network}: no service or task answers to {name:?}")]
    NameNotResolved {
        /// The network.
        network: ObjectRef,
        /// The name asked for.
        name: String,
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
    /// transient failure of the system random source. A refusal that names other objects
    /// (in use, name or port taken) is not: the caller changes those first. A version conflict is not: the caller
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
            ControlError::NodeVersionConflict { .. }
                | ControlError::ClusterVersionConflict { .. }
                | ControlError::ServiceVersionConflict { .. }
                | ControlError::ObjectVersionConflict { .. }
        )
    }
}
