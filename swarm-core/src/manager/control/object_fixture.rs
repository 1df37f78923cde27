//! A [`ClusterState`] for the unit tests of the control and allocator steps: objects made
//! through the control steps, with their writes applied as the store would.

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::{create_config, create_network, create_secret, create_service};
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{
    ConfigId, ConfigSpec, NetworkId, NetworkSpec, Node, NodeDescription, NodeId, SecretId,
    SecretSpec, ServiceId, ServiceSpec, Task, TaskId, TaskState, TaskStatus,
};
use std::time::{Duration, SystemTime};

/// `secs` after the Unix epoch.
pub(crate) fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

pub(crate) struct Objects {
    pub(crate) state: ClusterState,
    seed: u64,
    tasks: u64,
}

impl Objects {
    pub(crate) fn new() -> Objects {
        Objects {
            state: ClusterState::new(),
            seed: 7,
            tasks: 0,
        }
    }

    /// A seeded splitmix64.
    pub(crate) fn rng(&mut self) -> impl FnMut() -> u64 + '_ {
        move || {
            self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    pub(crate) fn apply(&mut self, writes: &ManagerWrites) {
        self.state.apply(&writes.writes).unwrap();
    }

    pub(crate) fn apply_all(&mut self, writes: &[ManagerWrite]) {
        self.state.apply(writes).unwrap();
    }

    pub(crate) fn network(&mut self, spec: NetworkSpec) -> NetworkId {
        let state = self.state.clone();
        let created = create_network(&state, &spec, at(1), &mut self.rng()).unwrap();
        self.apply(&created.writes);
        created.id
    }

    pub(crate) fn secret(&mut self, name: &str, data: &[u8]) -> SecretId {
        let state = self.state.clone();
        let spec = SecretSpec::new(name, data.to_vec());
        let created = create_secret(&state, &spec, at(1), &mut self.rng()).unwrap();
        self.apply(&created.writes);
        created.id
    }

    pub(crate) fn config(&mut self, name: &str, data: &[u8]) -> ConfigId {
        let state = self.state.clone();
        let spec = ConfigSpec::new(name, data.to_vec());
        let created = create_config(&state, &spec, at(1), &mut self.rng()).unwrap();
        self.apply(&created.writes);
        created.id
    }

    pub(crate) fn service(&mut self, spec: ServiceSpec) -> ServiceId {
        let state = self.state.clone();
        let created = create_service(&state, &spec, at(2), &mut self.rng()).unwrap();
        self.apply(&created.writes);
        created.id
    }

    /// A node record with `hostname`.
    pub(crate) fn node(&mut self, id: &str, hostname: &str) -> NodeId {
        let node = Node {
            id: NodeId::new(id),
            description: Some(NodeDescription {
                hostname: hostname.to_owned(),
                ..NodeDescription::default()
            }),
            ..Node::default()
        };
        self.apply_all(&[ManagerWrite::CreateNode(node)]);
        NodeId::new(id)
    }

    /// A task of `service` in slot `slot`, made as an orchestrator would (state `New`).
    pub(crate) fn task(&mut self, service: &ServiceId, slot: u64) -> TaskId {
        self.tasks += 1;
        let id = TaskId::new(format!("task{:03}", self.tasks));
        let s = self.state.service(service).unwrap();
        let mut task = Task::new(
            id.clone(),
            service.clone(),
            s.spec.task_template.clone(),
            at(3),
        );
        task.slot = Some(slot);
        task.spec_version = s.spec_version.0;
        self.apply_all(&[ManagerWrite::Task(ObjectWrite::Create(task))]);
        id
    }

    /// Replaces task `id` after `edit`.
    pub(crate) fn edit_task(&mut self, id: &TaskId, edit: impl FnOnce(&mut Task)) {
        let task = self.state.task(id).unwrap();
        let version = task.meta.version;
        let mut task = task.clone();
        edit(&mut task);
        self.apply_all(&[ManagerWrite::Task(ObjectWrite::Update {
            object: task,
            expected_version: version,
        })]);
    }

    /// Moves task `id` to `state` (as the agent reports it).
    pub(crate) fn report(&mut self, id: &TaskId, state: TaskState) {
        self.edit_task(id, |t| {
            t.status = TaskStatus::new(state, at(4), state.as_str())
        });
    }
}
