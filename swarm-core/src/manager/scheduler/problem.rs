//! What the scheduler had to leave out of a round, reported beside its writes.

use crate::mapping::SchedConversionError;
use crate::model::{NodeId, ServiceId, TaskId};
use swarm_sched::SchedError;

/// A stored object the scheduler could not give to the placement engine. The round goes on
/// without it, and the problem is reported again every round until the object changes.
///
/// A pending task that cannot be placed is not a problem: its reason is written into its
/// `status.err`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerProblem {
    /// A node record does not convert: no task is placed on the node.
    #[error("node {node} is left out of scheduling: {source}")]
    NodeNotConverted {
        /// The node.
        node: NodeId,
        /// Which field is wrong.
        source: SchedConversionError,
    },
    /// The engine refused a node (a list past one of its limits): no task is placed on it.
    #[error("node {node} is left out of scheduling: {source}")]
    NodeRefused {
        /// The node.
        node: NodeId,
        /// The engine's error, naming the field.
        source: SchedError,
    },
    /// A task on a node does not convert: what it holds is not charged to its node.
    #[error("task {task} is not charged to its node: {source}")]
    TaskNotConverted {
        /// The task.
        task: TaskId,
        /// Which field is wrong.
        source: SchedConversionError,
    },
    /// The engine refused a task on a node (an amount past one of its limits): what it holds
    /// is not charged to its node.
    #[error("task {task} is not charged to its node: {source}")]
    TaskRefused {
        /// The task.
        task: TaskId,
        /// The engine's error, naming the field.
        source: SchedError,
    },
    /// A service's published ports do not convert: its tasks are placed without checking
    /// host port conflicts.
    #[error("host ports of service {service} are not checked: {source}")]
    PortsNotConverted {
        /// The service.
        service: ServiceId,
        /// Which port is wrong.
        source: SchedConversionError,
    },
}
