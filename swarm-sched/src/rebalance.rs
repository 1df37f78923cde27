//! Rebalance planner: moves that bring a service back to an even spread, level by level over
//! its spread preferences, then over the nodes of each leaf.
//!
//! The planner simulates the moves it proposes on a copy of the counts. A move is chosen
//! top-down: at the first level where two sibling branches differ by two tasks or more, the
//! task leaves the most loaded one and goes to the least loaded one that can take it, and on
//! both sides the path goes down through the most (least) loaded child to the most (least)
//! loaded node. So a move between datacenters also evens out their racks, and no move has
//! to be corrected by another one lower down. Per branch the simulation keeps its task count
//! and how many of its nodes can give and take; per leaf, its candidate sources and
//! destinations in ranking order, so choosing a move reads a few nodes, never all of them.

use crate::config::EngineConfig;
use crate::error::SchedError;
use crate::filters::FilterChain;
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::intern::{Interner, NO_SYM};
use crate::limits::MAX_REBALANCE_MOVES;
use crate::node_table::Nodes;
use crate::probe::{Probe, hit};
use crate::services::Services;
use crate::task::TaskSpec;
use crate::task_index::TaskIndex;
use crate::tree::{NONE, PrefTree};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// One proposed move: stop `task` on `from`, start a replacement on `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Move {
    /// The task to move (the one with the greatest ID on `from` among those not moved yet).
    pub task: TaskId,
    /// Where it runs now.
    pub from: NodeId,
    /// Where its replacement should go.
    pub to: NodeId,
}

/// A source's rank in its leaf: most tasks of the service, then most tasks in total, then
/// lowest slot first.
type SourceKey = (Reverse<u32>, Reverse<u32>, u32);
/// A destination's rank in its leaf, as placement ranks nodes: failure rank, tasks of the
/// service, tasks in total, slot; smallest first.
type DestKey = (u8, u32, u32, u32);

/// The simulated state the planner changes as it plans.
struct Sim<'a> {
    nodes: &'a Nodes,
    tree: &'a PrefTree,
    c: &'a FilterChain,
    /// Per slot: passes the static filters.
    eligible: Vec<bool>,
    count: Vec<u32>,
    total: Vec<u32>,
    free_cpu: Vec<i64>,
    free_mem: Vec<i64>,
    planned_in: Vec<u32>,
    fail: Vec<u8>,
    /// Per slot: its tasks of the service not moved yet, greatest ID last.
    movable: FxHashMap<u32, Vec<&'a TaskId>>,
    /// Per branch: tasks of the service on every node under it.
    tasks: Vec<u64>,
    /// Per branch: nodes under it that can give a task.
    givers: Vec<u32>,
    /// Per branch: nodes under it that can take a task.
    takers: Vec<u32>,
    /// Per leaf: its nodes that can give a task, best source first.
    sources: Vec<BTreeSet<SourceKey>>,
    /// Per leaf: its nodes that can take a task, best destination first.
    dests: Vec<BTreeSet<DestKey>>,
    /// Per slot: the keys it is filed under in its leaf's sets.
    src_key: Vec<Option<SourceKey>>,
    dst_key: Vec<Option<DestKey>>,
}

