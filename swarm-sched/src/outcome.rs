//! The result of placing one group: assignments, what was left unplaced and why, and the
//! named items claimed.

use crate::ids::{NodeId, ServiceId, TaskId};
use crate::unschedulable::Unschedulable;

/// One decision: this task goes to this node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Assignment {
    /// The task.
    pub task: TaskId,
    /// The node chosen.
    pub node: NodeId,
}

/// A named generic item claimed for a placed task, e.g. GPU `GPU-1` of kind `gpu`: the task
/// holds it alone until it finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NamedClaim {
    /// The task.
    pub task: TaskId,
    /// Resource kind.
    pub kind: String,
    /// Item identifier.
    pub item: String,
}

/// The result of placing one group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GroupOutcome {
    /// The group's service.
    pub service: ServiceId,
    /// The group's spec version.
    pub spec_version: u64,
    /// Tasks placed, in the group's task order.
    pub assignments: Vec<Assignment>,
    /// Tasks no node could take, in the group's order.
    pub unplaced: Vec<TaskId>,
    /// Why, when `unplaced` is not empty: per filter, how many nodes it excluded.
    pub reason: Option<Unschedulable>,
    /// Tasks skipped because the engine already accounts them on a node.
    pub already_placed: Vec<TaskId>,
    /// Named generic items claimed by the placed tasks (empty unless the spec asks for a
    /// kind that nodes advertise as named items).
    pub claims: Vec<NamedClaim>,
}
