//! The placement engine and what it was last told: the scheduler's cache of the cluster.

use crate::manager::cluster_state::ClusterState;
use crate::manager::scheduler::SchedulerProblem;
use crate::mapping::service_host_ports;
use crate::model::{NodeId, ServiceId, Task, TaskId, Version};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;
use swarm_sched::{Delta, Engine, EngineConfig, HostPort, PlacedTask, SchedError};

/// The order nodes are given to the engine in (so the order of its slots, which break ties):
/// creation time, then id.
pub(super) type NodeKey = (SystemTime, NodeId);

/// A task the engine charges to a node, as it was told.
#[derive(Debug)]
pub(super) struct Told {
    /// The task's version when it was told; `None` for a task the scheduler placed itself
    /// this round (its write is not stored yet).
    pub(super) version: Option<Version>,
    /// What the engine was told the task holds.
    pub(super) placed: PlacedTask,
}

/// A service's host-mode ports, at the version they were read.
#[derive(Debug)]
pub(super) struct ServicePorts {
    version: Version,
    ports: Arc<[HostPort]>,
    problem: Option<SchedulerProblem>,
}

/// The engine and, keyed by id, what it holds: nodes with the version they were told at,
/// the tasks it charges, the services it knows. Every change to the engine goes through here,
/// so the record and the engine agree.
#[derive(Debug)]
pub(super) struct EngineMirror {
    config: EngineConfig,
    pub(super) engine: Engine,
    /// Nodes the engine holds, with the version told.
    pub(super) nodes: HashMap<NodeId, Version>,
    /// The largest key of a node the engine holds.
    pub(super) last_node_key: Option<NodeKey>,
    /// Nodes left out, at the version that failed, with why.
    pub(super) refused_nodes: BTreeMap<NodeId, (Version, SchedulerProblem)>,
    /// Tasks the engine charges to a node.
    pub(super) tasks: HashMap<TaskId, Told>,
    /// Services the engine knows, with how many of their tasks it charges.
    services_known: HashMap<ServiceId, usize>,
    /// Host ports per service of the state.
    ports: HashMap<ServiceId, ServicePorts>,
    /// How many times the engine started over.
    pub(super) rebuilds: u64,
}

impl EngineMirror {
    /// An empty engine with `config`.
    pub(super) fn new(config: EngineConfig) -> EngineMirror {
        EngineMirror {
            engine: Engine::new(config.clone()),
            config,
            nodes: HashMap::new(),
            last_node_key: None,
            refused_nodes: BTreeMap::new(),
            tasks: HashMap::new(),
            services_known: HashMap::new(),
            ports: HashMap::new(),
            rebuilds: 0,
        }
    }

    /// Starts the engine over, empty: it is filled again from the state.
    pub(super) fn reset_engine(&mut self) {
        self.engine = Engine::new(self.config.clone());
        self.rebuilds += 1;
        self.nodes.clear();
        self.last_node_key = None;
        self.tasks.clear();
        self.services_known.clear();
    }

    /// Brings the engine in line with `state`, reporting what it leaves out.
    pub(super) fn sync(
        &mut self,
        state: &ClusterState,
        now: SystemTime,
        problems: &mut Vec<SchedulerProblem>,
    ) {
        let now_ms = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.engine.set_now_ms(now_ms);
        let ports_changed = self.sync_ports(state);
        self.sync_nodes(state);
        problems.extend(self.refused_nodes.values().map(|(_, p)| p.clone()));
        problems.extend(
            state
                .services()
                .keys()
                .filter_map(|id| self.ports.get(id).and_then(|p| p.problem.clone())),
        );
        self.sync_tasks(state, &ports_changed, problems);
    }

    /// Whether the engine holds `node`.
    pub(super) fn knows_node(&self, node: &NodeId) -> bool {
        self.nodes.contains_key(node)
    }

