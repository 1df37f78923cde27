//! The set the leader last sent each node, for answering with changes only
//! ([`SentTasks`]).
//!
//! An entry is kept per node (not per call): an agent's next call says which generation it
//! holds, and the entry answers it with changes only when that is the generation last sent.
//! A lost answer, an agent restarted (it knows no generation), another leader: the
//! generations differ and the node gets its whole set, so an entry is never trusted beyond
//! what the agent confirms.

use crate::manager::dispatcher::SentTasks;
use crate::model::NodeId;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Most nodes remembered. Worst case: this many entries, each of at most
/// [`MAX_ASSIGNED_TASKS`](crate::manager::dispatcher::MAX_ASSIGNED_TASKS) task ids with a
/// version, together one entry per task of the cluster. When full, every entry is dropped
/// (each node then gets its whole set once more).
pub(crate) const MAX_SENT_TASK_SETS: usize = 65_536;

/// Every node's last sent set (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct SentTaskTable {
    sets: Mutex<HashMap<NodeId, SentTasks>>,
}

impl SentTaskTable {
    /// Takes `node`'s entry out (put a new one back with [`SentTaskTable::record`]).
    pub(crate) fn take(&self, node: &NodeId) -> Option<SentTasks> {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node)
    }

    /// Records the set last sent to `node`.
    pub(crate) fn record(&self, node: &NodeId, sent: SentTasks) {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        if sets.len() >= MAX_SENT_TASK_SETS && !sets.contains_key(node) {
            sets.clear();
        }
        sets.insert(node.clone(), sent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Version;

    #[test]
    fn an_entry_is_taken_once_and_recorded_again() {
        let table = SentTaskTable::default();
        let n1 = NodeId::new("n1");
        assert_eq!(table.take(&n1), None);
        let sent = SentTasks {
            generation: 9,
            tasks: [("t1".into(), Version(3))].into_iter().collect(),
        };
        table.record(&n1, sent.clone());
        assert_eq!(table.take(&NodeId::new("n2")), None);
        assert_eq!(table.take(&n1), Some(sent));
        assert_eq!(table.take(&n1), None, "taken");
    }
}
