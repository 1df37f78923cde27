//! The engine: the public face of the crate. It owns the node table, the services, the task
//! ledger and the symbol table, applies deltas to them, and hands each call the parts it
//! needs (placement, explanation, rebalance planning).

use crate::checks::{amount, count, reserve, to_i64};
use crate::config::{EngineConfig, Strategy};
use crate::delta::Delta;
use crate::demand::Demands;
use crate::error::SchedError;
use crate::filters::FilterChain;
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::intern::Interner;
use crate::limits::{
    MAX_GENERIC_COUNT, MAX_GENERIC_PER_TASK, MAX_HOST_PORTS_PER_TASK, MAX_MEMORY_BYTES,
    MAX_NANO_CPUS, MAX_NODES, MAX_TASKS,
};
use crate::node::NodeSpec;
use crate::node_slot::Slot;
use crate::node_table::{Extras, Nodes};
use crate::outcome::GroupOutcome;
use crate::placement;
use crate::rebalance::{self, Move};
use crate::scratch::Scratch;
use crate::services::Services;
use crate::task::{PendingTask, PlacedTask, TaskGroup, TaskSpec};
use crate::task_index::{TaskIndex, TaskRecord};
use crate::tree_cache::Trees;
use crate::unschedulable::Unschedulable;
use crate::verdict::NodeVerdict;

/// The placement engine. Holds the cluster's nodes and what runs on them, updated by
/// [`Delta`]s; places [`TaskGroup`]s; explains and plans. Sans-IO and
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
    cfg: EngineConfig,
    now_ms: u64,
    /// Label keys and values, platform names, roles and generic kinds, as symbols.
    strings: Interner,
    nodes: Nodes,
    services: Services,
    /// Every accounted task: its node, service and reservation.
    tasks: TaskIndex,
    demands: Demands,
    /// Generic resources and host ports of the accounted tasks that hold some.
    extras: FxHashMap<TaskId, Extras>,
    scratch: Scratch,
    /// Preference trees kept between groups, updated by the deltas.
    trees: Trees,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineConfig::default())
    }
}