    /// The host ports tasks of `service` bind (none for a service not in the state).
    pub(super) fn host_ports(&self, service: &ServiceId) -> &[HostPort] {
        self.ports.get(service).map_or(&[], |p| &p.ports)
    }

    /// What `task` holds on its node, with its service's host ports.
    pub(super) fn placed_of(
        &self,
        task: &Task,
    ) -> Result<PlacedTask, crate::mapping::SchedConversionError> {
        let mut placed = PlacedTask::try_from(task)?;
        placed.host_ports = self.host_ports(&task.service_id).to_vec();
        Ok(placed)
    }

    /// Charges `placed` to its node (`Delta::TaskPlaced`) and records it.
    pub(super) fn tell(
        &mut self,
        placed: PlacedTask,
        version: Option<Version>,
    ) -> Result<(), SchedError> {
        self.engine.apply(Delta::TaskPlaced(placed.clone()))?;
        self.record(placed, version);
        Ok(())
    }

    /// Records a task the engine charges already (it placed it).
    pub(super) fn record(&mut self, placed: PlacedTask, version: Option<Version>) {
        let id = TaskId::from(&placed.id);
        *self
            .services_known
            .entry(ServiceId::from(&placed.service))
            .or_default() += 1;
        if let Some(old) = self.tasks.insert(id, Told { version, placed }) {
            self.forget_count(&ServiceId::from(&old.placed.service));
        }
    }

    /// Releases a task the engine charges (`Delta::TaskRemoved`).
    pub(super) fn release(&mut self, task: &TaskId) {
        if let Some(told) = self.tasks.remove(task) {
            // Infallible: an unknown task is ignored.
            let _ = self
                .engine
                .apply(Delta::TaskRemoved(told.placed.id.clone()));
            self.forget_count(&ServiceId::from(&told.placed.service));
        }
    }

    fn forget_count(&mut self, service: &ServiceId) {
        if let Some(n) = self.services_known.get_mut(service) {
            *n = n.saturating_sub(1);
        }
    }

    /// Notes that the engine knows `service` (it scheduled a group of it).
    pub(super) fn touch_service(&mut self, service: &ServiceId) {
        self.services_known.entry(service.clone()).or_default();
    }

    /// Lets the engine forget services gone from the state whose tasks it no longer charges,
    /// so services coming and going do not grow it.
    pub(super) fn forget_gone_services(&mut self, state: &ClusterState) {
        let engine = &mut self.engine;
        self.services_known.retain(|id, charged| {
            let keep = *charged > 0 || state.service(id).is_some();
            if !keep {
                // Infallible: the service holds no task.
                let _ = engine.apply(Delta::ServiceRemoved(id.into()));
            }
            keep
        });
    }

    /// Reads the host ports of every service whose version changed; returns the services
    /// whose ports changed (gone services included).
    fn sync_ports(&mut self, state: &ClusterState) -> HashSet<ServiceId> {
        let mut changed = HashSet::new();
        let mut seen = 0;
        for service in state.services().values() {
            let version = service.meta.version;
            match self.ports.get(&service.id) {
                Some(held) if held.version == version => {
                    seen += 1;
                    continue;
                }
                Some(_) => seen += 1,
                None => {}
            }
            let (ports, problem): (Arc<[HostPort]>, _) = match service_host_ports(service) {
                Ok(ports) => (ports.into(), None),
                Err(source) => (
                    Arc::from(Vec::new()),
                    Some(SchedulerProblem::PortsNotConverted {
                        service: service.id.clone(),
                        source,
                    }),
                ),
            };
            let before = self.host_ports(&service.id);
            if *before != *ports {
                changed.insert(service.id.clone());
            }
            self.ports.insert(
                service.id.clone(),
                ServicePorts {
                    version,
                    ports,
                    problem,
                },
            );
        }
        if seen < self.ports.len() {
            self.ports.retain(|id, held| {
                let keep = state.service(id).is_some();
                if !keep && !held.ports.is_empty() {
                    changed.insert(id.clone());
                }
                keep
            });
        }
        changed
    }
}
