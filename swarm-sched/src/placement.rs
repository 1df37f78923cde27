//! Placing a task group: filter, rank, assign, account.

use crate::config::{EngineConfig, Strategy};
use crate::demand::Demands;
use crate::error::SchedError;
use crate::filters::FilterChain;
use crate::hash::FxHashMap;
use crate::heap::{COUNT_KEY_MAX, MinHeap, SLOT_BITS, SLOT_MASK};
use crate::ids::TaskId;
use crate::index::LAST_BUCKET;
use crate::intern::Interner;
use crate::limits::{MAX_TASKS, MAX_TASKS_PER_GROUP};
use crate::node_table::{Extras, Nodes};
use crate::outcome::{Assignment, GroupOutcome, NamedClaim};
use crate::scratch::Scratch;
use crate::services::Services;
use crate::task::TaskGroup;
use crate::task_index::{TaskIndex, TaskRecord};
use crate::tree::PrefTree;
use crate::tree_cache::Trees;
use crate::unschedulable::Unschedulable;
use std::collections::BTreeSet;
use std::ops::Bound;

/// How many tasks ahead the placement loop touches the next task IDs, so that their
/// bytes (hashed for the task index) are in cache when their turn comes.
const TOUCH_AHEAD: usize = 16;

/// Nomad's bin-packing "free" score after adding one task: 10^freeCPU% + 10^freeMem%,
/// in [2, 20]; lower means fuller. Quantised to 24 bits.
fn binpack_cost(nodes: &Nodes, i: usize, c: &FilterChain) -> u64 {
    let h = &nodes.hot[i];
    let pct = |cap: i64, free: i64, req: i64| {
        if cap <= 0 {
            0.0
        } else {
            ((free - req) as f64 / cap as f64).clamp(0.0, 1.0)
        }
    };
    let total = 10f64.powf(pct(h.cap_cpu, h.free_cpu, c.cpu))
        + 10f64.powf(pct(h.cap_mem, h.free_mem, c.mem));
    (((total - 2.0) / 18.0).clamp(0.0, 1.0) * f64::from(0xff_ffff_u32)) as u64
}

/// Heap entry of node `i`: its ranking key in the high bits, its slot in the low
/// [`SLOT_BITS`] (the final tie-break). Smaller is better.
///
/// Spread: `failure rank (4 bits) | tasks of the service (20) | tasks in total (20)`.
/// Binpack: `failure rank (4) | bin-packing cost (24) | tasks of the service (16)`.
/// The failure rank is 0 below the configured maximum of recent failures, else the count
/// (saturated); counts saturate too, which changes nothing below a million tasks per node.
#[inline]
fn rank_key(
    nodes: &Nodes,
    svc_count: &[u32],
    fail: &[u8],
    c: &FilterChain,
    strategy: Strategy,
    i: usize,
) -> u64 {
    let fr = u64::from(fail[i].min(15)) << 60;
    let slot = i as u64 & SLOT_MASK;
    match strategy {
        Strategy::Spread => {
            let sc = u64::from(svc_count[i].min(COUNT_KEY_MAX));
            let total = u64::from(nodes.hot[i].total.min(COUNT_KEY_MAX));
            fr | (sc << 40) | (total << SLOT_BITS) | slot
        }
        Strategy::Binpack => {
            let sc = u64::from(svc_count[i].min(0xffff));
            fr | (binpack_cost(nodes, i, c) << 36) | (sc << SLOT_BITS) | slot
        }
    }
}

struct Run<'a> {
    nodes: &'a mut Nodes,
    tasks: &'a mut TaskIndex,
    extras: &'a mut FxHashMap<TaskId, Extras>,
    demand: u32,
    svc_count: &'a mut [u32],
    fail: &'a [u8],
    strings: &'a Interner,
    c: &'a FilterChain,
    strategy: Strategy,
    group: &'a [TaskId],
    cursor: usize,
    /// (task index in the group, node slot). IDs are cloned after the loop, where their
    /// reference-count increments do not wait behind the loop's scattered stores.
    out: Vec<(u32, u32)>,
    duplicates: Vec<TaskId>,
    claims: Vec<NamedClaim>,
    /// Per slot: `seq` once this group placed a task there.
    stamp: &'a mut [u32],
    seq: u32,
    /// Nodes this group placed tasks on (each once).
    moved: Vec<u32>,
}