impl Engine {
    /// An empty engine.
    pub fn new(cfg: EngineConfig) -> Self {
        Self {
            cfg,
            now_ms: 0,
            strings: Interner::default(),
            nodes: Nodes::default(),
            services: Services::default(),
            tasks: TaskIndex::default(),
            demands: Demands::default(),
            extras: FxHashMap::default(),
            scratch: Scratch::default(),
            trees: Trees::default(),
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
        self.nodes.len()
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
        let i = self.nodes.get(node)?;
        let h = &self.nodes.hot[i as usize];
        Some((h.free_cpu, h.free_mem))
    }

    /// Tasks in total and tasks of `service` on a node.
    pub fn task_counts(&self, node: &NodeId, service: &ServiceId) -> Option<(u32, u32)> {
        let i = self.nodes.get(node)?;
        let per_service = self
            .services
            .get(service)
            .and_then(|s| self.services.counts(s).get(&i).copied())
            .unwrap_or(0);
        Some((self.nodes.hot[i as usize].total, per_service))
    }

    /// Free units of a generic resource kind on a node (named items not claimed, or the
    /// discrete count not reserved).
    pub fn generic_free(&self, node: &NodeId, kind: &str) -> Option<i64> {
        let i = self.nodes.get(node)?;
        let kind = self.strings.get(kind)?;
        Some(self.nodes.generic_free(i as usize, kind))
    }

    /// The spec a node was last added or updated with.
    pub fn node(&self, node: &NodeId) -> Option<&NodeSpec> {
        self.nodes
            .get(node)
            .map(|i| &self.nodes.slots[i as usize].spec)
    }

    /// IDs of all nodes, in slot order.
    pub fn node_ids(&self) -> impl Iterator<Item = &NodeId> {
        self.nodes
            .slots
            .iter()
            .filter(|s| s.alive)
            .map(|s| &s.spec.id)
    }

    /// Recent failures of `service` on a node, of every spec version (within the failure
    /// window, at the time last given to [`Engine::set_now_ms`]).
    pub fn recent_failures(&self, node: &NodeId, service: &ServiceId) -> u32 {
        self.failures(node, service, None)
    }

    /// Recent failures of one spec version of `service` on a node: what ranks the node for
    /// a group of that version (SwarmKit keys failures by service and spec version, so an
    /// update is not kept off a node where the previous version failed).
    pub fn recent_failures_of_version(
        &self,
        node: &NodeId,
        service: &ServiceId,
        spec_version: u64,
    ) -> u32 {
        self.failures(node, service, Some(spec_version))
    }

    fn failures(&self, node: &NodeId, service: &ServiceId, version: Option<u64>) -> u32 {
        match (self.nodes.get(node), self.services.get(service)) {
            (Some(i), Some(s)) => self.nodes.recent_failures(
                i as usize,
                s,
                version,
                self.cfg.failure_window_ms,
                self.now_ms,
            ),
            _ => 0,
        }
    }

    /// Places every task of a group it can, charging the chosen nodes, and explains the rest.
    ///
    /// Deterministic: the same engine state and group give the same assignments. Tasks the
    /// engine already accounts (same ID) are skipped and listed in `already_placed`.
    pub fn schedule(&mut self, group: TaskGroup) -> Result<GroupOutcome, SchedError> {
        placement::State {
            cfg: &self.cfg,
            now_ms: self.now_ms,
            strings: &self.strings,
            nodes: &mut self.nodes,
            services: &mut self.services,
            tasks: &mut self.tasks,
            demands: &mut self.demands,
            extras: &mut self.extras,
            scratch: &mut self.scratch,
            trees: &mut self.trees,
        }
        .schedule(group)
    }

    /// Places several groups in order.
    pub fn schedule_all(
        &mut self,
        groups: impl IntoIterator<Item = TaskGroup>,
    ) -> Result<Vec<GroupOutcome>, SchedError> {
        groups.into_iter().map(|g| self.schedule(g)).collect()
    }

    /// For every node (in slot order), the first filter that rejects a task of `service`
    /// with `spec`, given the current state. Pure: changes nothing.
    ///
    /// ```
    /// use swarm_sched::{Constraint, Delta, Engine, NodeSpec, TaskSpec};
    /// let mut e = Engine::default();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("a", "a").with_capacity(1.0, 1 << 30).with_label("zone", "eu"))).unwrap();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("b", "b").with_capacity(1.0, 1 << 30))).unwrap();
    /// let spec = TaskSpec::default().with_constraint(Constraint::parse("node.labels.zone==eu").unwrap());
    /// let v = e.explain(&"web".into(), &spec).unwrap();
    /// assert_eq!(v[0].to_string(), "a: fits");
    /// assert_eq!(v[1].to_string(), "b: fails constraint node.labels.zone==eu");
    /// ```
    pub fn explain(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
    ) -> Result<Vec<NodeVerdict>, SchedError> {
        let svc = self.services.get(service);
        let c = FilterChain::compile(spec, svc.unwrap_or(u32::MAX), &self.strings)?;
        let counts = svc.map(|s| self.services.counts(s));
        Ok((0..self.nodes.slots.len())
            .filter(|&i| self.nodes.slots[i].alive)
            .map(|i| {
                let n = counts
                    .and_then(|m| m.get(&(i as u32)).copied())
                    .unwrap_or(0);
                let rejection = c.verdict(&self.nodes, i, n);
                NodeVerdict {
                    node: self.nodes.slots[i].spec.id.clone(),
                    rejection,
                    reason: rejection.map(|r| r.describe(spec, 1)),
                }
            })
            .collect())
    }

    /// [`Engine::explain`] for a pending task (its service and spec).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use swarm_sched::{Delta, Engine, NodeSpec, PendingTask, Rejection, TaskSpec};
    /// let mut e = Engine::default();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("a", "a").with_capacity(1.0, 1 << 30))).unwrap();
    /// let task = PendingTask {
    ///     id: "web.1".into(),
    ///     service: "web".into(),
    ///     spec_version: 1,
    ///     spec: Arc::new(TaskSpec::default().with_reservation(2.0, 0)),
    /// };
    /// let v = e.explain_task(&task).unwrap();
    /// assert_eq!(v[0].rejection, Some(Rejection::Cpu));
    /// assert_eq!(v[0].to_string(), "a: lacks 2 CPU");
    /// ```
    pub fn explain_task(&self, task: &PendingTask) -> Result<Vec<NodeVerdict>, SchedError> {
        self.explain(&task.service, &task.spec)
    }

    /// The per-filter summary for a task of `service` with `spec` right now (whether or not
    /// some node would take it: see [`Unschedulable::nodes_passing`]).
    pub fn summarize(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
    ) -> Result<Unschedulable, SchedError> {
        let verdicts = self.explain(service, spec)?;
        Ok(Unschedulable::from_verdicts(
            spec,
            verdicts.into_iter().map(|v| v.rejection),
        ))
    }

    /// Proposes at most `max_moves` (capped at
    /// [`MAX_REBALANCE_MOVES`](crate::MAX_REBALANCE_MOVES)) moves of tasks of `service` that
    /// bring it back to an even spread, level by level over its spread preferences, then
    /// over nodes — for example after a node joins. As for placement, a branch counts every
    /// task of the service on its nodes, and any node holding tasks of the service may give
    /// one; destinations pass the static filters (availability, platform, constraints).
    /// Moves are level-aware: a move between branches goes from the most loaded child to the
    /// least loaded one at every level below, so no later move corrects it lower down. The
    /// planner has no spec version: failures of every version of the service rank a
    /// destination. Every destination passes every filter given the moves before it; resources a move frees on its source are not
    /// counted as available to later moves, so the plan stays valid in any execution order.
    /// Each move lowers the imbalance (a difference of two or more tasks). Pure planning: the
    /// engine is not changed; the orchestrator decides whether to act (and reports the new
    /// placements as deltas).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use swarm_sched::{Delta, Engine, NodeSpec, TaskGroup, TaskSpec};
    /// let mut e = Engine::default();
    /// let spec = Arc::new(TaskSpec::default().with_reservation(0.1, 1 << 20));
    /// for i in 0..2 {
    ///     e.apply(Delta::NodeAdded(NodeSpec::new(format!("n{i}"), "h").with_capacity(4.0, 1 << 30))).unwrap();
    /// }
    /// let tasks = (0..6).map(|i| format!("t{i}").into()).collect();
    /// e.schedule(TaskGroup { service: "s".into(), spec_version: 1, spec: spec.clone(), tasks }).unwrap();
    /// e.apply(Delta::NodeAdded(NodeSpec::new("n2", "h").with_capacity(4.0, 1 << 30))).unwrap();
    /// let moves = e.plan_rebalance(&"s".into(), &spec, 10).unwrap();
    /// assert_eq!(moves.len(), 2);
    /// assert!(moves.iter().all(|m| m.to.as_str() == "n2"));
    /// ```
    pub fn plan_rebalance(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
        max_moves: usize,
    ) -> Result<Vec<Move>, SchedError> {
        rebalance::View {
            cfg: &self.cfg,
            now_ms: self.now_ms,
            strings: &self.strings,
            nodes: &self.nodes,
            services: &self.services,
            tasks: &self.tasks,
        }
        .plan(service, spec, max_moves)
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

    fn add_node(&mut self, spec: NodeSpec) -> Result<(), SchedError> {
        crate::checks::node_spec(&spec)?;
        if self.nodes.contains(&spec.id) {
            return Err(SchedError::DuplicateNode(spec.id));
        }
        count("nodes", self.nodes.len() + 1, MAX_NODES)?;
        let slot = Slot::new(spec, &mut self.strings);
        let i = self.nodes.insert(slot);
        self.scratch.fit(self.nodes.slots.len());
        self.trees.node_added(&self.nodes, &self.strings, i);
        Ok(())
    }

    fn update_node(&mut self, spec: NodeSpec) -> Result<(), SchedError> {
        crate::checks::node_spec(&spec)?;
        let Some(i) = self.nodes.get(&spec.id) else {
            return Err(SchedError::UnknownNode(spec.id));
        };
        let slot = Slot::new(spec, &mut self.strings);
        self.nodes.update(i, slot);
        self.trees.node_updated(&self.nodes, &self.strings, i);
        Ok(())
    }

    fn remove_node(&mut self, id: &NodeId) -> Result<(), SchedError> {
        let Some(i) = self.nodes.get(id) else {
            return Err(SchedError::UnknownNode(id.clone()));
        };
        // Only this node's records are read (they are chained per node).
        for (id, r) in self.tasks.take_node(i) {
            self.services.counts_mut(r.svc).remove(&i);
            self.demands.release(r.demand);
            if r.has_extras {
                self.extras.remove(&id);
            }
        }
        self.trees.node_removed(i);
        self.nodes.remove(i);
        Ok(())
    }

    fn place_existing(&mut self, t: PlacedTask) -> Result<(), SchedError> {
        let Some(i) = self.nodes.get(&t.node) else {
            return Err(SchedError::UnknownNode(t.node));
        };
        if self.tasks.contains(&t.id) {
            return Err(SchedError::DuplicateTask(t.id));
        }
        count("accounted tasks", self.tasks.len() + 1, MAX_TASKS)?;
        count(
            format!("task {}: host ports", t.id),
            t.host_ports.len(),
            MAX_HOST_PORTS_PER_TASK,
        )?;
        count(
            format!("task {}: generic resources", t.id),
            t.generic.len() + t.named.len(),
            MAX_GENERIC_PER_TASK,
        )?;
        let idx = i as usize;
        let (cpu, mem) = self.check_reservation(idx, &t)?;
        let svc = self.services.intern(&t.service);
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
        let demand = self.demands.intern(cpu, mem, t.spec_version);
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
        self.trees.sync(&self.nodes, i);
        *self.services.counts_mut(svc).entry(i).or_insert(0) += 1;
        self.tasks.insert_new(t.id, rec);
        Ok(())
    }

    /// Checks a recorded task's reservations against the limits of `limits.rs`, and that
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
        let demand = self.demands.get(rec.demand);
        self.nodes.release(&rec, demand, extras.as_ref());
        self.demands.release(rec.demand);
        self.nodes
            .index
            .set(rec.node, self.nodes.hot[rec.node as usize].total);
        self.trees.sync(&self.nodes, rec.node);
        let counts = self.services.counts_mut(rec.svc);
        if let Some(c) = counts.get_mut(&rec.node) {
            *c -= 1;
            if *c == 0 {
                counts.remove(&rec.node);
            }
        }
        if let Some(at) = failed_at_ms {
            self.nodes
                .record_failure(rec.node, rec.svc, demand.spec_version, at);
        }
    }

    fn remove_service(&mut self, id: &ServiceId) {
        let Some(s) = self.services.get(id) else {
            return;
        };
        // The service's tasks, from the records of the nodes that run it.
        let tasks: Vec<TaskId> = self
            .services
            .counts(s)
            .keys()
            .flat_map(|&i| self.tasks.on_node(i))
            .filter(|(_, r)| r.svc == s)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &tasks {
            self.finish_task(t, None);
        }
        self.nodes.forget_failures_of(s);
        self.services.remove(id);
    }
}

#[cfg(test)]
mod tests {
    //! Complexity tests: the work counters of `probe.rs` show what an operation touches.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::constraint::SpreadPreference;
    use crate::probe::{Probe, take};
    use std::sync::Arc;

