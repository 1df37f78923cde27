//! Rebalance planner: moves that bring a service back to an even spread.

use crate::config::EngineConfig;
use crate::error::SchedError;
use crate::filters::FilterChain;
use crate::hash::FxHashMap;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::intern::{Interner, NO_SYM};
use crate::limits::MAX_REBALANCE_MOVES;
use crate::node_table::Nodes;
use crate::services::Services;
use crate::task::TaskSpec;
use crate::task_index::TaskIndex;
use crate::tree::Tree;

/// One proposed move: stop `task` on `from`, start a replacement on `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Move {
    /// The task to move (the one with the greatest ID on `from`).
    pub task: TaskId,
    /// Where it runs now.
    pub from: NodeId,
    /// Where its replacement should go.
    pub to: NodeId,
}

/// Local, simulated view the planner changes as it plans.
struct Sim<'a> {
    nodes: &'a Nodes,
    c: &'a FilterChain,
    count: Vec<u32>,
    total: Vec<u32>,
    free_cpu: Vec<i64>,
    free_mem: Vec<i64>,
    planned_in: Vec<u32>,
    fail: Vec<u8>,
}

impl Sim<'_> {
    fn can_receive(&self, i: usize) -> bool {
        let c = self.c;
        if (c.cpu > 0 && self.free_cpu[i] < c.cpu) || (c.mem > 0 && self.free_mem[i] < c.mem) {
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
                    < count
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

    fn subtree_count(&self, tree: &Tree, b: usize) -> u64 {
        let br = &tree.branches[b];
        match br.leaf {
            Some(l) => tree.leaves[l as usize]
                .iter()
                .map(|&i| u64::from(self.count[i as usize]))
                .sum(),
            None => br
                .children
                .iter()
                .map(|&ch| self.subtree_count(tree, ch as usize))
                .sum(),
        }
    }

    fn for_each_node(tree: &Tree, b: usize, f: &mut dyn FnMut(usize)) {
        let br = &tree.branches[b];
        match br.leaf {
            Some(l) => tree.leaves[l as usize].iter().for_each(|&i| f(i as usize)),
            None => br
                .children
                .iter()
                .for_each(|&ch| Self::for_each_node(tree, ch as usize, f)),
        }
    }

    /// The most loaded node holding tasks under `b`: most tasks of the service, then most
    /// tasks in total, then lowest slot.
    fn source_in(&self, tree: &Tree, b: usize) -> Option<usize> {
        let mut best: Option<usize> = None;
        Self::for_each_node(tree, b, &mut |i| {
            if self.count[i] == 0 {
                return;
            }
            let better = match best {
                None => true,
                Some(j) => (self.count[i], self.total[i]) > (self.count[j], self.total[j]),
            };
            if better {
                best = Some(i);
            }
        });
        best
    }

    /// The best node under `b` that can take one more task, ranked as placement ranks them.
    fn dest_in(&self, tree: &Tree, b: usize) -> Option<usize> {
        let mut best: Option<usize> = None;
        Self::for_each_node(tree, b, &mut |i| {
            if !self.can_receive(i) {
                return;
            }
            let better = match best {
                None => true,
                Some(j) => {
                    (self.fail[i], self.count[i], self.total[i])
                        < (self.fail[j], self.count[j], self.total[j])
                }
            };
            if better {
                best = Some(i);
            }
        });
        best
    }

    /// The first imbalance found top-down: between sibling branches whose task counts differ
    /// by two or more, else inside a branch; in a leaf, between nodes.
    fn find_move(&self, tree: &Tree, b: usize) -> Option<(usize, usize)> {
        let br = &tree.branches[b];
        if br.leaf.is_some() {
            let src = self.source_in(tree, b)?;
            let dst = self.dest_in(tree, b)?;
            return (self.count[src] >= self.count[dst] + 2).then_some((src, dst));
        }
        let counts: Vec<u64> = br
            .children
            .iter()
            .map(|&ch| self.subtree_count(tree, ch as usize))
            .collect();
        let mut src_child: Option<usize> = None;
        let mut dst_child: Option<(usize, usize)> = None;
        for (k, &ch) in br.children.iter().enumerate() {
            if counts[k] > 0 && src_child.is_none_or(|s| counts[k] > counts[s]) {
                src_child = Some(k);
            }
            if dst_child.is_none_or(|(d, _)| counts[k] < counts[d]) {
                if let Some(node) = self.dest_in(tree, ch as usize) {
                    dst_child = Some((k, node));
                }
            }
        }
        if let (Some(s), Some((d, dst))) = (src_child, dst_child) {
            if counts[s] >= counts[d] + 2 {
                if let Some(src) = self.source_in(tree, br.children[s] as usize) {
                    return Some((src, dst));
                }
            }
        }
        br.children
            .iter()
            .find_map(|&ch| self.find_move(tree, ch as usize))
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
        let slots = self.nodes.slots.len();
        let mut count = vec![0u32; slots];
        for (&i, &n) in self.services.counts(svc) {
            count[i as usize] = n;
        }
        let mut fail = vec![0u8; slots];
        for i in self.nodes.with_failures() {
            let f = self.nodes.recent_failures(
                i as usize,
                svc,
                self.cfg.failure_window_ms,
                self.now_ms,
            );
            if f >= self.cfg.max_recent_failures {
                fail[i as usize] = f.min(255) as u8;
            }
        }
        let eligible: Vec<u32> = (0..slots as u32)
            .filter(|&i| c.static_reject(self.nodes, i as usize).is_none())
            .collect();
        let tree = Tree::build(self.nodes, self.strings, &c.prefs, &eligible, |i| {
            u64::from(count[i as usize])
        });
        let mut on_node: FxHashMap<u32, Vec<&TaskId>> = FxHashMap::default();
        for (id, r) in self.tasks.iter() {
            if r.svc == svc {
                on_node.entry(r.node).or_default().push(id);
            }
        }
        for v in on_node.values_mut() {
            v.sort_unstable();
        }
        let mut sim = Sim {
            nodes: self.nodes,
            c: &c,
            count,
            total: self.nodes.hot.iter().map(|h| h.total).collect(),
            free_cpu: self.nodes.hot.iter().map(|h| h.free_cpu).collect(),
            free_mem: self.nodes.hot.iter().map(|h| h.free_mem).collect(),
            planned_in: vec![0; slots],
            fail,
        };
        let mut moves = Vec::new();
        while moves.len() < max_moves {
            let Some((src, dst)) = sim.find_move(&tree, 0) else {
                break;
            };
            let Some(task) = on_node.get_mut(&(src as u32)).and_then(Vec::pop) else {
                break;
            };
            sim.count[src] -= 1;
            sim.total[src] -= 1;
            sim.count[dst] += 1;
            sim.total[dst] += 1;
            sim.free_cpu[dst] -= c.cpu;
            sim.free_mem[dst] -= c.mem;
            sim.planned_in[dst] += 1;
            moves.push(Move {
                task: task.clone(),
                from: self.nodes.slots[src].spec.id.clone(),
                to: self.nodes.slots[dst].spec.id.clone(),
            });
        }
        Ok(moves)
    }
}
