//! The engine: node state kept between calls and updated by deltas.

use crate::error::SchedError;
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::index::TotalIndex;
use crate::intern::{Interner, Sym};
use crate::node::{Availability, GenericResource, NodeSpec, Readiness, normalize_arch};
use crate::task::PlacedTask;
use crate::task_index::{MAX_TASKS, TaskIndex};
use std::collections::{BTreeSet, VecDeque};

/// Symbol that no interned string has.
pub(crate) const NO_SYM: Sym = u32::MAX;

/// Most labels (node plus engine) a node may carry.
pub const MAX_LABELS_PER_NODE: usize = 1024;
/// Most generic resource entries a node may advertise.
pub const MAX_GENERIC_PER_NODE: usize = 4096;
/// Most pre-bound host ports a node may report.
pub const MAX_STATIC_PORTS_PER_NODE: usize = 65_536;
/// Failure records kept per node (oldest dropped first).
pub const MAX_FAILURE_RECORDS_PER_NODE: usize = 256;
/// Most nodes one engine holds.
pub const MAX_NODES: usize = 1 << 20;

/// How the nodes that pass every filter are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Strategy {
    /// SwarmKit's default: spread over preference groups, then fewest tasks of the service,
    /// then fewest tasks in total.
    #[default]
    Spread,
    /// Most allocated node first (Nomad's bin-packing score on CPU and memory), so that
    /// nodes fill up one after the other and whole nodes stay free.
    Binpack,
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EngineConfig {
    /// Ranking strategy.
    pub strategy: Strategy,
    /// A node with at least this many recent failures of a service is ranked last for it
    /// (SwarmKit: 5).
    pub max_recent_failures: u32,
    /// How long a task failure counts as recent, in milliseconds (SwarmKit: 5 minutes).
    pub failure_window_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Spread,
            max_recent_failures: 5,
            failure_window_ms: 5 * 60 * 1000,
        }
    }
}

/// A change to the engine's view of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Delta {
    /// A node joined. Error if the ID is already known.
    NodeAdded(NodeSpec),
    /// A node changed (availability, readiness, labels, capacity...). Tasks on it keep their
    /// reservations; capacity may drop below what is reserved (then nothing new fits).
    NodeUpdated(NodeSpec),
    /// A node left; the tasks the engine accounted on it are forgotten.
    NodeRemoved(NodeId),
    /// A task runs (or is assigned) on a node: charge its reservation.
    TaskPlaced(PlacedTask),
    /// A task stopped: release its reservation. With `failed_at_ms`, the failure counts
    /// against its node for its service for [`EngineConfig::failure_window_ms`].
    /// Unknown task IDs are ignored, so the delta is idempotent.
    TaskFinished {
        /// The task.
        task: TaskId,
        /// When it failed, if it failed (caller's clock, milliseconds).
        failed_at_ms: Option<u64>,
    },
    /// A task was deleted: release its reservation if still held. Idempotent.
    TaskRemoved(TaskId),
}

/// Per-node fields read on every placement, kept apart so scans stay in cache.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hot {
    pub(crate) cap_cpu: i64,
    pub(crate) cap_mem: i64,
    pub(crate) free_cpu: i64,
    pub(crate) free_mem: i64,
    pub(crate) total: u32,
    /// Alive, ready and active.
    pub(crate) usable: bool,
}

/// A label as stored: key, lower-cased value, raw value.
pub(crate) type LabelSyms = (Sym, Sym, Sym);

/// Named items of one kind: (item symbol), sorted by item string.
#[derive(Debug, Clone, Default)]
pub(crate) struct NamedKind {
    pub(crate) kind: Sym,
    pub(crate) items: Vec<Sym>,
}