    fn engine_with(nodes: impl IntoIterator<Item = NodeSpec>) -> Engine {
        let mut e = Engine::default();
        e.apply_all(nodes.into_iter().map(Delta::NodeAdded))
            .unwrap();
        e
    }

    fn node(i: usize) -> NodeSpec {
        NodeSpec::new(format!("n{i}"), format!("h{i}")).with_capacity(64.0, 1 << 40)
    }

    fn group(service: &str, from: usize, n: usize, spec: &Arc<TaskSpec>) -> TaskGroup {
        TaskGroup {
            service: service.into(),
            spec_version: 1,
            spec: spec.clone(),
            tasks: (from..from + n)
                .map(|k| format!("{service}.{k}").into())
                .collect(),
        }
    }

    #[test]
    fn node_removed_reads_only_the_records_of_its_own_tasks() {
        let mut e = engine_with((0..3).map(node));
        for k in 0..3_000 {
            let t = PlacedTask::new(format!("a{k}"), "a", "n0", 0, 0);
            e.apply(Delta::TaskPlaced(t)).unwrap();
        }
        for k in 0..2 {
            let t = PlacedTask::new(format!("b{k}"), "b", "n1", 0, 0);
            e.apply(Delta::TaskPlaced(t)).unwrap();
        }
        take(Probe::NodeRemovalVisits);
        e.apply(Delta::NodeRemoved("n1".into())).unwrap();
        assert!(take(Probe::NodeRemovalVisits) <= 2);
        assert_eq!(e.task_count(), 3_000);
        assert_eq!(e.node_of(&"b0".into()), None);
        assert_eq!(e.node_of(&"a7".into()).map(NodeId::as_str), Some("n0"));
    }