/// What one placement step did.
enum Step {
    /// A task went to this node.
    Placed(u32),
    /// The next task was already accounted: skipped.
    Duplicate,
    /// No node can take a task.
    NoNode,
}

impl Run<'_> {
    fn heap_of(&self, nodes: &[u32]) -> MinHeap {
        let mut v = Vec::with_capacity(nodes.len());
        for &i in nodes {
            let iu = i as usize;
            if self.c.fits(self.nodes, iu, self.svc_count[iu]) {
                v.push(rank_key(
                    self.nodes,
                    self.svc_count,
                    self.fail,
                    self.c,
                    self.strategy,
                    iu,
                ));
            }
        }
        MinHeap::from_vec(v)
    }

    /// Places the next task on the best node of `heap`; the node leaves the heap when the
    /// next task would not fit there.
    #[inline]
    fn place_one(&mut self, heap: &mut MinHeap) -> Step {
        let Run {
            nodes,
            tasks,
            extras,
            demand,
            svc_count,
            fail,
            strings,
            c,
            strategy,
            group,
            cursor,
            out,
            duplicates,
            claims,
            stamp,
            seq,
            moved,
            ..
        } = self;
        let (c, strategy, group) = (*c, *strategy, *group);
        let Some(top) = heap.peek() else {
            return Step::NoNode;
        };
        let Some(task) = group.get(*cursor) else {
            return Step::NoNode;
        };
        if let Some(ahead) = group.get(*cursor + TOUCH_AHEAD) {
            // A plain load the CPU can overlap with this placement; the ID is hashed later.
            std::hint::black_box(ahead.as_str().as_bytes().first().copied());
        }
        let task_index = *cursor as u32;
        *cursor += 1;
        let Some(vacant) = tasks.vacant(task) else {
            duplicates.push(task.clone());
            return Step::Duplicate;
        };
        let idx = (top & SLOT_MASK) as u32;
        let i = idx as usize;
        let h = &mut nodes.hot[i];
        h.free_cpu -= c.cpu;
        h.free_mem -= c.mem;
        h.total += 1;
        svc_count[i] += 1;
        if stamp[i] != *seq {
            stamp[i] = *seq;
            moved.push(idx);
        }
        let has_extras = !(c.generic.is_empty() && c.ports.is_empty());
        if has_extras {
            let x = claim_extras(nodes, strings, c, i, task, claims);
            nodes.charge_extras(i, &x);
            extras.insert(task.clone(), x);
        }
        tasks.fill(
            vacant,
            task.clone(),
            TaskRecord {
                node: idx,
                svc: c.svc,
                demand: *demand,
                has_extras,
            },
        );
        out.push((task_index, idx));
        if c.fits(nodes, i, svc_count[i]) {
            heap.replace_top(rank_key(nodes, svc_count, fail, c, strategy, i));
        } else {
            heap.pop_top();
        }
        Step::Placed(idx)
    }

    /// Places up to `want` tasks on the nodes of one heap, best node first. Returns how many
    /// were placed.
    fn place_leaf(&mut self, heap: &mut MinHeap, want: usize) -> usize {
        let mut placed = 0;
        while placed < want && self.cursor < self.group.len() {
            match self.place_one(heap) {
                Step::Placed(_) => placed += 1,
                Step::Duplicate => {}
                Step::NoNode => break,
            }
        }
        placed
    }

    #[inline]
    fn key_of(&self, i: u32) -> u64 {
        rank_key(
            self.nodes,
            self.svc_count,
            self.fail,
            self.c,
            self.strategy,
            i as usize,
        )
    }

    /// The next node from the total-count index (fewest tasks first) that has no task of the
    /// service and no failure rank, passes the static filters and fits one task.
    fn pull(&self, cur: &mut (usize, usize)) -> Option<u32> {
        let index = &self.nodes.index;
        let c = self.c;
        while cur.0 < index.bucket_count() {
            while let Some(i) = index.at(cur.0, cur.1) {
                cur.1 += 1;
                let iu = i as usize;
                if self.svc_count[iu] > 0 || self.fail[iu] > 0 {
                    continue;
                }
                if !c.static_trivial && c.static_reject(self.nodes, iu).is_some() {
                    continue;
                }
                if c.fits(self.nodes, iu, 0) {
                    return Some(i);
                }
            }
            cur.0 += 1;
            cur.1 = 0;
        }
        None
    }

    /// Spread without preferences, without scanning every node: `heap` starts with the nodes
    /// that already run the service or have a failure rank (their keys are explicit); every
    /// other node has key (0, 0, total) and is pulled from the total-count index in that order,
    /// one at a time, so the heap always holds the best remaining candidate.
    fn place_lazy(&mut self, heap: &mut MinHeap, start_bucket: usize) {
        let mut cur = (start_bucket, 0);
        let mut frontier: Option<u32> = None;
        let mut exhausted = false;
        while self.cursor < self.group.len() {
            if frontier.is_none() && !exhausted {
                match self.pull(&mut cur) {
                    Some(i) if cur.0 >= LAST_BUCKET => {
                        // The last bucket is not ordered by total: take all of it, exactly keyed.
                        let mut next = Some(i);
                        while let Some(j) = next {
                            heap.push(self.key_of(j));
                            next = self.pull(&mut cur);
                        }
                        exhausted = true;
                    }
                    Some(i) => {
                        heap.push(self.key_of(i));
                        frontier = Some(i);
                    }
                    None => exhausted = true,
                }
            }
            match self.place_one(heap) {
                Step::Placed(i) if Some(i) == frontier => frontier = None,
                Step::Placed(_) | Step::Duplicate => {}
                Step::NoNode => break,
            }
        }
    }

    /// The next node of a leaf's `ready` set (usable nodes by total tasks, then slot) after
    /// `after` that has no task of the service and no failure rank, passes the static filters
    /// and fits one task. Such nodes all rank (0, 0, total, slot), so they come in ranking
    /// order.
    fn pull_ready(
        &self,
        ready: &BTreeSet<(u32, u32)>,
        after: &mut Option<(u32, u32)>,
    ) -> Option<u32> {
        let c = self.c;
        let range = match *after {
            None => ready.range(..),
            Some(k) => ready.range((Bound::Excluded(k), Bound::Unbounded)),
        };
        for &(total, i) in range {
            *after = Some((total, i));
            let iu = i as usize;
            if self.svc_count[iu] > 0 || self.fail[iu] > 0 {
                continue;
            }
            if !c.static_trivial && c.static_reject(self.nodes, iu).is_some() {
                continue;
            }
            if c.fits(self.nodes, iu, 0) {
                return Some(i);
            }
        }
        None
    }

    /// The placement state of leaf `b`, made when the group first reaches it. Spread: a heap
    /// of the leaf's seeds (nodes running the service or with a failure rank; their keys are
    /// explicit), the other nodes pulled from the leaf's `ready` set in ranking order.
    /// Binpack: a heap of every node of the leaf that passes the static filters.
    fn leaf_run(&self, tree: &PrefTree, leaves: &Leaves, b: u32) -> LeafRun {
        let heap = if leaves.lazy {
            let from = leaves.seeds.partition_point(|&(l, _)| l < b);
            let to = leaves.seeds.partition_point(|&(l, _)| l <= b);
            let seeds: Vec<u32> = leaves.seeds[from..to].iter().map(|&(_, i)| i).collect();
            self.heap_of(&seeds)
        } else {
            let c = self.c;
            let nodes: Vec<u32> = tree.branches[b as usize]
                .ready
                .iter()
                .map(|&(_, i)| i)
                .filter(|&i| c.static_reject(self.nodes, i as usize).is_none())
                .collect();
            self.heap_of(&nodes)
        };
        LeafRun {
            heap,
            after: None,
            frontier: None,
            exhausted: !leaves.lazy,
        }
    }

    /// Places up to `want` tasks on leaf `b`. Returns how many were placed.
    fn place_in_leaf(
        &mut self,
        tree: &PrefTree,
        leaves: &mut Leaves,
        b: u32,
        want: usize,
    ) -> usize {
        let bu = b as usize;
        if leaves.runs[bu].is_none() {
            let run = self.leaf_run(tree, leaves, b);
            leaves.runs[bu] = Some(run);
        }
        let Some(run) = leaves.runs[bu].as_mut() else {
            return 0;
        };
        let ready = &tree.branches[bu].ready;
        let mut placed = 0;
        while placed < want && self.cursor < self.group.len() {
            if run.frontier.is_none() && !run.exhausted {
                match self.pull_ready(ready, &mut run.after) {
                    Some(i) => {
                        run.heap.push(self.key_of(i));
                        run.frontier = Some(i);
                    }
                    None => run.exhausted = true,
                }
            }
            match self.place_one(&mut run.heap) {
                Step::Placed(i) => {
                    placed += 1;
                    if Some(i) == run.frontier {
                        run.frontier = None;
                    }
                }
                Step::Duplicate => {}
                Step::NoNode => break,
            }
        }
        placed
    }

    /// SwarmKit's division of `n` tasks among the branches of a preference tree: at each level
    /// the tasks are spread so that branch totals (existing tasks included, on every node of
    /// the branch whether or not it passes the filters) become as even as possible; a branch
    /// that cannot take its share is marked full and the rest is divided among the others.
    /// Branch counts (`tasks`, per branch) are kept live (SwarmKit reuses stale ones).
    fn place_subtree(
        &mut self,
        tree: &PrefTree,
        tasks: &mut [u64],
        leaves: &mut Leaves,
        b: u32,
        n: usize,
    ) -> usize {
        if tree.is_leaf(b) {
            let r = self.place_in_leaf(tree, leaves, b, n);
            tasks[b as usize] += r as u64;
            return r;
        }
        let children = &tree.branches[b as usize].children;
        let mut full = vec![false; children.len()];
        let mut full_count = 0;
        let mut scheduled = 0;
        while scheduled < n && full_count < children.len() && self.cursor < self.group.len() {
            let usable = (children.len() - full_count) as u64;
            let in_usable: u64 = children
                .iter()
                .zip(&full)
                .filter(|(_, f)| !**f)
                .map(|(&ch, _)| tasks[ch as usize])
                .sum();
            let total = in_usable + (n - scheduled) as u64;
            let desired = total / usable;
            let mut rem = total % usable;
            for (ci, &ch) in children.iter().enumerate() {
                if full[ci] || scheduled >= n {
                    continue;
                }
                let t = tasks[ch as usize];
                if t < desired || (t == desired && rem > 0) {
                    let extra = u64::from(rem > 0);
                    let to_assign = ((desired - t + extra) as usize).min(n - scheduled);
                    let res = self.place_subtree(tree, tasks, leaves, ch, to_assign);
                    if res < to_assign {
                        full[ci] = true;
                        full_count += 1;
                    } else {
                        rem = rem.saturating_sub(1);
                    }
                    scheduled += res;
                }
            }
        }
        tasks[b as usize] += scheduled as u64;
        scheduled
    }
}

