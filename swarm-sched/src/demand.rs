//! Interned (CPU, memory, spec version) triples, so per-task records stay small.

use crate::hash::FxHashMap;

/// One distinct (CPU, memory) reservation with the spec version of the tasks holding it, and
/// how many accounted tasks hold it. The version is kept here (not in the task record) so
/// records stay 16 bytes; a failure is recorded against it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Demand {
    pub(crate) cpu: i64,
    pub(crate) mem: i64,
    pub(crate) spec_version: u64,
    refs: u64,
}

/// Interned reservations, reference-counted, so task records stay small.
#[derive(Debug, Clone, Default)]
pub(crate) struct Demands {
    index: FxHashMap<(i64, i64, u64), u32>,
    list: Vec<Demand>,
    free: Vec<u32>,
}

impl Demands {
    /// The slot of a reservation of tasks of spec version `spec_version`, created with no
    /// reference if new.
    pub(crate) fn intern(&mut self, cpu: i64, mem: i64, spec_version: u64) -> u32 {
        if let Some(&d) = self.index.get(&(cpu, mem, spec_version)) {
            return d;
        }
        let d = Demand {
            cpu,
            mem,
            spec_version,
            refs: 0,
        };
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
        self.index.insert((cpu, mem, spec_version), slot);
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
                self.index.remove(&(x.cpu, x.mem, x.spec_version));
                self.free.push(d);
            }
        }
    }

    /// Drops one reference.
    pub(crate) fn release(&mut self, d: u32) {
        if let Some(x) = self.list.get_mut(d as usize) {
            x.refs = x.refs.saturating_sub(1);
            if x.refs == 0 {
                self.index.remove(&(x.cpu, x.mem, x.spec_version));
                self.free.push(d);
            }
        }
    }
}