    #[test]
    fn preference_tree_is_kept_between_groups_and_follows_deltas() {
        let zones = ["a", "b", "c"];
        let mut e = engine_with((0..30).map(|i| node(i).with_label("zone", zones[i % 3])));
        let spec =
            Arc::new(TaskSpec::default().with_preference(SpreadPreference::node_label("zone")));
        take(Probe::TreeBuilds);
        for b in 0..5 {
            let out = e.schedule(group("s", b * 6, 6, &spec)).unwrap();
            assert_eq!(out.assignments.len(), 6);
        }
        assert_eq!(take(Probe::TreeBuilds), 1, "built once, then kept");
        // A node of a new zone joins: the kept tree has it, and the division gives the new
        // zone the 10 tasks that even the zones out (10 each in a, b, c).
        e.apply(Delta::NodeAdded(node(30).with_label("zone", "d")))
            .unwrap();
        let out = e.schedule(group("s", 100, 10, &spec)).unwrap();
        assert!(out.assignments.iter().all(|a| a.node.as_str() == "n30"));
        // Labels change and nodes leave: still no rebuild, and still right.
        e.apply(Delta::NodeUpdated(node(30).with_label("zone", "a")))
            .unwrap();
        e.apply(Delta::NodeRemoved("n1".into())).unwrap();
        let out = e.schedule(group("s", 200, 3, &spec)).unwrap();
        assert_eq!(out.assignments.len(), 3);
        assert_eq!(take(Probe::TreeBuilds), 0);
    }

