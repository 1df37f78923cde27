//! What a manager step asks for, as data: store writes and Raft membership changes.
//!
//! Steps never write; they return these values, and the loop that called them applies the
//! store writes in one transaction (refused as a whole if a version check fails) and then
//! carries out the membership changes in order through swarm-store's membership API.

use crate::manager::state::{RootCaSlot, StoredRootCa};
use crate::model::{
    Cluster, ClusterId, Config, Network, Node, NodeId, Secret, Service, Task, Version,
};
use swarm_store::MemberId;

/// A write of one stored object of the orchestration state (service, task, secret, config or
/// network), with the same version rule as the node writes: a replace or delete names the
/// version the step read, and a create needs the object absent.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectWrite<T> {
    /// Creates the object; refused if one with its id exists.
    Create(T),
    /// Replaces the object read at `expected_version` (the store assigns the next version).
    Update {
        /// The new object.
        object: T,
        /// The version the step read.
        expected_version: Version,
    },
    /// Deletes the object read at `expected_version`.
    Delete {
        /// The object's id.
        id: String,
        /// The version the step read.
        expected_version: Version,
    },
}

/// A write to the managers' store that a step asks for.
///
/// Every write that replaces or deletes an object carries the version the step read it at; the
/// store refuses the whole transaction when the stored version differs (a lost update), and the
/// caller re-reads and calls the step again.
// The variants hold whole objects inline: a transaction's writes are mostly of one kind
// (tasks), so boxing would add an allocation per write without saving memory.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ManagerWrite {
    /// Creates a node record; refused if a node with that id exists.
    CreateNode(Node),
    /// Replaces a node record read at `expected_version`.
    UpdateNode {
        /// The new record (its `meta.updated_at` set by the step; the store assigns the new
        /// version).
        node: Node,
        /// The version the step read.
        expected_version: Version,
    },
    /// Deletes a node record read at `expected_version`.
    DeleteNode {
        /// The node.
        id: NodeId,
        /// The version the step read.
        expected_version: Version,
    },
    /// Creates the cluster object; refused if one exists.
    CreateCluster(Cluster),
    /// Replaces the cluster object read at `expected_version`.
    UpdateCluster {
        /// The new object.
        cluster: Cluster,
        /// The version the step read.
        expected_version: Version,
    },
    /// Creates or replaces a root CA record (certificate and private key) in `slot`.
    ///
    /// It carries no version of its own: steps emit it only in the same transaction as an
    /// [`ManagerWrite::UpdateCluster`], whose version check guards it (the cluster object
    /// records which root records exist, and every step that changes them changes the
    /// cluster object too), so two concurrent changes of the roots cannot both apply.
    PutRootCa {
        /// Which record.
        slot: RootCaSlot,
        /// The record (its `cluster_id` names the cluster).
        root: StoredRootCa,
    },
    /// Deletes a root CA record if present; guarded like [`ManagerWrite::PutRootCa`].
    DeleteRootCa {
        /// The cluster.
        cluster: ClusterId,
        /// Which record.
        slot: RootCaSlot,
    },
    /// Creates, replaces or deletes a service.
    Service(ObjectWrite<Service>),
    /// Creates, replaces or deletes a task.
    Task(ObjectWrite<Task>),
    /// Creates, replaces or deletes a secret (its value is stored in the store, which the
    /// managers encrypt at rest; no read path returns it).
    Secret(ObjectWrite<Secret>),
    /// Creates, replaces or deletes a config.
    Config(ObjectWrite<Config>),
    /// Creates, replaces or deletes a network.
    Network(ObjectWrite<Network>),
}

/// A change to the Raft group that a step asks for, carried out by the loop through
/// swarm-store's `Store::add_learner`, `Store::promote` and `Store::remove`, in the order
/// given.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MembershipChange {
    /// Adds `member`, reachable at `addr`, as a learner: it receives the log but does not vote.
    AddLearner {
        /// The new member's Raft id.
        member: MemberId,
        /// The node it belongs to.
        node: NodeId,
        /// Where other managers reach it (`host:port`).
        addr: String,
    },
    /// Makes learner `member` a voter. The loop waits until the learner has caught up with
    /// the leader's log before asking (swarm-store refuses a promotion that would leave no
    /// reachable quorum).
    Promote {
        /// The learner.
        member: MemberId,
        /// The node it belongs to.
        node: NodeId,
    },
    /// Removes `member` from the group. `force` skips swarm-store's quorum guard (only a
    /// forced leave asks for it). Once the removal is done, the loop clears the node's
    /// `manager_status` (steps keep it until then, so the node still counts as a member).
    Remove {
        /// The member.
        member: MemberId,
        /// The node it belongs to.
        node: NodeId,
        /// Whether to skip the quorum guard.
        force: bool,
    },
}

/// What a step decided: the store writes (applied in one transaction) and then the membership
/// changes (in order, after the writes committed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManagerWrites {
    /// Store writes, applied together or not at all.
    pub writes: Vec<ManagerWrite>,
    /// Raft membership changes, carried out in order after the writes.
    pub membership: Vec<MembershipChange>,
}
