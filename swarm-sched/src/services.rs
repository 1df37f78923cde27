//! The services the engine has seen, as dense slots, with their tasks per node.

use crate::hash::FxHashMap;
use crate::ids::ServiceId;

/// Tasks of one service per node: node slot → count (entries are > 0).
pub(crate) type Counts = FxHashMap<u32, u32>;

/// Service ID → slot, and per slot the service's task counts per node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Services {
    index: FxHashMap<ServiceId, u32>,
    counts: Vec<Counts>,
    /// Service slots freed by `ServiceRemoved`, reused first.
    free: Vec<u32>,
}

impl Services {
    /// The slot of a service seen before.
    pub(crate) fn get(&self, id: &ServiceId) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The slot of a service, given one (a freed one first) if it is new.
    pub(crate) fn intern(&mut self, id: &ServiceId) -> u32 {
        if let Some(&s) = self.index.get(id) {
            return s;
        }
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.counts.push(Counts::default());
                (self.counts.len() - 1) as u32
            }
        };
        self.index.insert(id.clone(), s);
        s
    }

    /// Tasks of service slot `svc` per node.
    pub(crate) fn counts(&self, svc: u32) -> &Counts {
        &self.counts[svc as usize]
    }

    /// Tasks of service slot `svc` per node, to change.
    pub(crate) fn counts_mut(&mut self, svc: u32) -> &mut Counts {
        &mut self.counts[svc as usize]
    }

    /// Forgets a service (whose tasks the caller has released) and frees its slot.
    pub(crate) fn remove(&mut self, id: &ServiceId) {
        if let Some(s) = self.index.remove(id) {
            self.counts[s as usize] = Counts::default();
            self.free.push(s);
        }
    }
}
