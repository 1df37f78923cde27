//! A cluster state for the orchestrators' tests, with a stand-in for the allocator and the
//! scheduler (place pending tasks on the least loaded fitting node) and for the agents (run
//! what is desired, stop what is not), so a test can drive the steps until they converge.

use crate::manager::cluster_state::ClusterState;
use crate::manager::orchestrator::node_fit::PlacementFilter;
use crate::manager::orchestrator::{OrchestrationRound, orchestrate};
use crate::manager::writes::{ManagerWrite, ObjectWrite};
use crate::model::{
    Cluster, Node, NodeAvailability, NodeDescription, NodeId, NodeState, Resources, Service,
    ServiceId, ServiceMode, ServiceSpec, Task, TaskId, TaskState, TaskStatus, Version,
};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// Most orchestrate / schedule / run passes [`Fixture::converge`] makes.
const MAX_PASSES: usize = 200;

pub(crate) struct Fixture {
    pub(crate) state: ClusterState,
    pub(crate) rng: u64,
    /// Job tasks that fail instead of completing when run.
    pub(crate) failing: BTreeSet<ServiceId>,
    /// Images whose tasks fail as they start (they never run).
    pub(crate) failing_images: BTreeSet<String>,
    /// The most job tasks of each service seen running at once.
    pub(crate) most_running: std::collections::BTreeMap<ServiceId, usize>,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let mut state = ClusterState::new();
        let mut cluster = Cluster::default();
        cluster.meta.version = Version(1);
        state.set_cluster(Some(cluster));
        Fixture {
            state,
            rng: 7,
            failing: BTreeSet::new(),
            failing_images: BTreeSet::new(),
            most_running: Default::default(),
        }
    }

    pub(crate) fn at(&self, secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    /// A ready, active worker named `id` with 4 CPUs and 8 GiB.
    pub(crate) fn node(&mut self, id: &str) -> NodeId {
        let node = Node {
            id: id.into(),
            description: Some(NodeDescription {
                hostname: id.to_owned(),
                resources: Resources {
                    nano_cpus: 4_000_000_000,
                    memory_bytes: 8 << 30,
                    generic: Vec::new(),
                },
                ..NodeDescription::default()
            }),
            ..Node::default()
        };
        self.apply(&[ManagerWrite::CreateNode(node)]);
        self.change_node(id, 0, |n| n.status.state = NodeState::Ready);
        id.into()
    }

    /// Changes node `id` at `secs` (its `updated_at`), as a node write would.
    pub(crate) fn change_node(&mut self, id: &str, secs: u64, f: impl FnOnce(&mut Node)) {
        let read = self.state.node(&id.into()).expect("node").clone();
        let mut node = read.clone();
        f(&mut node);
        node.meta.updated_at = self.at(secs);
        self.apply(&[ManagerWrite::UpdateNode {
            node,
            expected_version: read.meta.version,
        }]);
    }

    pub(crate) fn set_availability(&mut self, id: &str, secs: u64, a: NodeAvailability) {
        self.change_node(id, secs, |n| n.spec.availability = a);
    }

    pub(crate) fn set_node_state(&mut self, id: &str, secs: u64, s: NodeState) {
        self.change_node(id, secs, |n| n.status.state = s);
    }

    pub(crate) fn service(&mut self, name: &str, mode: ServiceMode) -> ServiceId {
        let mut spec = ServiceSpec::new(name, "busybox");
        spec.mode = mode;
        spec.task_template.restart_policy.delay = Duration::ZERO;
        let service = Service {
            id: name.into(),
            spec,
            spec_version: Version(1),
            ..Service::default()
        };
        self.apply(&[ManagerWrite::Service(ObjectWrite::Create(service))]);
        name.into()
    }

    pub(crate) fn replicated(&mut self, name: &str, replicas: u64) -> ServiceId {
        self.service(name, ServiceMode::Replicated { replicas })
    }

    /// Changes the spec of `id` (bumping its spec version, as a service update does).
    pub(crate) fn update_service(&mut self, id: &ServiceId, f: impl FnOnce(&mut ServiceSpec)) {
        let read = self.state.service(id).expect("service").clone();
        let mut service = read.clone();
        f(&mut service.spec);
        service.spec_version = Version(read.spec_version.0 + 1);
        self.apply(&[ManagerWrite::Service(ObjectWrite::Update {
            object: service,
            expected_version: read.meta.version,
        })]);
    }

    pub(crate) fn delete_service(&mut self, id: &ServiceId) {
        let read = self.state.service(id).expect("service").clone();
        self.apply(&[ManagerWrite::Service(ObjectWrite::Delete {
            id: id.as_str().to_owned(),
            expected_version: read.meta.version,
        })]);
    }

    pub(crate) fn apply(&mut self, writes: &[ManagerWrite]) {
        self.state.apply(writes).expect("writes apply");
    }

    /// One orchestration round at `secs`, applied.
    pub(crate) fn round(&mut self, secs: u64) -> OrchestrationRound {
        let now = self.at(secs);
        let mut seed = self.rng;
        let mut source = || splitmix(&mut seed);
        let round = orchestrate(&self.state, now, &mut source);
        self.rng = seed;
        let mut objects = BTreeSet::new();
        for w in &round.writes {
            assert!(
                objects.insert(object_of(w)),
                "two writes to {:?}",
                object_of(w)
            );
        }
        self.apply(&round.writes);
        round
    }

    /// A task's status set at `secs`, as the agent reports it.
    pub(crate) fn report(&mut self, id: &TaskId, state: TaskState, secs: u64) {
        let read = self.state.task(id).expect("task").clone();
        let mut task = read.clone();
        task.update_status(TaskStatus::new(state, self.at(secs), state.as_str()))
            .expect("legal transition");
        self.apply(&[ManagerWrite::Task(ObjectWrite::Update {
            object: task,
            expected_version: read.meta.version,
        })]);
    }

    /// The allocator and the scheduler: new tasks go pending; pending tasks go to the fitting,
    /// ready, active node with the fewest live tasks (global ones to their node if it fits).
    pub(crate) fn schedule(&mut self, secs: u64) {
        let ids: Vec<TaskId> = self.state.tasks().keys().cloned().collect();
        for id in ids {
            let task = self.state.task(&id).expect("task").clone();
            if task.desired_state > TaskState::Complete || task.status.state > TaskState::Pending {
                continue;
            }
            if task.status.state == TaskState::New {
                self.report(&id, TaskState::Pending, secs);
            }
            let filter = PlacementFilter::new(&task.spec.placement);
            let usable = |n: &Node| {
                n.status.state == NodeState::Ready
                    && n.spec.availability == NodeAvailability::Active
                    && filter.fits(n)
            };
            let node = match &task.node_id {
                Some(n) => self
                    .state
                    .node(n)
                    .filter(|n| usable(n))
                    .map(|n| n.id.clone()),
                None => self
                    .state
                    .nodes()
                    .values()
                    .filter(|n| usable(n))
                    .min_by_key(|n| {
                        (
                            self.state
                                .tasks_on_node(&n.id)
                                .filter(|t| t.desired_state <= TaskState::Complete)
                                .count(),
                            n.id.clone(),
                        )
                    })
                    .map(|n| n.id.clone()),
            };
            let Some(node) = node else { continue };
            let read = self.state.task(&id).expect("task").clone();
            let mut task = read.clone();
            task.node_id = Some(node);
            task.update_status(TaskStatus::new(
                TaskState::Assigned,
                self.at(secs),
                "assigned",
            ))
            .expect("legal");
            self.apply(&[ManagerWrite::Task(ObjectWrite::Update {
                object: task,
                expected_version: read.meta.version,
            })]);
        }
    }

    /// The agents of ready nodes: assigned tasks start (those desired ready are only
    /// prepared, those of `failing_images` fail instead); running job tasks complete (or
    /// fail for services in `failing`); tasks desired past running stop.
    pub(crate) fn run_agents(&mut self, secs: u64) {
        let ids: Vec<TaskId> = self.state.tasks().keys().cloned().collect();
        for id in ids {
            let task = self.state.task(&id).expect("task").clone();
            let Some(node) = task.node_id.as_ref().and_then(|n| self.state.node(n)) else {
                continue;
            };
            if node.status.state != NodeState::Ready
                || task.status.state < TaskState::Assigned
                || task.status.state.is_terminal()
            {
                continue;
            }
            let next = if task.desired_state > TaskState::Complete {
                TaskState::Shutdown
            } else if task.desired_state == TaskState::Ready {
                if task.status.state >= TaskState::Ready {
                    continue;
                }
                TaskState::Ready
            } else if task.status.state < TaskState::Running {
                if self.failing_images.contains(&task.spec.container.image) {
                    TaskState::Failed
                } else {
                    TaskState::Running
                }
            } else if task.desired_state == TaskState::Complete {
                if self.failing.contains(&task.service_id) {
                    TaskState::Failed
                } else {
                    TaskState::Complete
                }
            } else {
                continue;
            };
            self.report(&id, next, secs);
        }
        for service in self.state.services().values() {
            if !service.spec.mode.is_job() {
                continue;
            }
            let running = self
                .state
                .tasks_of_service(&service.id)
                .filter(|t| t.status.state == TaskState::Running)
                .count();
            let most = self.most_running.entry(service.id.clone()).or_default();
            *most = (*most).max(running);
        }
    }

    /// Rounds, scheduling and agent passes at `secs` until a round writes nothing and no task
    /// changes.
    pub(crate) fn orchestrate_and_run(&mut self, secs: u64) -> OrchestrationRound {
        self.converge(secs, |_| {})
    }

    /// [`Fixture::orchestrate_and_run`], calling `check` after the round, the scheduler and
    /// the agents of every pass.
    pub(crate) fn converge(
        &mut self,
        secs: u64,
        mut check: impl FnMut(&Fixture),
    ) -> OrchestrationRound {
        for _ in 0..MAX_PASSES {
            let before = self.fingerprint();
            let round = self.round(secs);
            check(self);
            self.schedule(secs);
            check(self);
            self.run_agents(secs);
            check(self);
            if round.writes.is_empty() && self.fingerprint() == before {
                return round;
            }
        }
        panic!("no convergence in {MAX_PASSES} passes");
    }

    /// The fixture's seconds of `at` (rounded up).
    pub(crate) fn secs_of(&self, at: SystemTime) -> u64 {
        let since = at
            .duration_since(self.at(0))
            .expect("after the fixture's start");
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }

    fn fingerprint(&self) -> Vec<(TaskId, Version)> {
        self.state
            .tasks()
            .values()
            .map(|t| (t.id.clone(), t.meta.version))
            .collect()
    }

    pub(crate) fn tasks_of(&self, service: &ServiceId) -> Vec<Task> {
        self.state.tasks_of_service(service).cloned().collect()
    }

    /// Live tasks of `service` (desired state at most complete).
    pub(crate) fn live(&self, service: &ServiceId) -> Vec<Task> {
        self.state
            .tasks_of_service(service)
            .filter(|t| t.desired_state <= TaskState::Complete)
            .cloned()
            .collect()
    }

    /// Slots of the live tasks of `service`, sorted.
    pub(crate) fn live_slots(&self, service: &ServiceId) -> Vec<u64> {
        let mut slots: Vec<u64> = self.live(service).iter().filter_map(|t| t.slot).collect();
        slots.sort_unstable();
        slots
    }

    /// Nodes of the live tasks of `service`, sorted.
    pub(crate) fn live_nodes(&self, service: &ServiceId) -> Vec<String> {
        let mut nodes: Vec<String> = self
            .live(service)
            .iter()
            .filter_map(|t| t.node_id.as_ref().map(|n| n.as_str().to_owned()))
            .collect();
        nodes.sort();
        nodes
    }
}

/// The object a write names, to check one write per object.
pub(crate) fn object_of(write: &ManagerWrite) -> String {
    fn key<T: crate::manager::state::schema::StoredObject>(w: &ObjectWrite<T>) -> String {
        match w {
            ObjectWrite::Create(o) | ObjectWrite::Update { object: o, .. } => {
                format!("{}/{}", T::COLLECTION, o.key())
            }
            ObjectWrite::Delete { id, .. } => format!("{}/{id}", T::COLLECTION),
        }
    }
    match write {
        ManagerWrite::Task(w) => key(w),
        ManagerWrite::Service(w) => key(w),
        other => format!("{other:?}"),
    }
}

/// splitmix64: the tests' seeded random source.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