impl Sim<'_> {
    fn can_receive(&self, i: usize) -> bool {
        let c = self.c;
        if !self.eligible[i] || !c.cpu_mem_fit(self.free_cpu[i], self.free_mem[i]) {
            return false;
        }
        if c.simple {
            return true;
        }
        let nodes = self.nodes;
        let planned = i64::from(self.planned_in[i]);
        for &(kind, count, _) in &c.generic {
            if kind == NO_SYM
                || nodes
                    .generic_free(i, kind)
                    .saturating_sub(planned.saturating_mul(count))
                    < count.max(1)
            {
                return false;
            }
        }
        if !c.ports.is_empty() && (planned > 0 || c.ports.iter().any(|&p| nodes.port_in_use(i, p)))
        {
            return false;
        }
        !(c.max_per_node > 0 && self.count[i] >= c.max_per_node)
    }

    /// Adds `delta` to a per-branch figure on the path from leaf `leaf` to the root.
    fn add_on_path(tree: &PrefTree, figure: &mut [u32], leaf: u32, delta: i32) {
        let mut b = leaf;
        while b != NONE {
            let f = &mut figure[b as usize];
            *f = f.saturating_add_signed(delta);
            b = tree.branches[b as usize].parent;
        }
    }

    /// Files node `i` again in its leaf's sets after its figures changed.
    fn refile(&mut self, i: usize) {
        let leaf = self.tree.leaf_of(i as u32);
        if leaf == NONE {
            return;
        }
        let can_give =
            self.count[i] > 0 && self.movable.get(&(i as u32)).is_some_and(|v| !v.is_empty());
        let src = can_give.then_some((Reverse(self.count[i]), Reverse(self.total[i]), i as u32));
        if src != self.src_key[i] {
            let set = &mut self.sources[leaf as usize];
            if let Some(k) = self.src_key[i] {
                set.remove(&k);
            }
            if let Some(k) = src {
                set.insert(k);
            }
            let delta = i32::from(src.is_some()) - i32::from(self.src_key[i].is_some());
            Self::add_on_path(self.tree, &mut self.givers, leaf, delta);
            self.src_key[i] = src;
        }
        let dst =
            self.can_receive(i)
                .then_some((self.fail[i], self.count[i], self.total[i], i as u32));
        if dst != self.dst_key[i] {
            let set = &mut self.dests[leaf as usize];
            if let Some(k) = self.dst_key[i] {
                set.remove(&k);
            }
            if let Some(k) = dst {
                set.insert(k);
            }
            let delta = i32::from(dst.is_some()) - i32::from(self.dst_key[i].is_some());
            Self::add_on_path(self.tree, &mut self.takers, leaf, delta);
            self.dst_key[i] = dst;
        }
    }

    /// The best source under branch `b`: down through the child with the most tasks (among
    /// those with a node that can give), then the leaf's best source.
    fn source_under(&self, mut b: u32) -> Option<usize> {
        let tree = self.tree;
        while !tree.is_leaf(b) {
            let mut best: Option<u32> = None;
            for &ch in &tree.branches[b as usize].children {
                if self.givers[ch as usize] > 0
                    && best.is_none_or(|s| self.tasks[ch as usize] > self.tasks[s as usize])
                {
                    best = Some(ch);
                }
            }
            b = best?;
        }
        hit(Probe::PlannerNodeVisits, 1);
        self.sources[b as usize].first().map(|k| k.2 as usize)
    }

    /// The best destination under branch `b`: down through the child with the fewest tasks
    /// (among those with a node that can take), then the leaf's best destination.
    fn dest_under(&self, mut b: u32) -> Option<usize> {
        let tree = self.tree;
        while !tree.is_leaf(b) {
            let mut best: Option<u32> = None;
            for &ch in &tree.branches[b as usize].children {
                if self.takers[ch as usize] > 0
                    && best.is_none_or(|d| self.tasks[ch as usize] < self.tasks[d as usize])
                {
                    best = Some(ch);
                }
            }
            b = best?;
        }
        hit(Probe::PlannerNodeVisits, 1);
        self.dests[b as usize].first().map(|k| k.3 as usize)
    }

    /// The first imbalance found top-down: between sibling branches whose task counts differ
    /// by two or more, else inside a branch; in a leaf, between nodes.
    fn find_move(&self, b: u32) -> Option<(usize, usize)> {
        let tree = self.tree;
        if tree.is_leaf(b) {
            let src = self.source_under(b)?;
            let dst = self.dest_under(b)?;
            return (self.count[src] >= self.count[dst] + 2).then_some((src, dst));
        }
        let children = &tree.branches[b as usize].children;
        let mut src_child: Option<u32> = None;
        let mut dst_child: Option<u32> = None;
        for &ch in children {
            let t = self.tasks[ch as usize];
            if self.givers[ch as usize] > 0 && src_child.is_none_or(|s| t > self.tasks[s as usize])
            {
                src_child = Some(ch);
            }
            if self.takers[ch as usize] > 0 && dst_child.is_none_or(|d| t < self.tasks[d as usize])
            {
                dst_child = Some(ch);
            }
        }
        if let (Some(s), Some(d)) = (src_child, dst_child) {
            if self.tasks[s as usize] >= self.tasks[d as usize] + 2 {
                if let (Some(src), Some(dst)) = (self.source_under(s), self.dest_under(d)) {
                    return Some((src, dst));
                }
            }
        }
        children.iter().find_map(|&ch| self.find_move(ch))
    }

    /// Simulates moving one task from `src` to `dst`; returns the task.
    fn apply(&mut self, src: usize, dst: usize) -> Option<&TaskId> {
        let task = self.movable.get_mut(&(src as u32)).and_then(Vec::pop)?;
        let c = self.c;
        self.count[src] -= 1;
        self.total[src] -= 1;
        self.count[dst] += 1;
        self.total[dst] += 1;
        self.free_cpu[dst] -= c.cpu;
        self.free_mem[dst] -= c.mem;
        self.planned_in[dst] += 1;
        let tree = self.tree;
        for (i, delta) in [(src, -1i64), (dst, 1)] {
            let mut b = tree.leaf_of(i as u32);
            while b != NONE {
                let t = &mut self.tasks[b as usize];
                *t = t.saturating_add_signed(delta);
                b = tree.branches[b as usize].parent;
            }
        }
        hit(Probe::PlannerNodeVisits, 2);
        self.refile(src);
        self.refile(dst);
        Some(task)
    }
}