    #[test]
    fn planner_moves_do_not_rescan_every_node() {
        let mut e = engine_with((0..400).map(|i| node(i).with_label("zone", ["a", "b"][i % 2])));
        for k in 0..200 {
            let t = PlacedTask::new(format!("t{k}"), "s", ["n0", "n2"][k % 2], 0, 0);
            e.apply(Delta::TaskPlaced(t)).unwrap();
        }
        let spec = TaskSpec::default().with_preference(SpreadPreference::node_label("zone"));
        take(Probe::PlannerNodeVisits);
        let moves = e.plan_rebalance(&"s".into(), &spec, 150).unwrap();
        assert_eq!(moves.len(), 150);
        let visits = take(Probe::PlannerNodeVisits);
        assert!(
            visits <= 4 * moves.len() as u64,
            "{visits} node visits for {} moves",
            moves.len()
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(usize, u8, u8),
        Update(usize, u8, u8, bool),
        Remove(usize),
        Place(usize, usize),
        Finish(usize),
        Schedule(u8, usize, bool),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..12, 0u8..4, 0u8..3).prop_map(|(i, z, r)| Op::Add(i, z, r)),
            (0usize..12, 0u8..4, 0u8..3, any::<bool>())
                .prop_map(|(i, z, r, a)| Op::Update(i, z, r, a)),
            (0usize..12).prop_map(Op::Remove),
            (0usize..12, 0usize..1000).prop_map(|(i, k)| Op::Place(i, k)),
            (0usize..1000).prop_map(Op::Finish),
            (0u8..3, 1usize..12, any::<bool>()).prop_map(|(s, n, two)| Op::Schedule(s, n, two)),
        ]
    }