/// Placement state of one leaf during a group.
struct LeafRun {
    heap: MinHeap,
    /// Spread: the last entry of the leaf's `ready` set read.
    after: Option<(u32, u32)>,
    /// Spread: the node last pulled from `ready`, while it is in the heap unplaced on.
    frontier: Option<u32>,
    /// Nothing more to pull (always, for binpack).
    exhausted: bool,
}

/// The leaves' placement states for one group, made as the division reaches them.
struct Leaves {
    /// Per branch (leaves only): its state once reached.
    runs: Vec<Option<LeafRun>>,
    /// Spread: (leaf, slot) of the nodes running the service or with a failure rank that
    /// pass the static filters, sorted.
    seeds: Vec<(u32, u32)>,
    /// Spread (lazy leaves) rather than binpack (eager).
    lazy: bool,
}

/// Picks the generic resources for one task on node `i`: named items (lowest free items
/// first, in item order) or discrete units; plus the host ports.
fn claim_extras(
    nodes: &Nodes,
    strings: &Interner,
    c: &FilterChain,
    i: usize,
    task: &TaskId,
    claims: &mut Vec<NamedClaim>,
) -> Extras {
    let mut x = Extras {
        ports: c.ports.clone(),
        ..Extras::default()
    };
    let slot = &nodes.slots[i];
    for &(kind, count, _) in &c.generic {
        match slot.named_cap.iter().find(|k| k.kind == kind) {
            Some(nk) => {
                let mut got = 0;
                for &item in &nk.items {
                    if got == count {
                        break;
                    }
                    if !slot.named_claimed.contains(&(kind, item)) {
                        x.named.push((kind, item));
                        claims.push(NamedClaim {
                            task: task.clone(),
                            kind: strings.resolve(kind).to_owned(),
                            item: strings.resolve(item).to_owned(),
                        });
                        got += 1;
                    }
                }
            }
            None => x.discrete.push((kind, count)),
        }
    }
    x
}

