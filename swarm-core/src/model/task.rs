//! Tasks: one scheduled instance of a service, its template and its observed status.

use crate::model::container::ContainerSpec;
use crate::model::endpoint::Endpoint;
use crate::model::ids::{NodeId, ServiceId, TaskId};
use crate::model::meta::{Meta, Version};
use crate::model::network_attachment::{NetworkAttachment, NetworkAttachmentConfig};
use crate::model::placement::Placement;
use crate::model::resources::{ResourceRequirements, Resources};
use crate::model::restart_policy::RestartPolicy;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

use crate::model::task_state::{TaskState, TransitionError};

/// SwarmKit's default number of ended tasks kept per slot (or per node for global services).
pub const DEFAULT_TASK_HISTORY_RETENTION_LIMIT: u64 = 5;

/// The observed status of a task, as reported by its agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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

impl TaskStatus {
    /// A status without error or exit code.
    pub fn new(state: TaskState, timestamp: SystemTime, message: impl Into<String>) -> Self {
        TaskStatus {
            timestamp,
            state,
            message: message.into(),
            err: None,
            exit_code: None,
        }
    }
}

impl Default for TaskStatus {
    /// State `new` at the Unix epoch.
    fn default() -> Self {
        TaskStatus::new(TaskState::New, SystemTime::UNIX_EPOCH, "")
    }
}

/// The template every task of a service is made from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskSpec {
    /// What to run.
    pub container: ContainerSpec,
    /// Limits and reservations.
    pub resources: ResourceRequirements,
    /// When ended tasks are replaced.
    pub restart_policy: RestartPolicy,
    /// Where tasks may run.
    pub placement: Placement,
    /// Networks the tasks join.
    pub networks: Vec<NetworkAttachmentConfig>,
    /// Changing this counter alone forces every task to be replaced
    /// (`docker service update --force`).
    pub force_update: u64,
}

/// One scheduled instance of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// Version and timestamps.
    #[serde(default)]
    pub meta: Meta,
    /// The service it belongs to.
    pub service_id: ServiceId,
    /// The replica slot (replicated services, from 1); `None` for global services.
    #[serde(default)]
    pub slot: Option<u64>,
    /// The node it runs on (global services have it from creation, others once assigned).
    #[serde(default)]
    pub node_id: Option<NodeId>,
    /// The spec it was created from.
    pub spec: TaskSpec,
    /// The service spec version it was created from.
    #[serde(default)]
    pub spec_version: u64,
    /// What the orchestrator wants: ready, running, complete, shutdown or remove.
    pub desired_state: TaskState,
    /// What the agent last reported.
    #[serde(default)]
    pub status: TaskStatus,
    /// Resources the scheduler charged on the assigned node.
    #[serde(default)]
    pub assigned_resources: Option<Resources>,
    /// The task's addresses on its networks, filled in by the allocator.
    #[serde(default)]
    pub networks: Vec<NetworkAttachment>,
    /// Its service's endpoint when the allocator gave the task its attachments (SwarmKit's
    /// `Task.Endpoint`): the published ports a runtime opens for the task (host mode) or
    /// routes to it (ingress mode). `None` until then. A task whose endpoint spec differs from
    /// its service's is replaced by a rolling update
    /// ([`is_task_dirty`](crate::manager::orchestrator::is_task_dirty)).
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// The job iteration the task belongs to (job modes only).
    #[serde(default)]
    pub job_iteration: Option<Version>,
    /// The name and labels of its service when the task was made (SwarmKit's
    /// `ServiceAnnotations`): an agent expands `{{.Service.Name}}` with them, and a task
    /// list filtered by label matches them.
    #[serde(default)]
    pub service_annotations: ServiceAnnotations,
    /// When its agent first reported it running (the status time then), kept once it ends;
    /// `None` if it was never seen running. A rolling update's monitor window counts from it.
    #[serde(default)]
    pub running_since: Option<SystemTime>,
    /// The start of the rolling update or rollback that created the task (its service's
    /// `update_status.started_at` then); `None` for a task another step made (a new slot, a
    /// restart, a replacement for a failed node). An update watches only its own tasks, as
    /// SwarmKit's updater does: a restart of one of them neither takes a place of a batch
    /// nor extends the update's watch, so an update ends while its tasks keep restarting.
    #[serde(default)]
    pub update_started_at: Option<SystemTime>,
}

/// A service's name and labels, as a task carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceAnnotations {
    /// The service's name.
    pub name: String,
    /// The service's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Task {
    /// A new task of `service_id` made from `spec`, in state `new` with desired state `running`.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use swarm_core::model::{Task, TaskSpec, TaskState, TaskStatus};
    ///
    /// let now = SystemTime::now();
    /// let mut task = Task::new("t1".into(), "web".into(), TaskSpec::default(), now);
    /// task.update_status(TaskStatus::new(TaskState::Pending, now, "pending")).unwrap();
    /// assert!(task.update_status(TaskStatus::new(TaskState::New, now, "")).is_err());
    /// assert_eq!(task.status.state, TaskState::Pending);
    /// ```
    pub fn new(id: TaskId, service_id: ServiceId, spec: TaskSpec, now: SystemTime) -> Self {
        Task {
            id,
            meta: Meta::new(Version(0), now),
            service_id,
            slot: None,
            node_id: None,
            spec,
            spec_version: 0,
            desired_state: TaskState::Running,
            status: TaskStatus::new(TaskState::New, now, "created"),
            assigned_resources: None,
            networks: Vec::new(),
            endpoint: None,
            job_iteration: None,
            service_annotations: ServiceAnnotations::default(),
            running_since: None,
            update_started_at: None,
        }
    }

    /// Records a newly observed status. A status in the current state refreshes the message,
    /// error and exit code; a new state must be a legal forward move
    /// ([`TaskState::transition_to`]). The first move to `running` sets
    /// [`Task::running_since`] to the status time. On error the task is unchanged.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use swarm_core::model::{Task, TaskState, TaskStatus};
    ///
    /// let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
    /// let mut task = Task::new("t1".into(), "web".into(), Default::default(), t0);
    /// task.update_status(TaskStatus::new(TaskState::Running, t0, "started")).unwrap();
    /// let later = t0 + Duration::from_secs(3);
    /// task.update_status(TaskStatus::new(TaskState::Failed, later, "failed")).unwrap();
    /// assert_eq!(task.running_since, Some(t0));
    /// ```
    pub fn update_status(&mut self, status: TaskStatus) -> Result<(), TransitionError> {
        if status.state != self.status.state {
            self.status.state.transition_to(status.state)?;
        } else if !status.state.is_observable() {
            return Err(TransitionError::NotObservable { to: status.state });
        }
        if status.state == TaskState::Running && self.running_since.is_none() {
            self.running_since = Some(status.timestamp);
        }
        self.status = status;
        Ok(())
    }

    /// Changes the desired state; it only moves forward ([`TaskState::desired_transition_to`]).
    pub fn set_desired_state(&mut self, desired: TaskState) -> Result<(), TransitionError> {
        self.desired_state = self.desired_state.desired_transition_to(desired)?;
        Ok(())
    }
}