    fn labelled(i: usize, zone: u8, rack: u8) -> NodeSpec {
        let mut n = node(i).with_label("rack", ["r1", "r2", ""][rack as usize]);
        if zone < 3 {
            n = n.with_label("zone", ["b", "a", "c"][zone as usize]);
        }
        n
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

        /// Under any sequence of deltas and placements, every kept preference tree equals the
        /// tree built afresh from the node table.
        #[test]
        fn kept_trees_equal_fresh_builds(ops in proptest::collection::vec(op(), 1..60)) {
            let mut e = Engine::default();
            let one = Arc::new(TaskSpec::default().with_preference(SpreadPreference::node_label("zone")));
            let two = Arc::new(
                TaskSpec::default()
                    .with_preference(SpreadPreference::node_label("zone"))
                    .with_preference(SpreadPreference::node_label("rack")),
            );
            let mut placed: Vec<TaskId> = Vec::new();
            let mut next = 0usize;
            for op in ops {
                match op {
                    Op::Add(i, z, r) => {
                        let _ = e.apply(Delta::NodeAdded(labelled(i, z, r)));
                    }
                    Op::Update(i, z, r, active) => {
                        let avail = if active { crate::node::Availability::Active } else { crate::node::Availability::Pause };
                        let _ = e.apply(Delta::NodeUpdated(labelled(i, z, r).with_availability(avail)));
                    }
                    Op::Remove(i) => {
                        let _ = e.apply(Delta::NodeRemoved(format!("n{i}").into()));
                    }
                    Op::Place(i, k) => {
                        let id = TaskId::new(format!("p{k}"));
                        if e.apply(Delta::TaskPlaced(PlacedTask::new(id.clone(), "s0", format!("n{i}"), 0, 0))).is_ok() {
                            placed.push(id);
                        }
                    }
                    Op::Finish(k) => {
                        if !placed.is_empty() {
                            let id = placed.remove(k % placed.len());
                            e.apply(Delta::TaskFinished { task: id, failed_at_ms: None }).unwrap();
                        }
                    }
                    Op::Schedule(s, n, two_levels) => {
                        let spec = if two_levels { &two } else { &one };
                        let g = TaskGroup {
                            service: format!("s{s}").into(),
                            spec_version: 1,
                            spec: spec.clone(),
                            tasks: (next..next + n).map(|k| format!("g{k}").into()).collect(),
                        };
                        next += n;
                        let out = e.schedule(g).unwrap();
                        placed.extend(out.assignments.into_iter().map(|a| a.task));
                    }
                }
                for (kept, fresh) in e.trees.check_against_fresh(&e.nodes, &e.strings) {
                    proptest::prop_assert_eq!(kept, fresh);
                }
            }
        }
    }
}
