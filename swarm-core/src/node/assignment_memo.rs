//! What the leader last found about each node's assignment set, kept across the node's
//! assignment calls.
//!
//! An agent calls for its assignments again as soon as the previous call answered, and at
//! least every few heartbeat periods. Computing a node's set reads every task on the node
//! (a hundred lookups in a state of 100,000 tasks); with a thousand agents that is most of
//! the leader's time while status reports stream in, although a report changes nothing an
//! agent is shown. A [`AssignmentMemos`] entry says: at the state's change counter `seq`, the
//! set of the node was found equal to what an agent knowing `generation` and holding `held`
//! already has. A later call with the same `generation` and `held` need not compute it again
//! while [`ClusterState::node_changed_since`] says nothing of the node changed since `seq`
//! (the same rule a single call applies while it waits).
//!
//! [`ClusterState::node_changed_since`]: crate::manager::cluster_state::ClusterState::node_changed_since

use crate::manager::dispatcher::HeldItem;
use crate::model::NodeId;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Most nodes remembered. Worst case: this many entries of a node id, two counters and the
/// held items the node listed (bounded by the dispatcher's `MAX_HELD_ITEMS`); when full, every
/// entry is dropped (each node then computes its set once more).
pub(crate) const MAX_ASSIGNMENT_MEMOS: usize = 65_536;

/// One node's entry (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Memo {
    seq: u64,
    generation: u64,
    held: Vec<HeldItem>,
}

/// The entries of every node (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct AssignmentMemos {
    memos: Mutex<HashMap<NodeId, Memo>>,
}

impl AssignmentMemos {
    /// The change counter at which `node`'s set was found equal to what an agent knowing
    /// `generation` and holding `held` has, if it was.
    pub(crate) fn unchanged_at(
        &self,
        node: &NodeId,
        generation: u64,
        held: &[HeldItem],
    ) -> Option<u64> {
        let memos = self.memos.lock().unwrap_or_else(PoisonError::into_inner);
        let memo = memos.get(node)?;
        (memo.generation == generation && memo.held == held).then_some(memo.seq)
    }

    /// Records that at change counter `seq`, `node`'s set was equal to what an agent knowing
    /// `generation` and holding `held` has.
    pub(crate) fn record_unchanged(
        &self,
        node: &NodeId,
        seq: u64,
        generation: u64,
        held: &[HeldItem],
    ) {
        let mut memos = self.memos.lock().unwrap_or_else(PoisonError::into_inner);
        if memos.len() >= MAX_ASSIGNMENT_MEMOS && !memos.contains_key(node) {
            memos.clear();
        }
        memos.insert(
            node.clone(),
            Memo {
                seq,
                generation,
                held: held.to_vec(),
            },
        );
    }

    /// Forgets `node`'s entry (its set was found changed).
    pub(crate) fn forget(&self, node: &NodeId) {
        self.memos
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::dispatcher::ItemId;
    use crate::model::Version;

    #[test]
    fn an_entry_answers_only_the_same_generation_and_held_items() {
        let memos = AssignmentMemos::default();
        let n1 = NodeId::new("n1");
        let held = [HeldItem {
            item: ItemId::Config("c".into()),
            version: Version(3),
        }];
        assert_eq!(memos.unchanged_at(&n1, 7, &held), None);
        memos.record_unchanged(&n1, 41, 7, &held);
        assert_eq!(memos.unchanged_at(&n1, 7, &held), Some(41));
        assert_eq!(
            memos.unchanged_at(&n1, 8, &held),
            None,
            "another generation"
        );
        assert_eq!(memos.unchanged_at(&n1, 7, &[]), None, "other held items");
        assert_eq!(memos.unchanged_at(&NodeId::new("n2"), 7, &held), None);
        memos.record_unchanged(&n1, 50, 7, &held);
        assert_eq!(memos.unchanged_at(&n1, 7, &held), Some(50));
        memos.forget(&n1);
        assert_eq!(memos.unchanged_at(&n1, 7, &held), None);
    }
}
