//! Tasks: one scheduled instance of a service, and its lifecycle states.

use crate::model::container::ContainerSpec;
use crate::model::ids::{NodeId, ServiceId, TaskId};
use crate::model::resources::{ResourceRequirements, Resources};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The lifecycle state of a task, in order. A task's observed state only moves forward
/// (see [`TaskState::can_transition_to`]); the numeric values follow SwarmKit's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u16)]
pub enum TaskState {
    /// Created, not yet seen by the scheduler.
    New = 0,
    /// Waiting for the scheduler to assign a node.
    Pending = 64,
    /// Assigned to a node, not yet acknowledged by it.
    Assigned = 192,
    /// The node's agent accepted the task.
    Accepted = 256,
    /// The runtime is preparing it (pulling, creating).
    Preparing = 320,
    /// Prepared, ready to start.
    Ready = 384,
    /// Being started.
    Starting = 448,
    /// Running.
    Running = 512,
    /// Exited successfully (terminal).
    Complete = 576,
    /// Stopped on request (terminal).
    Shutdown = 640,
    /// Failed (terminal).
    Failed = 704,
    /// Refused by the node or the runtime (terminal).
    Rejected = 768,
    /// Desired state only: the task is to be removed.
    Remove = 800,
    /// The node holding it was lost for too long (terminal).
    Orphaned = 832,
}

/// The observed status of a task, as reported by its agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// When the state was reached.
    pub timestamp: SystemTime,
    /// The state.
    pub state: TaskState,
    /// A human-readable message, e.g. `"started"`.
    pub message: String,
    /// The error that moved the task to a failed or rejected state, if any.
    pub err: Option<String>,
    /// The process exit code, for terminal states reached by exiting.
    pub exit_code: Option<i32>,
}

/// The template every task of a service is made from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// What to run.
    pub container: ContainerSpec,
    /// Limits and reservations.
    #[serde(default)]
    pub resources: ResourceRequirements,
}

/// One scheduled instance of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// The service it belongs to.
    pub service_id: ServiceId,
    /// The replica slot (replicated services, from 1); `None` for global services.
    pub slot: Option<u64>,
    /// The node it runs on (global services have it from creation, others once assigned).
    pub node_id: Option<NodeId>,
    /// The spec it was created from.
    pub spec: TaskSpec,
    /// The service spec version it was created from.
    pub spec_version: u64,
    /// What the orchestrator wants: running, shutdown, or remove.
    pub desired_state: TaskState,
    /// What the agent last reported.
    pub status: TaskStatus,
    /// Resources the scheduler charged on the assigned node.
    pub assigned_resources: Option<Resources>,
}
