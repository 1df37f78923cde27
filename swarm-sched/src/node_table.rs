//! The engine's per-node state: hot fields read on every placement, the rest read by
//! filters and deltas, and the operations that charge and release reservations.

use crate::demand::Demand;
use crate::hash::FxHashMap;
use crate::ids::NodeId;
use crate::index::TotalIndex;
use crate::intern::Sym;
use crate::node::NodeSpec;
use crate::task_index::TaskRecord;
use std::collections::{BTreeSet, VecDeque};

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