/// Per-node fields read by filters and deltas.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) alive: bool,
    pub(crate) spec: NodeSpec,
    /// Lower-cased ID and hostname (compared as text, not interned: unique per node).
    pub(crate) id_l: String,
    pub(crate) host_l: String,
    pub(crate) role: Sym,
    pub(crate) os: Sym,
    pub(crate) arch: Sym,
    pub(crate) labels: Vec<LabelSyms>,
    pub(crate) engine_labels: Vec<LabelSyms>,
    pub(crate) discrete_cap: Vec<(Sym, i64)>,
    pub(crate) named_cap: Vec<NamedKind>,
    pub(crate) discrete_used: Vec<(Sym, i64)>,
    pub(crate) named_claimed: Vec<(Sym, Sym)>,
    pub(crate) static_ports: Vec<u32>,
    pub(crate) task_ports: Vec<(u32, u32)>,
    pub(crate) failures: VecDeque<(u32, u64)>,
}

/// Extra reservations of a task beyond CPU and memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    pub(crate) discrete: Vec<(Sym, i64)>,
    pub(crate) named: Vec<(Sym, Sym)>,
    pub(crate) ports: Vec<u32>,
}

/// What the engine remembers of a placed task (16 bytes: the task index is the largest
/// structure a placement writes to).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskRecord {
    pub(crate) node: u32,
    pub(crate) svc: u32,
    /// Index in [`Demands`]: the CPU and memory reserved.
    pub(crate) demand: u32,
    /// The task also holds generic resources or ports, kept in `Engine::extras`.
    pub(crate) has_extras: bool,
}

/// One distinct (CPU, memory) reservation and how many accounted tasks hold it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Demand {
    pub(crate) cpu: i64,
    pub(crate) mem: i64,
    pub(crate) refs: u64,
}

/// Interned reservations, reference-counted, so task records stay small.
#[derive(Debug, Clone, Default)]
pub(crate) struct Demands {
    index: FxHashMap<(i64, i64), u32>,
    list: Vec<Demand>,
    free: Vec<u32>,
}

impl Demands {
    /// The slot of a reservation, created with no reference if new.
    pub(crate) fn intern(&mut self, cpu: i64, mem: i64) -> u32 {
        if let Some(&d) = self.index.get(&(cpu, mem)) {
            return d;
        }
        let d = Demand { cpu, mem, refs: 0 };
        let slot = match self.free.pop() {
            Some(s) => {
                self.list[s as usize] = d;
                s
            }
            None => {
                self.list.push(d);
                (self.list.len() - 1) as u32
            }
        };
        self.index.insert((cpu, mem), slot);
        slot
    }

    pub(crate) fn get(&self, d: u32) -> Demand {
        self.list.get(d as usize).copied().unwrap_or_default()
    }

    /// Adds `n` references; a slot left without references is freed.
    pub(crate) fn add_refs(&mut self, d: u32, n: u64) {
        if let Some(x) = self.list.get_mut(d as usize) {
            x.refs += n;
            if x.refs == 0 {
                self.index.remove(&(x.cpu, x.mem));
                self.free.push(d);
            }
        }
    }

    /// Drops one reference.
    pub(crate) fn release(&mut self, d: u32) {
        if let Some(x) = self.list.get_mut(d as usize) {
            x.refs = x.refs.saturating_sub(1);
            if x.refs == 0 {
                self.index.remove(&(x.cpu, x.mem));
                self.free.push(d);
            }
        }
    }
}

/// Per-service counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct SvcState {
    /// node slot → tasks of this service on it (entries are > 0).
    pub(crate) counts: FxHashMap<u32, u32>,
}

/// All node state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nodes {
    pub(crate) hot: Vec<Hot>,
    /// Node IDs by slot, dense (read once per placement).
    pub(crate) ids: Vec<NodeId>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) by_id: FxHashMap<NodeId, u32>,
    pub(crate) free: Vec<u32>,
    pub(crate) live: usize,
    pub(crate) with_failures: BTreeSet<u32>,
    /// Usable nodes by total task count.
    pub(crate) index: TotalIndex,
}

impl Nodes {
    pub(crate) fn label(&self, i: usize, engine: bool, key: Sym) -> Option<(Sym, Sym)> {
        let labels = if engine {
            &self.slots[i].engine_labels
        } else {
            &self.slots[i].labels
        };
        labels
            .binary_search_by_key(&key, |l| l.0)
            .ok()
            .map(|p| (labels[p].1, labels[p].2))
    }

