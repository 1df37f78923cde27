//! Which tasks' logs a subscription wants.

use crate::model::{NodeId, ServiceId, Task, TaskId};
use serde::{Deserialize, Serialize};

/// Most ids a selector names (services, tasks and nodes together).
pub const MAX_LOG_SELECTOR_IDS: usize = 64;

/// The tasks whose logs are wanted: every task of the services, the tasks named, and every
/// task on the nodes (a task passes when it matches any of them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSelector {
    /// Every task of these services.
    pub services: Vec<ServiceId>,
    /// These tasks.
    pub tasks: Vec<TaskId>,
    /// Every task on these nodes.
    pub nodes: Vec<NodeId>,
}

impl LogSelector {
    /// How many ids it names.
    pub fn len(&self) -> usize {
        self.services.len() + self.tasks.len() + self.nodes.len()
    }

    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the task `task` of `service` on `node` is selected.
    pub fn selects(&self, task: &TaskId, service: &ServiceId, node: Option<&NodeId>) -> bool {
        self.tasks.contains(task)
            || self.services.contains(service)
            || node.is_some_and(|n| self.nodes.contains(n))
    }

    /// Whether `task` is selected.
    pub fn selects_task(&self, task: &Task) -> bool {
        self.selects(&task.id, &task.service_id, task.node_id.as_ref())
    }
}
