//! The node table: every node's state, by slot. Hot fields read on every placement are kept
//! apart from the rest (see [`Slot`]); the table adds, updates and removes nodes, and charges
//! and releases reservations. Filters, ranking and the planner read it; they never see the
//! whole engine.

use crate::checks::to_i64;
use crate::demand::Demand;
use crate::hash::FxHashMap;
use crate::ids::NodeId;
use crate::index::TotalIndex;
use crate::intern::Sym;
use crate::limits::MAX_FAILURE_RECORDS_PER_NODE;
use crate::node::{Availability, Readiness};
use crate::node_slot::Slot;
use crate::task_index::TaskRecord;
use std::collections::BTreeSet;

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

/// Extra reservations of a task beyond CPU and memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    pub(crate) discrete: Vec<(Sym, i64)>,
    pub(crate) named: Vec<(Sym, Sym)>,
    pub(crate) ports: Vec<u32>,
}

/// All node state, by slot. A removed node's slot stays (not alive) until a new node
/// reuses it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nodes {
    pub(crate) hot: Vec<Hot>,
    /// Node IDs by slot, dense (read once per placement).
    pub(crate) ids: Vec<NodeId>,
    pub(crate) slots: Vec<Slot>,
    /// Usable nodes by total task count.
    pub(crate) index: TotalIndex,
    by_id: FxHashMap<NodeId, u32>,
    /// Slots of removed nodes, reused first.
    free: Vec<u32>,
    live: usize,
    /// Slots with at least one failure record.
    with_failures: BTreeSet<u32>,
}

fn usable(slot: &Slot) -> bool {
    slot.spec.readiness == Readiness::Ready && slot.spec.availability == Availability::Active
}

impl Nodes {
    /// Number of nodes held.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The slot of a node.
    pub(crate) fn get(&self, id: &NodeId) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Whether a node is held.
    pub(crate) fn contains(&self, id: &NodeId) -> bool {
        self.by_id.contains_key(id)
    }

    /// Adds a node (the caller checked it is new), reusing a free slot first, with nothing
    /// reserved. Returns its slot.
    pub(crate) fn insert(&mut self, slot: Slot) -> u32 {
        let res = &slot.spec.resources;
        let hot = Hot {
            cap_cpu: to_i64(res.nano_cpus),
            cap_mem: to_i64(res.memory_bytes),
            free_cpu: to_i64(res.nano_cpus),
            free_mem: to_i64(res.memory_bytes),
            total: 0,
            usable: usable(&slot),
        };
        let id = slot.spec.id.clone();
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                self.hot[i as usize] = hot;
                self.ids[i as usize] = id.clone();
                i
            }
            None => {
                self.slots.push(slot);
                self.hot.push(hot);
                self.ids.push(id.clone());
                (self.slots.len() - 1) as u32
            }
        };
        self.by_id.insert(id, i);
        self.live += 1;
        if hot.usable {
            self.index.insert(i, 0);
        }
        i
    }

    /// Replaces the spec of node `i` by `slot`'s, keeping what its tasks reserve and its
    /// failure records. A smaller capacity can leave the node over-committed.
    pub(crate) fn update(&mut self, i: u32, mut slot: Slot) {
        let i = i as usize;
        let old = &self.hot[i];
        // Exact: by the bounds of `crate::limits`, cap <= 2^50 and free >= -2^62.
        let used_cpu = old.cap_cpu.saturating_sub(old.free_cpu);
        let used_mem = old.cap_mem.saturating_sub(old.free_mem);
        let total = old.total;
        let usable = usable(&slot);
        let cap_cpu = to_i64(slot.spec.resources.nano_cpus);
        let cap_mem = to_i64(slot.spec.resources.memory_bytes);
        let prev = &mut self.slots[i];
        slot.discrete_used = std::mem::take(&mut prev.discrete_used);
        slot.named_claimed = std::mem::take(&mut prev.named_claimed);
        slot.task_ports = std::mem::take(&mut prev.task_ports);
        slot.failures = std::mem::take(&mut prev.failures);
        *prev = slot;
        if usable {
            self.index.insert(i as u32, total);
        } else {
            self.index.remove(i as u32);
        }
        self.hot[i] = Hot {
            cap_cpu,
            cap_mem,
            free_cpu: cap_cpu.saturating_sub(used_cpu),
            free_mem: cap_mem.saturating_sub(used_mem),
            total,
            usable,
        };
    }

    /// Removes node `i` (the caller has forgotten its tasks); its slot becomes free.
    pub(crate) fn remove(&mut self, i: u32) {
        let idx = i as usize;
        self.by_id.remove(&self.ids[idx]);
        self.index.remove(i);
        self.slots[idx].alive = false;
        self.slots[idx].failures.clear();
        self.with_failures.remove(&i);
        self.hot[idx] = Hot::default();
        self.free.push(i);
        self.live -= 1;
    }

    /// Slots with at least one failure record, in slot order.
    pub(crate) fn with_failures(&self) -> impl Iterator<Item = u32> + '_ {
        self.with_failures.iter().copied()
    }

    /// Records a failure of spec version `version` of service `svc` at `at_ms` on node `i`,
    /// dropping the oldest record past [`MAX_FAILURE_RECORDS_PER_NODE`].
    pub(crate) fn record_failure(&mut self, i: u32, svc: u32, version: u64, at_ms: u64) {
        let f = &mut self.slots[i as usize].failures;
        if f.len() >= MAX_FAILURE_RECORDS_PER_NODE {
            f.pop_front();
        }
        f.push_back((svc, version, at_ms));
        self.with_failures.insert(i);
    }

    /// Forgets every failure record of service `svc` (its slot is about to be reused).
    pub(crate) fn forget_failures_of(&mut self, svc: u32) {
        let nodes: Vec<u32> = self.with_failures.iter().copied().collect();
        for i in nodes {
            let f = &mut self.slots[i as usize].failures;
            f.retain(|&(s, _, _)| s != svc);
            if f.is_empty() {
                self.with_failures.remove(&i);
            }
        }
    }

    /// Failures of service `svc` on node `i` less than `window_ms` old at `now_ms`: of spec
    /// version `version` (SwarmKit keys failures by service and spec version), or of every
    /// version with `None`.
    pub(crate) fn recent_failures(
        &self,
        i: usize,
        svc: u32,
        version: Option<u64>,
        window_ms: u64,
        now_ms: u64,
    ) -> u32 {
        self.slots[i]
            .failures
            .iter()
            .filter(|&&(s, v, at)| {
                s == svc
                    && version.is_none_or(|want| want == v)
                    && at.saturating_add(window_ms) > now_ms
            })
            .count() as u32
    }

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
        h.free_cpu = h.free_cpu.saturating_add(demand.cpu);
        h.free_mem = h.free_mem.saturating_add(demand.mem);
        h.total = h.total.saturating_sub(1);
        if let Some(x) = extras {
            let slot = &mut self.slots[i];
            for &(kind, n) in &x.discrete {
                if let Some(u) = slot.discrete_used.iter_mut().find(|u| u.0 == kind) {
                    u.1 = u.1.saturating_sub(n);
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
                Some(u) => u.1 = u.1.saturating_add(n),
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
        cap.saturating_sub(used)
    }
}