    /// Releases a task's reservation on its node.
    pub(crate) fn release(&mut self, rec: &TaskRecord, demand: Demand, extras: Option<&Extras>) {
        let i = rec.node as usize;
        let h = &mut self.hot[i];
        h.free_cpu += demand.cpu;
        h.free_mem += demand.mem;
        h.total = h.total.saturating_sub(1);
        if let Some(x) = extras {
            let slot = &mut self.slots[i];
            for &(kind, n) in &x.discrete {
                if let Some(u) = slot.discrete_used.iter_mut().find(|u| u.0 == kind) {
                    u.1 -= n;
                }
            }
            slot.discrete_used.retain(|u| u.1 > 0);
            for claim in &x.named {
                if let Some(p) = slot.named_claimed.iter().position(|c| c == claim) {
                    slot.named_claimed.swap_remove(p);
                }
            }
            for &port in &x.ports {
                if let Ok(p) = slot.task_ports.binary_search_by_key(&port, |e| e.0) {
                    slot.task_ports[p].1 -= 1;
                    if slot.task_ports[p].1 == 0 {
                        slot.task_ports.remove(p);
                    }
                }
            }
        }
    }

    /// Adds a task's extra reservations to a node.
    pub(crate) fn charge_extras(&mut self, i: usize, x: &Extras) {
        let slot = &mut self.slots[i];
        for &(kind, n) in &x.discrete {
            match slot.discrete_used.iter_mut().find(|u| u.0 == kind) {
                Some(u) => u.1 += n,
                None => slot.discrete_used.push((kind, n)),
            }
        }
        slot.named_claimed.extend_from_slice(&x.named);
        for &port in &x.ports {
            match slot.task_ports.binary_search_by_key(&port, |e| e.0) {
                Ok(p) => slot.task_ports[p].1 += 1,
                Err(p) => slot.task_ports.insert(p, (port, 1)),
            }
        }
    }

    pub(crate) fn port_in_use(&self, i: usize, port: u32) -> bool {
        let s = &self.slots[i];
        s.static_ports.binary_search(&port).is_ok()
            || s.task_ports.binary_search_by_key(&port, |e| e.0).is_ok()
    }

    /// Units of a generic kind still free on a node (named items or discrete count).
    pub(crate) fn generic_free(&self, i: usize, kind: Sym) -> i64 {
        let s = &self.slots[i];
        if let Some(nk) = s.named_cap.iter().find(|k| k.kind == kind) {
            let claimed = s.named_claimed.iter().filter(|c| c.0 == kind).count();
            return nk.items.len() as i64 - claimed as i64;
        }
        let cap = s
            .discrete_cap
            .iter()
            .find(|d| d.0 == kind)
            .map_or(0, |d| d.1);
        let used = s
            .discrete_used
            .iter()
            .find(|d| d.0 == kind)
            .map_or(0, |d| d.1);
        cap - used
    }
}

/// The placement engine. Holds the cluster's nodes and what runs on them, updated by
/// [`Delta`]s; places [`TaskGroup`](crate::TaskGroup)s; explains and plans. Sans-IO and
/// deterministic: the same sequence of calls gives the same results.
///
/// ```
/// use std::sync::Arc;
/// use swarm_sched::{Delta, Engine, NodeSpec, TaskGroup, TaskSpec};
/// let mut engine = Engine::default();
/// for i in 0..3 {
///     let node = NodeSpec::new(format!("n{i}"), format!("host{i}")).with_capacity(2.0, 4 << 30);
///     engine.apply(Delta::NodeAdded(node)).unwrap();
/// }
/// let group = TaskGroup {
///     service: "web".into(),
///     spec_version: 1,
///     spec: Arc::new(TaskSpec::default().with_reservation(0.5, 256 << 20)),
///     tasks: (0..6).map(|i| format!("web.{i}").into()).collect(),
/// };
/// let out = engine.schedule(group).unwrap();
/// assert_eq!(out.assignments.len(), 6);
/// assert!(out.reason.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) cfg: EngineConfig,
    pub(crate) now_ms: u64,
    pub(crate) strings: Interner,
    pub(crate) empty: Sym,
    pub(crate) nodes: Nodes,
    pub(crate) service_index: FxHashMap<ServiceId, u32>,
    pub(crate) svcs: Vec<SvcState>,
    pub(crate) tasks: TaskIndex,
    pub(crate) demands: Demands,
    pub(crate) extras: FxHashMap<TaskId, Extras>,
    pub(crate) scratch_svc: Vec<u32>,
    pub(crate) scratch_fail: Vec<u8>,
    /// Per slot: the last group (by `group_seq`) that placed a task on it.
    pub(crate) scratch_stamp: Vec<u32>,
    pub(crate) group_seq: u32,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineConfig::default())
    }
}

