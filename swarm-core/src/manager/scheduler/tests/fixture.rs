//! A cluster state the tests drive: objects stored through `ClusterState::apply` (so with the
//! store's versions), a long-lived scheduler, and each round's writes applied.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::{Scheduler, SchedulingRound};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    GenericResource, Meta, NANO_CPUS_PER_CPU, Node, NodeAvailability, NodeDescription, NodeId,
    NodeRole, NodeState, NodeStatus, Platform, Resources, Service, ServiceId, Task, TaskId,
    TaskSpec, TaskState, TaskStatus, Version,
};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// The fixture's clock at `secs`.
pub(super) fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// A ready, active linux/x86_64 worker with `cores` CPUs and `gib` GiB of memory.
pub(super) fn node(id: &str, cores: i64, gib: i64) -> Node {
    Node {
        id: id.into(),
        meta: Meta::new(Version(0), at(0)),
        description: Some(NodeDescription {
            hostname: format!("host-{id}"),
            platform: Platform::new("linux", "x86_64"),
            resources: Resources {
                nano_cpus: cores * NANO_CPUS_PER_CPU,
                memory_bytes: gib << 30,
                generic: Vec::new(),
            },
            ..NodeDescription::default()
        }),
        status: NodeStatus {
            state: NodeState::Ready,
            ..NodeStatus::default()
        },
        ..Node::default()
    }
}

/// `node` as a manager.
pub(super) fn manager(id: &str, cores: i64, gib: i64) -> Node {
    let mut n = node(id, cores, gib);
    n.spec.role = NodeRole::Manager;
    n
}

/// A template reserving `cores` CPUs (may be fractional, in thousandths) and `mib` MiB.
pub(super) fn reserving(milli_cores: i64, mib: i64) -> TaskSpec {
    let mut spec = TaskSpec::default();
    spec.resources.reservations = Some(Resources {
        nano_cpus: milli_cores * (NANO_CPUS_PER_CPU / 1000),
        memory_bytes: mib << 20,
        generic: Vec::new(),
    });
    spec
}

/// `spec` also reserving `count` of generic `kind`.
pub(super) fn with_generic(mut spec: TaskSpec, kind: &str, count: i64) -> TaskSpec {
    let r = spec
        .resources
        .reservations
        .get_or_insert_with(Resources::default);
    r.generic.push(GenericResource::Discrete {
        kind: kind.into(),
        value: count,
    });
    spec
}

/// A state, a long-lived scheduler and a clock.
pub(super) struct Cluster {
    pub(super) state: ClusterState,
    pub(super) scheduler: Scheduler,
    pub(super) now: SystemTime,
}

impl Cluster {
    pub(super) fn new() -> Cluster {
        Cluster {
            state: ClusterState::new(),
            scheduler: Scheduler::new(),
            now: at(0),
        }
    }

    /// A cluster holding `nodes`.
    pub(super) fn with_nodes(nodes: impl IntoIterator<Item = Node>) -> Cluster {
        let mut c = Cluster::new();
        for n in nodes {
            c.add_node(n);
        }
        c
    }

    fn apply(&mut self, writes: &[ManagerWrite]) {
        self.state
            .apply(writes)
            .expect("the fixture's writes apply");
    }

    pub(super) fn add_node(&mut self, mut node: Node) {
        node.meta.created_at = self.now;
        self.apply(&[ManagerWrite::CreateNode(node)]);
    }

    pub(super) fn update_node(&mut self, id: &str, f: impl FnOnce(&mut Node)) {
        let mut node = self.state.node(&id.into()).expect("node").clone();
        let expected_version = node.meta.version;
        f(&mut node);
        self.apply(&[ManagerWrite::UpdateNode {
            node,
            expected_version,
        }]);
    }

    pub(super) fn remove_node(&mut self, id: &str) {
        let expected_version = self.state.node(&id.into()).expect("node").meta.version;
        self.apply(&[ManagerWrite::DeleteNode {
            id: id.into(),
            expected_version,
        }]);
    }

