//! Nodes: the machines of the cluster, what their operators declare and what they report.

use crate::model::ids::NodeId;
use crate::model::manager_status::ManagerStatus;
use crate::model::meta::Meta;
use crate::model::node_description::NodeDescription;
use crate::model::node_status::NodeStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;
use swarm_secrets::CaDigest;

/// Whether a node takes part in the control plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Runs tasks only.
    #[default]
    Worker,
    /// Holds a replica of the cluster state (Raft) and may run tasks.
    Manager,
}

impl fmt::Display for NodeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeRole::Worker => "worker",
            NodeRole::Manager => "manager",
        })
    }
}

/// Whether the scheduler may place tasks on a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeAvailability {
    /// New tasks may be placed on the node.
    #[default]
    Active,
    /// No new tasks are placed; running tasks stay.
    Pause,
    /// No new tasks are placed and running tasks are moved elsewhere.
    Drain,
}

impl fmt::Display for NodeAvailability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeAvailability::Active => "active",
            NodeAvailability::Pause => "pause",
            NodeAvailability::Drain => "drain",
        })
    }
}

/// Whether the cluster admitted a node, as SwarmKit's `NodeSpec.Membership`.
///
/// A node that presents a valid join token is accepted at once (SwarmKit has auto-accepted
/// since Docker 1.12), so every node the join step records is [`NodeMembership::Accepted`];
/// the value exists for `node ls --filter membership=...` and for records written by other
/// tools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeMembership {
    /// Known to the cluster but not admitted yet.
    Pending,
    /// Admitted: it holds a certificate and may take part.
    #[default]
    Accepted,
}

impl fmt::Display for NodeMembership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeMembership::Pending => "pending",
            NodeMembership::Accepted => "accepted",
        })
    }
}

/// What an operator declares about a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeSpec {
    /// Optional name; the hostname from the description is shown when empty.
    pub name: String,
    /// Operator labels, matched by constraints as `node.labels.<key>`.
    pub labels: BTreeMap<String, String>,
    /// Desired role.
    pub role: NodeRole,
    /// Desired scheduling availability.
    pub availability: NodeAvailability,
    /// Whether the cluster admitted the node.
    pub membership: NodeMembership,
}

/// A node of the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The node's id (from its certificate).
    pub id: NodeId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// What the operator declared.
    #[serde(default)]
    pub spec: NodeSpec,
    /// What the node reported about itself; `None` until its first session.
    #[serde(default)]
    pub description: Option<NodeDescription>,
    /// Liveness as seen by the dispatcher.
    #[serde(default)]
    pub status: NodeStatus,
    /// Raft membership, for managers only.
    #[serde(default)]
    pub manager_status: Option<ManagerStatus>,
    /// The `host:port` the node advertised when it joined: where other managers reach it
    /// once it is (or is promoted to) a manager. Empty when unknown.
    #[serde(default)]
    pub advertise_addr: String,
    /// When the last certificate the cluster issued to the node expires; `None` when unknown.
    /// A removed node stays on the cluster's revocation list until then.
    #[serde(default)]
    pub certificate_not_after: Option<SystemTime>,
    /// The root CA that issued the node's last certificate (its digest); `None` when unknown
    /// (records written before this was kept). During a root rotation a node whose value is
    /// not the new root must renew (see
    /// [`must_renew_now`](crate::manager::root_rotation::must_renew_now)).
    #[serde(default)]
    pub certificate_root: Option<CaDigest>,
}

impl Node {
    /// The name to show: the spec's name, else the reported hostname, else the id.
    pub fn display_name(&self) -> &str {
        if !self.spec.name.is_empty() {
            return &self.spec.name;
        }
        match &self.description {
            Some(d) if !d.hostname.is_empty() => &d.hostname,
            _ => self.id.as_str(),
        }
    }
}