fn limit(field: impl Into<String>, value: usize, limit: usize) -> Result<(), SchedError> {
    if value > limit {
        Err(SchedError::LimitExceeded {
            field: field.into(),
            value: value as u64,
            limit: limit as u64,
        })
    } else {
        Ok(())
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Engine {
    /// An empty engine.
    pub fn new(cfg: EngineConfig) -> Self {
        let mut strings = Interner::default();
        let empty = strings.intern("");
        Self {
            cfg,
            now_ms: 0,
            strings,
            empty,
            nodes: Nodes::default(),
            service_index: FxHashMap::default(),
            svcs: Vec::new(),
            tasks: TaskIndex::default(),
            demands: Demands::default(),
            extras: FxHashMap::default(),
            scratch_svc: Vec::new(),
            scratch_fail: Vec::new(),
            scratch_stamp: Vec::new(),
            group_seq: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Changes the ranking strategy for the next calls.
    pub fn set_strategy(&mut self, strategy: Strategy) {
        self.cfg.strategy = strategy;
    }

    /// Tells the engine the time (milliseconds on the caller's clock). The engine has no
    /// clock of its own; only recent-failure counting uses it.
    pub fn set_now_ms(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Number of nodes held.
    pub fn node_count(&self) -> usize {
        self.nodes.live
    }

    /// Number of tasks accounted on nodes.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The node a task is accounted on.
    pub fn node_of(&self, task: &TaskId) -> Option<&NodeId> {
        self.tasks
            .get(task)
            .map(|r| &self.nodes.ids[r.node as usize])
    }

    /// Free CPU (NanoCPUs, negative if over-committed by a capacity decrease) and free memory
    /// (bytes) of a node.
    pub fn free_resources(&self, node: &NodeId) -> Option<(i64, i64)> {
        let &i = self.nodes.by_id.get(node)?;
        let h = &self.nodes.hot[i as usize];
        Some((h.free_cpu, h.free_mem))
    }

    /// Tasks in total and tasks of `service` on a node.
    pub fn task_counts(&self, node: &NodeId, service: &ServiceId) -> Option<(u32, u32)> {
        let &i = self.nodes.by_id.get(node)?;
        let per_service = self
            .service_index
            .get(service)
            .and_then(|&s| self.svcs[s as usize].counts.get(&i).copied())
            .unwrap_or(0);
        Some((self.nodes.hot[i as usize].total, per_service))
    }

    /// Free units of a generic resource kind on a node (named items not claimed, or the
    /// discrete count not reserved).
    pub fn generic_free(&self, node: &NodeId, kind: &str) -> Option<i64> {
        let &i = self.nodes.by_id.get(node)?;
        let kind = self.strings.get(kind)?;
        Some(self.nodes.generic_free(i as usize, kind))
    }

    /// The spec a node was last added or updated with.
    pub fn node(&self, node: &NodeId) -> Option<&NodeSpec> {
        self.nodes
            .by_id
            .get(node)
            .map(|&i| &self.nodes.slots[i as usize].spec)
    }

    /// IDs of all nodes, in slot order.
    pub fn node_ids(&self) -> impl Iterator<Item = &NodeId> {
        self.nodes
            .slots
            .iter()
            .filter(|s| s.alive)
            .map(|s| &s.spec.id)
    }

    /// Recent failures of `service` on a node (within the failure window, at the time last
    /// given to [`Engine::set_now_ms`]).
    pub fn recent_failures(&self, node: &NodeId, service: &ServiceId) -> u32 {
        match (self.nodes.by_id.get(node), self.service_index.get(service)) {
            (Some(&i), Some(&s)) => self.count_failures(i as usize, s),
            _ => 0,
        }
    }

    pub(crate) fn count_failures(&self, i: usize, svc: u32) -> u32 {
        let window = self.cfg.failure_window_ms;
        let now = self.now_ms;
        self.nodes.slots[i]
            .failures
            .iter()
            .filter(|&&(s, at)| s == svc && at.saturating_add(window) > now)
            .count() as u32
    }

    pub(crate) fn intern_service(&mut self, id: &ServiceId) -> u32 {
        if let Some(&s) = self.service_index.get(id) {
            return s;
        }
        let s = self.svcs.len() as u32;
        self.svcs.push(SvcState {
            counts: FxHashMap::default(),
        });
        self.service_index.insert(id.clone(), s);
        s
    }

    /// Applies several deltas in order; stops at the first error (earlier ones stay applied).
    pub fn apply_all(&mut self, deltas: impl IntoIterator<Item = Delta>) -> Result<(), SchedError> {
        deltas.into_iter().try_for_each(|d| self.apply(d))
    }

    /// Applies one delta. See [`Delta`] for the semantics of each.
    pub fn apply(&mut self, delta: Delta) -> Result<(), SchedError> {
        match delta {
            Delta::NodeAdded(spec) => self.add_node(spec),
            Delta::NodeUpdated(spec) => self.update_node(spec),
            Delta::NodeRemoved(id) => self.remove_node(&id),
            Delta::TaskPlaced(t) => self.place_existing(t),
            Delta::TaskFinished { task, failed_at_ms } => {
                self.finish_task(&task, failed_at_ms);
                Ok(())
            }
            Delta::TaskRemoved(task) => {
                self.finish_task(&task, None);
                Ok(())
            }
        }
    }

    fn validate_node(spec: &NodeSpec) -> Result<(), SchedError> {
        let n = &spec.id;
        limit(
            format!("node {n}: labels"),
            spec.labels.len() + spec.engine_labels.len(),
            MAX_LABELS_PER_NODE,
        )?;
        limit(
            format!("node {n}: generic resources"),
            spec.resources.generic.len(),
            MAX_GENERIC_PER_NODE,
        )?;
        limit(
            format!("node {n}: host ports in use"),
            spec.host_ports_in_use.len(),
            MAX_STATIC_PORTS_PER_NODE,
        )?;
        Ok(())
    }

    fn build_slot(&mut self, spec: NodeSpec) -> Slot {
        let s = &mut self.strings;
        let mut labels_of = |m: &std::collections::BTreeMap<String, String>| {
            let mut v: Vec<LabelSyms> = m
                .iter()
                .map(|(k, val)| (s.intern(k), s.intern(&val.to_lowercase()), s.intern(val)))
                .collect();
            v.sort_unstable_by_key(|l| l.0);
            v
        };
        let labels = labels_of(&spec.labels);
        let engine_labels = labels_of(&spec.engine_labels);
        let mut discrete_cap: Vec<(Sym, i64)> = Vec::new();
        let mut named: Vec<(String, String)> = Vec::new();
        for g in &spec.resources.generic {
            match g {
                GenericResource::Discrete { kind, count } => {
                    let k = s.intern(kind);
                    match discrete_cap.iter_mut().find(|d| d.0 == k) {
                        Some(d) => d.1 = d.1.saturating_add(to_i64(*count)),
                        None => discrete_cap.push((k, to_i64(*count))),
                    }
                }
                GenericResource::Named { kind, value } => named.push((kind.clone(), value.clone())),
            }
        }
        named.sort();
        named.dedup();
        let mut named_cap: Vec<NamedKind> = Vec::new();
        for (kind, value) in &named {
            let k = s.intern(kind);
            let item = s.intern(value);
            match named_cap.iter_mut().find(|n| n.kind == k) {
                Some(n) => n.items.push(item),
                None => named_cap.push(NamedKind {
                    kind: k,
                    items: vec![item],
                }),
            }
        }
        let mut static_ports: Vec<u32> = spec.host_ports_in_use.iter().map(|p| p.key()).collect();
        static_ports.sort_unstable();
        static_ports.dedup();
        Slot {
            alive: true,
            id_l: spec.id.as_str().to_lowercase(),
            host_l: spec.hostname.to_lowercase(),
            role: s.intern(spec.role.as_str()),
            os: s.intern(&spec.platform.os.to_lowercase()),
            arch: s.intern(&normalize_arch(&spec.platform.arch)),
            labels,
            engine_labels,
            discrete_cap,
            named_cap,
            discrete_used: Vec::new(),
            named_claimed: Vec::new(),
            static_ports,
            task_ports: Vec::new(),
            failures: VecDeque::new(),
            spec,
        }
    }

    fn add_node(&mut self, spec: NodeSpec) -> Result<(), SchedError> {
        Self::validate_node(&spec)?;
        if self.nodes.by_id.contains_key(&spec.id) {
            return Err(SchedError::DuplicateNode(spec.id));
        }
        limit("nodes", self.nodes.live + 1, MAX_NODES)?;
        let hot = Hot {
            cap_cpu: to_i64(spec.resources.nano_cpus),
            cap_mem: to_i64(spec.resources.memory_bytes),
            free_cpu: to_i64(spec.resources.nano_cpus),
            free_mem: to_i64(spec.resources.memory_bytes),
            total: 0,
            usable: spec.readiness == Readiness::Ready && spec.availability == Availability::Active,
        };
        let id = spec.id.clone();
        let slot = self.build_slot(spec);
        let i = match self.nodes.free.pop() {
            Some(i) => {
                self.nodes.slots[i as usize] = slot;
                self.nodes.hot[i as usize] = hot;
                self.nodes.ids[i as usize] = id.clone();
                i
            }
            None => {
                self.nodes.slots.push(slot);
                self.nodes.hot.push(hot);
                self.nodes.ids.push(id.clone());
                self.scratch_svc.push(0);
                self.scratch_fail.push(0);
                self.scratch_stamp.push(0);
                (self.nodes.slots.len() - 1) as u32
            }
        };
        self.nodes.by_id.insert(id, i);
        self.nodes.live += 1;
        if hot.usable {
            self.nodes.index.insert(i, 0);
        }
        Ok(())
    }

    fn update_node(&mut self, spec: NodeSpec) -> Result<(), SchedError> {
        Self::validate_node(&spec)?;
        let Some(&i) = self.nodes.by_id.get(&spec.id) else {
            return Err(SchedError::UnknownNode(spec.id));
        };
        let i = i as usize;
        let old = &self.nodes.hot[i];
        let used_cpu = old.cap_cpu - old.free_cpu;
        let used_mem = old.cap_mem - old.free_mem;
        let total = old.total;
        let usable =
            spec.readiness == Readiness::Ready && spec.availability == Availability::Active;
        let cap_cpu = to_i64(spec.resources.nano_cpus);
        let cap_mem = to_i64(spec.resources.memory_bytes);
        let mut slot = self.build_slot(spec);
        let prev = &mut self.nodes.slots[i];
        slot.discrete_used = std::mem::take(&mut prev.discrete_used);
        slot.named_claimed = std::mem::take(&mut prev.named_claimed);
        slot.task_ports = std::mem::take(&mut prev.task_ports);
        slot.failures = std::mem::take(&mut prev.failures);
        *prev = slot;
        if usable {
            self.nodes.index.insert(i as u32, total);
        } else {
            self.nodes.index.remove(i as u32);
        }
        self.nodes.hot[i] = Hot {
            cap_cpu,
            cap_mem,
            free_cpu: cap_cpu - used_cpu,
            free_mem: cap_mem - used_mem,
            total,
            usable,
        };
        Ok(())
    }

    fn remove_node(&mut self, id: &NodeId) -> Result<(), SchedError> {
        let Some(i) = self.nodes.by_id.remove(id) else {
            return Err(SchedError::UnknownNode(id.clone()));
        };
        let svcs = &mut self.svcs;
        let demands = &mut self.demands;
        let extras = &mut self.extras;
        self.tasks.retain(|id, r| {
            if r.node == i {
                svcs[r.svc as usize].counts.remove(&i);
                demands.release(r.demand);
                if r.has_extras {
                    extras.remove(id);
                }
                false
            } else {
                true
            }
        });
        let idx = i as usize;
        self.nodes.index.remove(i);
        self.nodes.slots[idx].alive = false;
        self.nodes.slots[idx].failures.clear();
        self.nodes.with_failures.remove(&i);
        self.nodes.hot[idx] = Hot::default();
        self.nodes.free.push(i);
        self.nodes.live -= 1;
        Ok(())
    }

    fn place_existing(&mut self, t: PlacedTask) -> Result<(), SchedError> {
        let Some(&i) = self.nodes.by_id.get(&t.node) else {
            return Err(SchedError::UnknownNode(t.node));
        };
        if self.tasks.contains(&t.id) {
            return Err(SchedError::DuplicateTask(t.id));
        }
        limit("accounted tasks", self.tasks.len() + 1, MAX_TASKS)?;
        limit(
            format!("task {}: host ports", t.id),
            t.host_ports.len(),
            crate::filters::MAX_HOST_PORTS_PER_TASK,
        )?;
        limit(
            format!("task {}: generic resources", t.id),
            t.generic.len() + t.named.len(),
            crate::filters::MAX_GENERIC_PER_TASK,
        )?;
        let svc = self.intern_service(&t.service);
        let idx = i as usize;
        let has_extras = !(t.generic.is_empty() && t.named.is_empty() && t.host_ports.is_empty());
        if has_extras {
            let x = Extras {
                discrete: t
                    .generic
                    .iter()
                    .map(|g| (self.strings.intern(&g.kind), to_i64(g.count)))
                    .collect(),
                named: t
                    .named
                    .iter()
                    .map(|(k, v)| (self.strings.intern(k), self.strings.intern(v)))
                    .collect(),
                ports: t.host_ports.iter().map(|p| p.key()).collect(),
            };
            self.nodes.charge_extras(idx, &x);
            self.extras.insert(t.id.clone(), x);
        }
        let (cpu, mem) = (to_i64(t.nano_cpus), to_i64(t.memory_bytes));
        let demand = self.demands.intern(cpu, mem);
        self.demands.add_refs(demand, 1);
        let rec = TaskRecord {
            node: i,
            svc,
            demand,
            has_extras,
        };
        let h = &mut self.nodes.hot[idx];
        h.free_cpu -= cpu;
        h.free_mem -= mem;
        h.total += 1;
        let total = h.total;
        self.nodes.index.set(i, total);
        *self.svcs[svc as usize].counts.entry(i).or_insert(0) += 1;
        self.tasks.insert_new(t.id, rec);
        Ok(())
    }

    fn finish_task(&mut self, task: &TaskId, failed_at_ms: Option<u64>) {
        let Some(rec) = self.tasks.remove(task) else {
            return;
        };
        let extras = if rec.has_extras {
            self.extras.remove(task)
        } else {
            None
        };
        self.nodes
            .release(&rec, self.demands.get(rec.demand), extras.as_ref());
        self.demands.release(rec.demand);
        self.nodes
            .index
            .set(rec.node, self.nodes.hot[rec.node as usize].total);
        let counts = &mut self.svcs[rec.svc as usize].counts;
        if let Some(c) = counts.get_mut(&rec.node) {
            *c -= 1;
            if *c == 0 {
                counts.remove(&rec.node);
            }
        }
        if let Some(at) = failed_at_ms {
            let f = &mut self.nodes.slots[rec.node as usize].failures;
            if f.len() >= MAX_FAILURE_RECORDS_PER_NODE {
                f.pop_front();
            }
            f.push_back((rec.svc, at));
            self.nodes.with_failures.insert(rec.node);
        }
    }
}