    pub(super) fn put_service(&mut self, service: Service) {
        let write = match self.state.service(&service.id) {
            Some(held) => ObjectWrite::Update {
                expected_version: held.meta.version,
                object: service,
            },
            None => ObjectWrite::Create(service),
        };
        self.apply(&[ManagerWrite::Service(write)]);
    }

    /// Creates `n` pending tasks `{service}.{i}` (i from `first`) of `spec`, spec version 1.
    pub(super) fn pending(
        &mut self,
        service: &str,
        first: usize,
        n: usize,
        spec: &TaskSpec,
    ) -> Vec<TaskId> {
        let mut ids = Vec::new();
        for i in first..first + n {
            let mut task = pending_task(&format!("{service}.{i:03}"), service, spec, self.now);
            task.slot = Some(i as u64);
            ids.push(task.id.clone());
            self.apply(&[ManagerWrite::Task(ObjectWrite::Create(task))]);
        }
        ids
    }

    /// Creates a pending task of `service` whose node is preset (a global service's).
    pub(super) fn pending_on(&mut self, id: &str, service: &str, node: &str, spec: &TaskSpec) {
        let mut task = pending_task(id, service, spec, self.now);
        task.node_id = Some(node.into());
        self.apply(&[ManagerWrite::Task(ObjectWrite::Create(task))]);
    }

    pub(super) fn update_task(&mut self, id: &TaskId, f: impl FnOnce(&mut Task)) {
        let mut task = self.task(id).clone();
        let expected_version = task.meta.version;
        f(&mut task);
        self.apply(&[ManagerWrite::Task(ObjectWrite::Update {
            object: task,
            expected_version,
        })]);
    }

    /// The agent reports `state` for the task.
    pub(super) fn report(&mut self, id: &TaskId, state: TaskState) {
        let now = self.now;
        self.update_task(id, |t| {
            t.update_status(TaskStatus::new(state, now, state.as_str()))
                .expect("a legal report");
        });
    }

    pub(super) fn delete_task(&mut self, id: &TaskId) {
        let expected_version = self.task(id).meta.version;
        self.apply(&[ManagerWrite::Task(ObjectWrite::Delete {
            id: id.as_str().into(),
            expected_version,
        })]);
    }

    pub(super) fn task(&self, id: &TaskId) -> &Task {
        self.state.task(id).expect("task")
    }

    /// A round of the long-lived scheduler, its writes applied.
    pub(super) fn round(&mut self) -> SchedulingRound {
        let round = self.scheduler.schedule(&self.state, self.now);
        self.apply(&round.writes);
        round
    }

    /// Tasks assigned (or further) per node.
    pub(super) fn per_node(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for task in self.state.tasks().values() {
            if let (Some(node), true) = (&task.node_id, task.status.state >= TaskState::Assigned) {
                *counts.entry(node.as_str().to_owned()).or_default() += 1;
            }
        }
        counts
    }

    /// The node of `id`, if assigned.
    pub(super) fn node_of(&self, id: &TaskId) -> Option<&str> {
        self.task(id).node_id.as_ref().map(NodeId::as_str)
    }
}

/// A pending task of `service` made from `spec`, spec version 1.
pub(super) fn pending_task(id: &str, service: &str, spec: &TaskSpec, now: SystemTime) -> Task {
    let mut task = Task::new(id.into(), ServiceId::new(service), spec.clone(), now);
    task.spec_version = 1;
    task.status = TaskStatus::new(TaskState::Pending, now, "pending task scheduling");
    task
}

/// A service `id` with default spec.
pub(super) fn service(id: &str) -> Service {
    let mut s = Service {
        id: id.into(),
        ..Service::default()
    };
    s.spec.name = id.into();
    s
}

/// Sets a node's availability, for `Cluster::update_node`.
pub(super) fn set_availability(a: NodeAvailability) -> impl FnOnce(&mut Node) {
    move |n| n.spec.availability = a
}