/// The engine state the planner reads, borrowed field by field.
pub(crate) struct View<'a> {
    pub(crate) cfg: &'a EngineConfig,
    pub(crate) now_ms: u64,
    pub(crate) strings: &'a Interner,
    pub(crate) nodes: &'a Nodes,
    pub(crate) services: &'a Services,
    pub(crate) tasks: &'a TaskIndex,
}

impl View<'_> {
    /// Proposes at most `max_moves` (capped at [`MAX_REBALANCE_MOVES`]) moves of tasks of
    /// `service` back to an even spread (see
    /// [`Engine::plan_rebalance`](crate::Engine::plan_rebalance)).
    pub(crate) fn plan(
        &self,
        service: &ServiceId,
        spec: &TaskSpec,
        max_moves: usize,
    ) -> Result<Vec<Move>, SchedError> {
        let max_moves = max_moves.min(MAX_REBALANCE_MOVES);
        let Some(svc) = self.services.get(service) else {
            return Ok(Vec::new());
        };
        let c = FilterChain::compile(spec, svc, self.strings)?;
        let nodes = self.nodes;
        let slots = nodes.slots.len();
        let mut count = vec![0u32; slots];
        let mut movable: FxHashMap<u32, Vec<&TaskId>> = FxHashMap::default();
        for (&i, &n) in self.services.counts(svc) {
            count[i as usize] = n;
            let mut ids: Vec<&TaskId> = self
                .tasks
                .on_node(i)
                .filter(|(_, r)| r.svc == svc)
                .map(|(id, _)| id)
                .collect();
            ids.sort_unstable();
            movable.insert(i, ids);
        }
        // The planner has no spec version: failures of every version of the service count.
        let mut fail = vec![0u8; slots];
        for i in nodes.with_failures() {
            let f = nodes.recent_failures(
                i as usize,
                svc,
                None,
                self.cfg.failure_window_ms,
                self.now_ms,
            );
            if f >= self.cfg.max_recent_failures {
                fail[i as usize] = f.min(255) as u8;
            }
        }
        let tree = PrefTree::build(nodes, self.strings, &c.prefs);
        let branches = tree.branches.len();
        let tasks = tree.branch_tasks(self.services.counts(svc).iter().map(|(&i, &n)| (i, n)));
        let mut sim = Sim {
            nodes,
            tree: &tree,
            c: &c,
            eligible: (0..slots)
                .map(|i| c.static_reject(nodes, i).is_none())
                .collect(),
            count,
            total: nodes.hot.iter().map(|h| h.total).collect(),
            free_cpu: nodes.hot.iter().map(|h| h.free_cpu).collect(),
            free_mem: nodes.hot.iter().map(|h| h.free_mem).collect(),
            planned_in: vec![0; slots],
            fail,
            movable,
            tasks,
            givers: vec![0; branches],
            takers: vec![0; branches],
            sources: vec![BTreeSet::new(); branches],
            dests: vec![BTreeSet::new(); branches],
            src_key: vec![None; slots],
            dst_key: vec![None; slots],
        };
        for i in 0..slots {
            if nodes.slots[i].alive {
                sim.refile(i);
            }
        }
        let mut moves = Vec::new();
        while moves.len() < max_moves {
            let Some((src, dst)) = sim.find_move(0) else {
                break;
            };
            let Some(task) = sim.apply(src, dst) else {
                break;
            };
            moves.push(Move {
                task: task.clone(),
                from: nodes.slots[src].spec.id.clone(),
                to: nodes.slots[dst].spec.id.clone(),
            });
        }
        Ok(moves)
    }
}
