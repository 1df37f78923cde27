//! The engine: node state kept between calls and updated by deltas.

pub(crate) use crate::config::{EngineConfig, Strategy};
pub(crate) use crate::delta::Delta;
pub(crate) use crate::demand::Demands;
use crate::error::SchedError;
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::intern::{Interner, Sym};
use crate::limits::{MAX_GENERIC_COUNT, MAX_MEMORY_BYTES, MAX_NANO_CPUS, amount, reserve};
use crate::node::{Availability, GenericResource, NodeSpec, Readiness, normalize_arch};
pub(crate) use crate::node_table::{Extras, Hot, LabelSyms, NamedKind, Nodes, Slot};
use crate::task::PlacedTask;
pub(crate) use crate::task_index::TaskRecord;
use crate::task_index::{MAX_TASKS, TaskIndex};
use std::collections::VecDeque;

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

/// Per-service counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct SvcState {
    /// node slot → tasks of this service on it (entries are > 0).
    pub(crate) counts: FxHashMap<u32, u32>,
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
    /// Service slots freed by `ServiceRemoved`, reused first.
    pub(crate) free_svcs: Vec<u32>,
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
            free_svcs: Vec::new(),
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
        let s = match self.free_svcs.pop() {
            Some(s) => s,
            None => {
                self.svcs.push(SvcState {
                    counts: FxHashMap::default(),
                });
                (self.svcs.len() - 1) as u32
            }
        };
        self.service_index.insert(id.clone(), s);
        s
    }

    fn remove_service(&mut self, id: &ServiceId) {
        let Some(&s) = self.service_index.get(id) else {
            return;
        };
        let tasks: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, r)| r.svc == s)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &tasks {
            self.finish_task(t, None);
        }
        let nodes: Vec<u32> = self.nodes.with_failures.iter().copied().collect();
        for i in nodes {
            let f = &mut self.nodes.slots[i as usize].failures;
            f.retain(|&(svc, _)| svc != s);
            if f.is_empty() {
                self.nodes.with_failures.remove(&i);
            }
        }
        self.svcs[s as usize].counts = FxHashMap::default();
        self.service_index.remove(id);
        self.free_svcs.push(s);
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
            Delta::ServiceRemoved(service) => {
                self.remove_service(&service);
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
        let r = &spec.resources;
        amount(r.nano_cpus, MAX_NANO_CPUS, || {
            format!("node {n}: nano_cpus")
        })?;
        amount(r.memory_bytes, MAX_MEMORY_BYTES, || {
            format!("node {n}: memory_bytes")
        })?;
        for g in &r.generic {
            if let GenericResource::Discrete { kind, count } = g {
                amount(*count, MAX_GENERIC_COUNT, || {
                    format!("node {n}: generic resource {kind:?} count")
                })?;
            }
        }
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
        // Exact: by the bounds of `crate::limits`, cap <= 2^50 and free >= -2^62.
        let used_cpu = old.cap_cpu.saturating_sub(old.free_cpu);
        let used_mem = old.cap_mem.saturating_sub(old.free_mem);
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
            free_cpu: cap_cpu.saturating_sub(used_cpu),
            free_mem: cap_mem.saturating_sub(used_mem),
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
        let idx = i as usize;
        let (cpu, mem) = self.check_reservation(idx, &t)?;
        let svc = self.intern_service(&t.service);
        let has_extras = !(t.generic.is_empty() && t.named.is_empty() && t.host_ports.is_empty());
        if has_extras {
            let x = Extras {
                discrete: t
                    .generic
                    .iter()
                    .map(|g| {
                        (
                            self.strings.intern(&g.kind),
                            to_i64(g.count.min(MAX_GENERIC_COUNT)),
                        )
                    })
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
        let demand = self.demands.intern(cpu, mem);
        self.demands.add_refs(demand, 1);
        let rec = TaskRecord {
            node: i,
            svc,
            demand,
            has_extras,
        };
        let h = &mut self.nodes.hot[idx];
        // Exact: `check_reservation` kept the node's reserved totals within the bound.
        h.free_cpu = h.free_cpu.saturating_sub(cpu);
        h.free_mem = h.free_mem.saturating_sub(mem);
        h.total = h.total.saturating_add(1);
        let total = h.total;
        self.nodes.index.set(i, total);
        *self.svcs[svc as usize].counts.entry(i).or_insert(0) += 1;
        self.tasks.insert_new(t.id, rec);
        Ok(())
    }

    /// Checks a recorded task's reservations against the limits of `crate::limits`, and that
    /// node `idx` stays within [`MAX_RESERVED_PER_NODE`](crate::MAX_RESERVED_PER_NODE) of each
    /// resource once it is charged. Returns the task's (nano-CPUs, memory bytes).
    fn check_reservation(&self, idx: usize, t: &PlacedTask) -> Result<(i64, i64), SchedError> {
        let id = &t.id;
        let node = &t.node;
        let cpu = amount(t.nano_cpus, MAX_NANO_CPUS, || {
            format!("task {id}: nano_cpus")
        })?;
        let mem = amount(t.memory_bytes, MAX_MEMORY_BYTES, || {
            format!("task {id}: memory_bytes")
        })?;
        let h = &self.nodes.hot[idx];
        reserve(h.cap_cpu.saturating_sub(h.free_cpu), cpu, || {
            format!("node {node}: reserved nano_cpus with task {id}")
        })?;
        reserve(h.cap_mem.saturating_sub(h.free_mem), mem, || {
            format!("node {node}: reserved memory_bytes with task {id}")
        })?;
        for g in &t.generic {
            amount(g.count, MAX_GENERIC_COUNT, || {
                format!("task {id}: generic resource {:?} count", g.kind)
            })?;
        }
        let slot = &self.nodes.slots[idx];
        for (j, g) in t.generic.iter().enumerate() {
            if t.generic[..j].iter().any(|e| e.kind == g.kind) {
                continue;
            }
            // Counts are at most 2^40 and a task has at most MAX_GENERIC_PER_TASK of them.
            let want: i64 = t.generic[j..]
                .iter()
                .filter(|e| e.kind == g.kind)
                .map(|e| to_i64(e.count))
                .sum();
            let used = self
                .strings
                .get(&g.kind)
                .and_then(|k| slot.discrete_used.iter().find(|u| u.0 == k))
                .map_or(0, |u| u.1);
            reserve(used, want, || {
                format!(
                    "node {node}: reserved generic resource {:?} with task {id}",
                    g.kind
                )
            })?;
        }
        Ok((cpu, mem))
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
