//! Tasks as the engine sees them: a shared placement spec and the tasks to place.

use crate::constraint::{Constraint, SpreadPreference};
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::node::{HostPort, Platform};
use std::sync::Arc;

/// A generic resource a task reserves: `count` units (or named items) of `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GenericRequest {
    /// Kind, e.g. `gpu`.
    pub kind: String,
    /// How many units or named items.
    pub count: u64,
}

/// Everything that decides where the tasks of one service version may go.
/// All tasks of a [`TaskGroup`] share one spec.
///
/// ```
/// use swarm_sched::{TaskSpec, Constraint, SpreadPreference};
/// let spec = TaskSpec::default()
///     .with_reservation(0.5, 512 << 20)
///     .with_constraint(Constraint::parse("node.labels.zone==eu").unwrap())
///     .with_preference(SpreadPreference::node_label("rack"));
/// assert_eq!(spec.nano_cpus, 500_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskSpec {
    /// CPU reserved per task, in NanoCPUs (1 core = 1e9).
    pub nano_cpus: u64,
    /// Memory reserved per task, in bytes.
    pub memory_bytes: u64,
    /// Generic resources reserved per task.
    pub generic: Vec<GenericRequest>,
    /// Constraints; all must hold.
    pub constraints: Vec<Constraint>,
    /// Spread preferences, outermost first.
    pub preferences: Vec<SpreadPreference>,
    /// Platforms the image supports; empty = any. A node matches if it matches one of them.
    pub platforms: Vec<Platform>,
    /// Host-mode published ports each task binds on its node.
    pub host_ports: Vec<HostPort>,
    /// At most this many tasks of the service per node; 0 = unlimited.
    pub max_replicas_per_node: u64,
}

impl TaskSpec {
    /// Sets the reservation: CPU in cores (fractional allowed) and memory in bytes.
    pub fn with_reservation(mut self, cpus: f64, memory_bytes: u64) -> Self {
        self.nano_cpus = crate::node::cores_to_nanos(cpus);
        self.memory_bytes = memory_bytes;
        self
    }

    /// Adds a constraint.
    pub fn with_constraint(mut self, c: Constraint) -> Self {
        self.constraints.push(c);
        self
    }

    /// Adds a spread preference (after the existing ones).
    pub fn with_preference(mut self, p: SpreadPreference) -> Self {
        self.preferences.push(p);
        self
    }

    /// Adds a supported platform.
    pub fn with_platform(mut self, p: Platform) -> Self {
        self.platforms.push(p);
        self
    }

    /// Adds a host-mode published port.
    pub fn with_host_port(mut self, p: HostPort) -> Self {
        self.host_ports.push(p);
        self
    }

    /// Sets the max replicas per node (0 = unlimited).
    pub fn with_max_replicas_per_node(mut self, max: u64) -> Self {
        self.max_replicas_per_node = max;
        self
    }

    /// Adds a generic resource reservation.
    pub fn with_generic(mut self, kind: impl Into<String>, count: u64) -> Self {
        self.generic.push(GenericRequest {
            kind: kind.into(),
            count,
        });
        self
    }
}

/// Tasks of one service and spec version, placed as one batch.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TaskGroup {
    /// The service the tasks belong to.
    pub service: ServiceId,
    /// The service spec version the tasks were created from.
    pub spec_version: u64,
    /// The shared placement spec.
    pub spec: Arc<TaskSpec>,
    /// The tasks, in the order they should be assigned.
    pub tasks: Vec<TaskId>,
}

/// One pending task, as the orchestrator's store holds it.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingTask {
    /// Task ID.
    pub id: TaskId,
    /// Its service.
    pub service: ServiceId,
    /// The service spec version it was created from.
    pub spec_version: u64,
    /// Its placement spec (shared by tasks of one version).
    pub spec: Arc<TaskSpec>,
}

/// Groups pending tasks by (service, spec version), in order of first appearance; tasks keep
/// their order inside a group. The spec of a group is the one of its first task.
///
/// ```
/// use std::sync::Arc;
/// use swarm_sched::{group_pending, PendingTask, TaskSpec};
/// let spec = Arc::new(TaskSpec::default());
/// let t = |id: &str, svc: &str, v| PendingTask { id: id.into(), service: svc.into(), spec_version: v, spec: spec.clone() };
/// let groups = group_pending(vec![t("a", "web", 1), t("b", "db", 1), t("c", "web", 1), t("d", "web", 2)]);
/// assert_eq!(groups.len(), 3);
/// assert_eq!(groups[0].tasks.len(), 2);
/// ```
pub fn group_pending(tasks: impl IntoIterator<Item = PendingTask>) -> Vec<TaskGroup> {
    let mut index: FxHashMap<(ServiceId, u64), usize> = FxHashMap::default();
    let mut groups: Vec<TaskGroup> = Vec::new();
    for t in tasks {
        let key = (t.service.clone(), t.spec_version);
        match index.get(&key) {
            Some(&i) => groups[i].tasks.push(t.id),
            None => {
                index.insert(key, groups.len());
                groups.push(TaskGroup {
                    service: t.service,
                    spec_version: t.spec_version,
                    spec: t.spec,
                    tasks: vec![t.id],
                });
            }
        }
    }
    groups
}

/// A task already running (or assigned) on a node, reported to the engine so it charges
/// the node (for example after a manager restart). Its reservation is released when the
/// task finishes or is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PlacedTask {
    /// Task ID.
    pub id: TaskId,
    /// Its service.
    pub service: ServiceId,
    /// The service spec version it was created from (a failure counts against this version,
    /// as in SwarmKit). 0 if unknown.
    #[cfg_attr(feature = "serde", serde(default))]
    pub spec_version: u64,
    /// The node it runs on.
    pub node: NodeId,
    /// CPU reserved, NanoCPUs.
    pub nano_cpus: u64,
    /// Memory reserved, bytes.
    pub memory_bytes: u64,
    /// Discrete generic resources reserved (kind, count).
    pub generic: Vec<GenericRequest>,
    /// Named generic items held (kind, item), as returned in [`GroupOutcome::claims`](crate::GroupOutcome::claims).
    pub named: Vec<(String, String)>,
    /// Host ports bound.
    pub host_ports: Vec<HostPort>,
}

impl PlacedTask {
    /// A placed task with the given reservation and nothing else (spec version 0).
    pub fn new(
        id: impl Into<TaskId>,
        service: impl Into<ServiceId>,
        node: impl Into<NodeId>,
        nano_cpus: u64,
        memory_bytes: u64,
    ) -> Self {
        Self {
            id: id.into(),
            service: service.into(),
            spec_version: 0,
            node: node.into(),
            nano_cpus,
            memory_bytes,
            generic: Vec::new(),
            named: Vec::new(),
            host_ports: Vec::new(),
        }
    }

    /// Sets the spec version the task was created from.
    pub fn with_spec_version(mut self, spec_version: u64) -> Self {
        self.spec_version = spec_version;
        self
    }
}