/// The engine state one placement reads and charges, borrowed field by field.
pub(crate) struct State<'a> {
    pub(crate) cfg: &'a EngineConfig,
    pub(crate) now_ms: u64,
    pub(crate) strings: &'a Interner,
    pub(crate) nodes: &'a mut Nodes,
    pub(crate) services: &'a mut Services,
    pub(crate) tasks: &'a mut TaskIndex,
    pub(crate) demands: &'a mut Demands,
    pub(crate) extras: &'a mut FxHashMap<TaskId, Extras>,
    pub(crate) scratch: &'a mut Scratch,
    pub(crate) trees: &'a mut Trees,
}

impl State<'_> {
    /// Places every task of a group it can, charging the chosen nodes, and explains the rest
    /// (see [`Engine::schedule`](crate::Engine::schedule)).
    pub(crate) fn schedule(self, group: TaskGroup) -> Result<GroupOutcome, SchedError> {
        let State {
            cfg,
            now_ms,
            strings,
            nodes,
            services,
            tasks,
            demands,
            extras,
            scratch,
            trees,
        } = self;
        if group.tasks.len() > MAX_TASKS_PER_GROUP {
            return Err(SchedError::LimitExceeded {
                field: format!("group {}: tasks", group.service),
                value: group.tasks.len() as u64,
                limit: MAX_TASKS_PER_GROUP as u64,
            });
        }
        if tasks.len() + group.tasks.len() > MAX_TASKS {
            return Err(SchedError::LimitExceeded {
                field: "accounted tasks".to_owned(),
                value: (tasks.len() + group.tasks.len()) as u64,
                limit: MAX_TASKS as u64,
            });
        }
        let svc = services.intern(&group.service);
        let c = FilterChain::compile(&group.spec, svc, strings)?;

        // Load this service's per-node counts and failure ranks into the dense scratch arrays.
        for (&node, &n) in services.counts(svc) {
            scratch.svc[node as usize] = n;
        }
        let failing: Vec<u32> = nodes.with_failures().collect();
        let max_failures = cfg.max_recent_failures;
        for &i in &failing {
            let f = nodes.recent_failures(
                i as usize,
                svc,
                Some(group.spec_version),
                cfg.failure_window_ms,
                now_ms,
            );
            scratch.fail[i as usize] = if f >= max_failures {
                f.min(255) as u8
            } else {
                0
            };
        }

        let seq = scratch.next_group();
        let slots = nodes.slots.len();
        // Spread reads the nodes that run nothing of the service lazily, fewest tasks first:
        // from the total-count index without preferences, from each leaf's ordered set with
        // them. Binpack applies the static filters once per node for the whole group.
        let lazy = cfg.strategy == Strategy::Spread;
        let tree = if c.prefs.is_empty() {
            None
        } else {
            Some(trees.find_or_build(nodes, strings, &c.prefs))
        };
        let mut eligible: Vec<u32> = Vec::new();
        if lazy {
            // Exactly the nodes the lazy readers skip: those running the service and those
            // with a failure rank for it (each node must be in a heap at most once).
            let svc_nodes = services.counts(svc).keys().copied();
            let ranked = failing
                .iter()
                .copied()
                .filter(|&i| scratch.fail[i as usize] > 0);
            eligible.extend(svc_nodes.chain(ranked));
            eligible.sort_unstable();
            eligible.dedup();
            eligible.retain(|&i| c.static_reject(nodes, i as usize).is_none());
        } else if tree.is_some() {
            // Binpack with preferences: each leaf filters its own nodes when first reached.
        } else if c.static_trivial {
            eligible.reserve(slots);
            eligible.extend((0..slots as u32).filter(|&i| nodes.hot[i as usize].usable));
        } else {
            eligible.reserve(slots);
            eligible.extend(
                (0..slots as u32).filter(|&i| c.static_reject(nodes, i as usize).is_none()),
            );
        }
        let start_bucket = nodes.index.advance_low();

        tasks.reserve(group.tasks.len());
        let demand = demands.intern(c.cpu, c.mem, group.spec_version);
        let mut run = Run {
            nodes,
            tasks,
            extras,
            demand,
            svc_count: &mut scratch.svc,
            fail: &scratch.fail,
            strings,
            c: &c,
            strategy: cfg.strategy,
            group: &group.tasks,
            cursor: 0,
            out: Vec::with_capacity(group.tasks.len()),
            duplicates: Vec::new(),
            claims: Vec::new(),
            stamp: &mut scratch.stamp,
            seq,
            moved: Vec::new(),
        };
        match tree {
            None if lazy => {
                let mut heap = run.heap_of(&eligible);
                run.place_lazy(&mut heap, start_bucket);
            }
            None => {
                let mut heap = run.heap_of(&eligible);
                run.place_leaf(&mut heap, group.tasks.len());
            }
            Some(k) => {
                let tree = trees.get(k);
                let mut branch_tasks =
                    tree.branch_tasks(services.counts(svc).iter().map(|(&i, &n)| (i, n)));
                let mut seeds: Vec<(u32, u32)> =
                    eligible.iter().map(|&i| (tree.leaf_of(i), i)).collect();
                seeds.sort_unstable();
                let mut leaves = Leaves {
                    runs: (0..tree.branches.len()).map(|_| None).collect(),
                    seeds,
                    lazy,
                };
                // One pass suffices: it ends when every task is placed (or skipped as a
                // duplicate) or when every branch is full.
                run.place_subtree(tree, &mut branch_tasks, &mut leaves, 0, group.tasks.len());
            }
        }
        let Run {
            cursor,
            out,
            mut duplicates,
            claims,
            moved,
            ..
        } = run;
        drop(eligible);
        demands.add_refs(demand, out.len() as u64);
        let ids = &nodes.ids;
        let assignments: Vec<Assignment> = out
            .into_iter()
            .map(|(t, slot)| Assignment {
                task: group.tasks[t as usize].clone(),
                node: ids[slot as usize].clone(),
            })
            .collect();

        // Tasks left when every node is full; those the engine already accounts are not
        // "unplaced" but duplicates.
        let mut unplaced: Vec<TaskId> = Vec::new();
        for t in &group.tasks[cursor..] {
            if tasks.contains(t) {
                duplicates.push(t.clone());
            } else {
                unplaced.push(t.clone());
            }
        }
        let reason = if unplaced.is_empty() {
            None
        } else {
            let verdicts: Vec<_> = (0..slots)
                .filter(|&i| nodes.slots[i].alive)
                .map(|i| c.verdict(nodes, i, scratch.svc[i]))
                .collect();
            Some(Unschedulable::from_verdicts(&group.spec, verdicts))
        };

        // Write the counts back, re-bucket the nodes used, clear the scratch arrays.
        let counts = services.counts_mut(svc);
        for &i in &moved {
            counts.insert(i, scratch.svc[i as usize]);
            nodes.index.set(i, nodes.hot[i as usize].total);
            trees.sync(nodes, i);
        }
        for &i in counts.keys() {
            scratch.svc[i as usize] = 0;
        }
        for &i in &failing {
            scratch.fail[i as usize] = 0;
        }
        Ok(GroupOutcome {
            service: group.service,
            spec_version: group.spec_version,
            assignments,
            unplaced,
            reason,
            already_placed: duplicates,
            claims,
        })
    }
}
